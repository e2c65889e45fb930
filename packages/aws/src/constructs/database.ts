// Aurora MySQL: a writer and readers spread over the zones, encrypted with the region's key, IAM auth,
// backups kept backup.retentionDays, deletion protection, a final snapshot, log exports, enhanced monitoring,
// parameter groups that require TLS. With two regions the primary owns an Aurora Global Database and the
// secondary region's cluster joins it (read-only, promotable on failover); the API writes through the global
// writer endpoint in both regions.
import { Construct } from 'constructs';
import { Token } from 'cdktn';
import { RdsGlobalCluster } from '@cdktn/provider-aws/lib/rds-global-cluster/index.js';
import { DataAwsRdsGlobalCluster } from '@cdktn/provider-aws/lib/data-aws-rds-global-cluster/index.js';
import { RdsCluster } from '@cdktn/provider-aws/lib/rds-cluster/index.js';
import { RdsClusterInstance } from '@cdktn/provider-aws/lib/rds-cluster-instance/index.js';
import { RdsClusterParameterGroup } from '@cdktn/provider-aws/lib/rds-cluster-parameter-group/index.js';
import { DbParameterGroup } from '@cdktn/provider-aws/lib/db-parameter-group/index.js';
import { DbSubnetGroup } from '@cdktn/provider-aws/lib/db-subnet-group/index.js';
import { IamRole } from '@cdktn/provider-aws/lib/iam-role/index.js';
import { CloudwatchLogGroup } from '@cdktn/provider-aws/lib/cloudwatch-log-group/index.js';
import { IamRolePolicyAttachment } from '@cdktn/provider-aws/lib/iam-role-policy-attachment/index.js';
import { APP_DB_USER, DB_LOG_EXPORTS, DB_MONITORING_INTERVAL_S } from '../settings.js';
import { assumeRolePolicy, type RegionContext } from './common.js';
import { GeneratedSecret } from './secret.js';
import type { Network } from './network.js';

const ENGINE = 'aurora-mysql';
/** A restored cluster: what it was created from never changes it again (removing database.restore replaces nothing). */
const RESTORED_KEEP = ['snapshot_identifier', 'restore_to_point_in_time', 'global_cluster_identifier', 'database_name', 'master_username'];

type Restore = NonNullable<RegionContext['def']['database']['restore']>;

/** database.restore as the cluster's arguments: a snapshot, or a point in time of another cluster (copy-on-write clone). */
export function restoreArguments(r: Restore): { snapshotIdentifier: string } | { restoreToPointInTime: { sourceClusterIdentifier: string; restoreType: string; useLatestRestorableTime?: boolean; restoreToTime?: string } } {
  if ('snapshot' in r) return { snapshotIdentifier: r.snapshot };
  const { sourceCluster, time } = r.pointInTime;
  return {
    restoreToPointInTime: {
      sourceClusterIdentifier: sourceCluster,
      restoreType: 'copy-on-write',
      ...(time === 'latest' ? { useLatestRestorableTime: true } : { restoreToTime: time }),
    },
  };
}
export const MASTER_USER = 'conduit_admin';
/**
 * Attributes AWS changes by itself and Terraform must not undo: the engine version after an automatic minor
 * upgrade (auto_minor_version_upgrade), the final snapshot name fixed at creation.
 */
const KEEP = ['engine_version', 'final_snapshot_identifier'];
/** Parameter group family of Aurora MySQL 3 (MySQL 8.0 compatible). */
const FAMILY = 'aurora-mysql8.0';

export class Database extends Construct {
  readonly cluster: RdsCluster;
  readonly instances: RdsClusterInstance[] = [];
  /**
   * Where the API writes: this region's own cluster endpoint, in both regions. It takes writes only while this
   * region's cluster is the Global Database's primary; before a failover the secondary's API answers writes with
   * 503 + Retry-After (a client with a stale DNS answer retries and reaches the primary after the TTL), after a
   * `failover-global-cluster` / `switchover-global-cluster` the promoted cluster's endpoint takes writes with no
   * re-apply. As the local region does: no cross-region write hidden in a request's latency, and no write in
   * one region read back from a lagging replica of the other. The global writer endpoint stays an output.
   */
  readonly writerEndpoint: string;
  /** The Global Database's writer endpoint (follows the writer region), null for one region: an output for operators. */
  readonly globalWriterEndpoint: string | null;
  /** The cluster port as text, for URLs (a number token inside a string would not resolve). */
  readonly port: string;
  /** Secret holding the application user's password (replicated to the secondary region). */
  readonly appSecretName: string;
  readonly appSecret: GeneratedSecret | null = null;
  /** The master password's secret ARN (RDS-managed in one region, ours with a Global Database). */
  readonly masterSecretArn: string | null;

  constructor(scope: Construct, id: string, ctx: RegionContext, network: Network) {
    super(scope, id);
    const { def, plan, settings, key } = ctx;
    const name = `${def.name}-${plan.region}`;
    const primary = plan.role === 'primary';
    const global = settings.globalClusterId !== null;
    this.appSecretName = `${def.name}/db/${APP_DB_USER}`;

    const subnets = new DbSubnetGroup(this, 'subnets', { name: `${name}-db`, subnetIds: network.isolatedSubnets.map((s) => s.id), description: 'isolated (data) subnets' });
    const clusterParams = new RdsClusterParameterGroup(this, 'cluster-params', {
      name: `${name}-cluster`,
      family: FAMILY,
      description: `${def.name} cluster parameters: TLS only, audit and slow query logs`,
      parameter: [
        { name: 'require_secure_transport', value: 'ON' },
        { name: 'tls_version', value: 'TLSv1.2,TLSv1.3', applyMethod: 'pending-reboot' },
        { name: 'server_audit_logging', value: '1' },
        { name: 'server_audit_events', value: 'CONNECT,QUERY_DCL,QUERY_DDL' },
        { name: 'slow_query_log', value: '1' },
        { name: 'long_query_time', value: '1' },
      ],
    });
    const instanceParams = new DbParameterGroup(this, 'instance-params', {
      name: `${name}-instance`,
      family: FAMILY,
      description: `${def.name} instance parameters`,
      parameter: [{ name: 'performance_schema', value: '1', applyMethod: 'pending-reboot' }],
    });
    const monitoringRole = new IamRole(this, 'monitoring-role', { name: `${name}-rds-monitoring`, assumeRolePolicy: assumeRolePolicy('monitoring.rds.amazonaws.com') });
    new IamRolePolicyAttachment(this, 'monitoring-policy', { role: monitoringRole.name, policyArn: 'arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole' });

    // RDS would create these on the first export, unencrypted and kept forever: made first, with retention and the key.
    const logGroups = DB_LOG_EXPORTS.map((type) => new CloudwatchLogGroup(this, `log-${type}`, {
      name: `/aws/rds/cluster/${name}/${type}`, retentionInDays: def.observability.logRetentionDays, kmsKeyId: key.arn,
    }));

    const common = {
      engine: ENGINE,
      engineVersion: def.database.engineVersion,
      dbSubnetGroupName: subnets.name,
      vpcSecurityGroupIds: [network.groups.database.id],
      dbClusterParameterGroupName: clusterParams.name,
      storageEncrypted: true,
      kmsKeyId: key.arn,
      iamDatabaseAuthenticationEnabled: true,
      backupRetentionPeriod: def.backup.retentionDays,
      preferredBackupWindow: def.backup.window,
      preferredMaintenanceWindow: 'sun:04:00-sun:05:00',
      deletionProtection: def.database.deletionProtection,
      skipFinalSnapshot: false,
      // Dated at creation (and then kept: ignore_changes), so a cluster re-created after a teardown does not
      // collide with the final snapshot of the previous one.
      finalSnapshotIdentifier: `${name}-final-\${formatdate("YYYYMMDDhhmm", timestamp())}`,
      copyTagsToSnapshot: true,
      enabledCloudwatchLogsExports: [...DB_LOG_EXPORTS],
      port: 3306,
      dependsOn: logGroups,
    };

    const restore = def.database.restore;
    let globalCluster: RdsGlobalCluster | null = null;
    // A restored cluster cannot be created inside a global cluster (snapshot_identifier conflicts with
    // global_cluster_identifier): the global cluster is then made from it afterwards.
    if (global && primary && !restore) {
      globalCluster = new RdsGlobalCluster(this, 'global', {
        globalClusterIdentifier: settings.globalClusterId!,
        engine: ENGINE,
        engineVersion: def.database.engineVersion,
        databaseName: def.database.databaseName,
        storageEncrypted: true,
        deletionProtection: def.database.deletionProtection,
        lifecycle: { ignoreChanges: ['engine_version'] },
      });
    }

    if (primary) {
      // RDS cannot manage the master password of a Global Database member: there we keep our own secret.
      let masterSecret: GeneratedSecret | null = null;
      if (global) {
        masterSecret = new GeneratedSecret(this, 'master-secret', {
          name: `${def.name}/db/master`, description: `${def.name} Aurora master user (Global Database)`, kmsKeyId: key.arn, username: MASTER_USER,
        });
      }
      this.cluster = new RdsCluster(this, 'cluster', {
        ...common,
        clusterIdentifier: name,
        // A restored cluster takes its database and master user from the backup.
        ...(restore ? restoreArguments(restore) : { databaseName: def.database.databaseName, masterUsername: MASTER_USER }),
        // The Data API lets the first deploy create the application user from outside the VPC (first-deploy.sh).
        enableHttpEndpoint: true,
        ...(masterSecret
          ? { masterPassword: masterSecret.password, ...(globalCluster ? { globalClusterIdentifier: globalCluster.id } : {}) }
          : { manageMasterUserPassword: true, masterUserSecretKmsKeyId: key.arn }),
        lifecycle: { ignoreChanges: [...KEEP, ...(masterSecret ? ['master_password'] : []), ...(restore ? RESTORED_KEEP : [])] },
      });
      if (global && restore) {
        globalCluster = new RdsGlobalCluster(this, 'global', {
          globalClusterIdentifier: settings.globalClusterId!,
          sourceDbClusterIdentifier: this.cluster.arn,
          deletionProtection: def.database.deletionProtection,
          forceDestroy: false,
        });
      }
      this.masterSecretArn = masterSecret ? masterSecret.secret.arn : this.cluster.masterUserSecret.get(0).secretArn;
      this.appSecret = new GeneratedSecret(this, 'app-secret', {
        name: this.appSecretName,
        description: `${def.name} application database user ${APP_DB_USER} (created once with app-user.sql)`,
        kmsKeyId: key.arn,
        replicaRegions: [plan.peer],
      });
    } else {
      // The secondary cluster joins the Global Database by its (deterministic) identifier: apply the primary stack first.
      // No write forwarding: the API writes through the global writer endpoint in both regions (forwarding would
      // also need aurora_replica_read_consistency set per session to forward at all).
      this.cluster = new RdsCluster(this, 'cluster', {
        ...common,
        clusterIdentifier: name,
        globalClusterIdentifier: settings.globalClusterId!,
        lifecycle: { ignoreChanges: [...KEEP, 'replication_source_identifier', 'global_cluster_identifier'] },
      });
      this.masterSecretArn = null;
    }
    this.port = Token.asString(this.cluster.port);
    this.writerEndpoint = this.cluster.endpoint;
    if (globalCluster) this.globalWriterEndpoint = globalCluster.endpoint;
    else if (global) this.globalWriterEndpoint = new DataAwsRdsGlobalCluster(this, 'global', { identifier: settings.globalClusterId! }).endpoint;
    else this.globalWriterEndpoint = null;

    def.dbNodes.forEach((node, i) => {
      this.instances.push(
        new RdsClusterInstance(this, `instance-${node.name}`, {
          identifier: `${name}-${node.name}`,
          clusterIdentifier: this.cluster.id,
          engine: ENGINE,
          engineVersion: def.database.engineVersion,
          instanceClass: def.database.instanceClass,
          availabilityZone: `${plan.region}${node.zone}`,
          dbParameterGroupName: instanceParams.name,
          dbSubnetGroupName: subnets.name,
          publiclyAccessible: false,
          autoMinorVersionUpgrade: true,
          monitoringInterval: DB_MONITORING_INTERVAL_S,
          monitoringRoleArn: monitoringRole.arn,
          performanceInsightsEnabled: true,
          performanceInsightsKmsKeyId: key.arn,
          performanceInsightsRetentionPeriod: 7,
          // The first node is the preferred writer; the others are promoted in order on failover.
          promotionTier: i === 0 ? 0 : 1,
          copyTagsToSnapshot: true,
          preferredMaintenanceWindow: 'sun:04:00-sun:05:00',
          lifecycle: { ignoreChanges: ['engine_version'] },
        }),
      );
    });
  }
}

/**
 * The one-time SQL that creates the application user (Terraform cannot reach inside MySQL). Run it as the master
 * user against the writer endpoint, replacing :password with the value of the secret `<name>/db/conduit_app`.
 * Least privilege: rows and schema of the application database only, TLS required, no global privilege.
 */
export function appUserSql(databaseName: string, user = APP_DB_USER): string {
  return [
    `CREATE USER IF NOT EXISTS '${user}'@'%' IDENTIFIED BY :password REQUIRE SSL;`,
    `GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, REFERENCES ON \`${databaseName}\`.* TO '${user}'@'%';`,
    '',
  ].join('\n');
}
