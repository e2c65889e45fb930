// One region (primary or secondary): network, buckets, database, cache, log search, the front and API
// tiers, the region's DNS names and failover records, alarms and dashboard, backups.
// Cross-region links use deterministic names (the global cluster id, the peer's backup vault, replicated
// secrets), never cross-stack references: stacks apply independently, primary first.
import type { Construct } from 'constructs';
import { TerraformOutput, TerraformStack, TerraformVariable, Token } from 'cdktn';
import { apiEnvironment } from '@conduit/api/environment';
import { DataAwsCallerIdentity } from '@cdktn/provider-aws/lib/data-aws-caller-identity/index.js';
import { DataAwsElbServiceAccount } from '@cdktn/provider-aws/lib/data-aws-elb-service-account/index.js';
import type { ResolvedDefinition } from '@conduit/definition';
import { DataAwsSecretsmanagerSecretVersion } from '@cdktn/provider-aws/lib/data-aws-secretsmanager-secret-version/index.js';
import { APP_DB_USER, APP_PORTS, EDGE_REGION, LOG_OBJECT_EXPIRY_DAYS, originSecretNameFor, type AwsSettings, type RegionPlan } from '../settings.js';
import { RegionKey } from '../constructs/kms.js';
import { SecureBucket } from '../constructs/bucket.js';
import { Network } from '../constructs/network.js';
import { Database, appUserSql } from '../constructs/database.js';
import { Cache } from '../constructs/cache.js';
import { GeneratedSecret } from '../constructs/secret.js';
import { LogSearch, Monitoring } from '../constructs/observability.js';
import { Tier } from '../constructs/tier.js';
import { RegionZone, RegionalDns, ValidatedCertificate, regionalName, failoverName } from '../constructs/dns.js';
import { Backup, SnapshotExport } from '../constructs/backup.js';
import { FaultInjection } from '../constructs/fis.js';
import type { RegionContext, Statement } from '../constructs/common.js';
import { GithubDeployRole, RELEASE_VERSION_PATTERN, RegionDeploy } from '../constructs/deploy.js';
import { refreshAlarmIds, tierResourceName } from '../settings.js';
import { awsProvider, domainVariable, remoteState, tagsFor } from './common.js';

export class RegionStack extends TerraformStack {
  readonly tiers: Tier[];
  constructor(scope: Construct, id: string, def: ResolvedDefinition, settings: AwsSettings, plan: RegionPlan) {
    super(scope, id);
    awsProvider(this, def, id, plan.region);
    remoteState(this, settings, id, def.regions.primary);
    const domain = domainVariable(this, def);
    const me = new DataAwsCallerIdentity(this, 'me');
    const accountId = me.accountId;
    const key = new RegionKey(this, 'key', { name: def.name, region: plan.region, accountId }).key;
    const ctx: RegionContext = { def, settings, plan, accountId, key, domain, tags: tagsFor(def, id) };
    const prefix = `${def.name}-${plan.region}`;

    const network = new Network(this, 'network', ctx);

    // Buckets: releases (what instances install), ALB access logs (SSE-S3: ALB cannot write with KMS), backups (snapshot exports).
    const releases = new SecureBucket(this, 'releases', { bucketPrefix: `${prefix}-releases-`, encryption: key.arn, expireAfterDays: null });
    const elb = new DataAwsElbServiceAccount(this, 'elb-account');
    const logs = new SecureBucket(this, 'logs', {
      bucketPrefix: `${prefix}-logs-`,
      encryption: 'sse-s3',
      expireAfterDays: Math.max(LOG_OBJECT_EXPIRY_DAYS, def.observability.logRetentionDays),
      statements: [
        { Sid: 'AlbLogsLegacyRegions', Effect: 'Allow', Principal: { AWS: elb.arn }, Action: 's3:PutObject', Resource: `BUCKET_ARN/alb/*` },
        { Sid: 'AlbLogsNewRegions', Effect: 'Allow', Principal: { Service: 'logdelivery.elasticloadbalancing.amazonaws.com' }, Action: 's3:PutObject', Resource: `BUCKET_ARN/alb/*` },
      ],
    });
    const backups = new SecureBucket(this, 'backups', { bucketPrefix: `${prefix}-backups-`, encryption: key.arn, expireAfterDays: null });

    const zone = new RegionZone(this, 'zone', domain).zone;
    const certificate = new ValidatedCertificate(this, 'certificate', {
      domainName: `*.${plan.region}.${domain}`,
      alternativeNames: [`*.origin.${domain}`],
      zoneId: zone.zoneId,
    });

    const search = new LogSearch(this, 'search', ctx, network);
    const database = new Database(this, 'database', ctx, network);
    const cache = new Cache(this, 'cache', ctx, network);
    // The API's signing secret, shared by both regions (a user signed in via one region stays signed in via the other).
    const jwtName = `${def.name}/api/jwt`;
    if (plan.role === 'primary') {
      new GeneratedSecret(this, 'jwt', { name: jwtName, description: `${def.name} API token signing secret`, kmsKeyId: key.arn, replicaRegions: [plan.peer], length: 64 });
    }

    // CloudFront's origin header value: made in the primary region, replicated to the other region and to the
    // edge's region (us-east-1), where each stack reads its own copy by name.
    const originSecretName = originSecretNameFor(def.name);
    const originSecret = plan.role === 'primary'
      ? new GeneratedSecret(this, 'origin-verify', { name: originSecretName, description: `${def.name} CloudFront origin header value`, kmsKeyId: key.arn, replicaRegions: [plan.peer, EDGE_REGION === plan.region ? null : EDGE_REGION], length: 48 }).version.secretString
      : new DataAwsSecretsmanagerSecretVersion(this, 'origin-verify', { secretId: originSecretName }).secretString;
    const secretArn = (name: string) => `arn:aws:secretsmanager:${plan.region}:${accountId}:secret:${name}-??????`;
    // The API reads its own secrets only: not the cache's disabled default user's, nor any other.
    const apiSecrets = { DB_PASSWORD: database.appSecretName, JWT_SECRET: jwtName, CACHE_PASSWORD: cache.apiSecretName };
    // IAM database authentication stays on the cluster (for operators), but the API signs in with its password:
    // the instances get no rds-db:connect.
    const apiStatements: Statement[] = [
      { Sid: 'ReadSecrets', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: Object.values(apiSecrets).map(secretArn) },
      { Sid: 'DecryptSecrets', Effect: 'Allow', Action: 'kms:Decrypt', Resource: key.arn, Condition: { StringEquals: { 'kms:ViaService': `secretsmanager.${plan.region}.amazonaws.com` } } },
    ];
    const publicUrl = `https://${domain}`;
    // The release the launch templates install: an input, so a scale-out in the middle of a deploy launches the
    // same version as its neighbours, and a rollback is a previous version (never a mutable `current`).
    const releaseVersion = new TerraformVariable(this, 'release_version', {
      type: 'string',
      description: 'Release the instances install: <tier>/<release_version>.tar.gz in the releases bucket (the git commit `tier release` recorded). Pass the version running now unless you are deploying one.',
      validation: [{ condition: `\${can(regex("${RELEASE_VERSION_PATTERN}", var.release_version))}`, errorMessage: `release_version must match ${RELEASE_VERSION_PATTERN} (a git commit or a tag)` }],
    }).stringValue;
    const common = {
      network, certificateArn: certificate.arn, logsBucket: logs.bucket.bucket,
      releasesBucketName: releases.bucket.bucket, releasesBucketArn: releases.bucket.arn,
      searchEndpoint: search.domain.endpoint, searchDomainArn: search.domain.arn, originSecret, releaseVersion,
      launch: new TerraformVariable(this, 'launch_instances', {
        type: 'bool', default: true,
        description: 'false during the first deploy: the groups start empty until the release and the database user exist',
      }).stringValue,
    };
    const front = new Tier(this, 'front', ctx, { ...common, tier: 'front', env: {}, secrets: {}, statements: [] });
    const db = (host: string) => `mysql://${APP_DB_USER}:$DB_PASSWORD@${host}:${database.port}/${def.database.databaseName}`;
    const api = new Tier(this, 'api', ctx, {
      ...common,
      tier: 'api',
      secrets: apiSecrets,
      env: apiEnvironment({
        databaseWriterUrl: db(database.writerEndpoint),
        databaseReaderUrl: db(database.cluster.readerEndpoint),
        // Aurora requires TLS (require_secure_transport) and the app user REQUIRE SSL: verify against the RDS CAs.
        databaseTlsCa: 'rds',
        // TLS, as the RBAC user cacheAccess.api.user (its user name is no secret; its password is read at boot).
        cache: { kind: 'url', url: `rediss://${def.cacheAccess.api.user}:$CACHE_PASSWORD@${cache.group.primaryEndpointAddress}:${Token.asString(cache.group.port)}` },
        jwtSecret: '$JWT_SECRET',
        host: '0.0.0.0',
        port: APP_PORTS.api,
        publicUrl,
        logLevel: 'info',
        instanceId: '$INSTANCE_ID',
        zone: '$ZONE',
        // No edgePurgeUrls: CloudFront does not cache /api (see the README), so there is nothing to purge.
        corsAllowedOrigins: def.api.corsAllowedOrigins.join(','),
        // Aurora's failover takes longer (typically 10-30 s) than the budget: it only hides short stalls there.
        dbRetryBudgetMs: def.database.clientRetryBudgetMs,
        // CloudFront then the ALB each append one X-Forwarded-For entry (the ALB only accepts CloudFront: origin header).
        trustedProxyHops: def.apiProxyChain.length,
        rateLimitAuthPerMin: def.api.rateLimits.authPerIpPerMinute,
        rateLimitLoginPerAccount: def.api.rateLimits.loginPerAccountPer15Min,
        rateLimitWritesPerMin: def.api.rateLimits.writesPerUserPerMinute,
        tokenLifetimeHours: def.api.auth.tokenLifetimeHours,
        recentSignInMinutes: def.api.auth.recentSignInMinutes,
        scryptN: def.api.auth.scrypt.N,
        scryptR: def.api.auth.scrypt.r,
        scryptP: def.api.auth.scrypt.p,
        heap: def.api.heap,
      }),
      statements: apiStatements,
    });
    this.tiers = [front, api];

    new RegionalDns(this, 'dns', {
      zoneId: zone.zoneId, domain, region: plan.region, role: plan.role,
      tiers: [
        { tier: 'front', alb: front.alb, healthPath: def.front.healthCheck.path },
        // The region's health (regions.dns.healthPath): 200 only while this region's writer takes writes, so a
        // standby (read-only) or a region that lost its writer is not where clients are sent.
        { tier: 'api', alb: api.alb, healthPath: def.regions.dns.healthPath },
      ],
      failoverAfterSeconds: def.regions.failoverAfterSeconds,
      ttlSeconds: def.regions.dns.ttlSeconds,
    });
    const monitoring = new Monitoring(this, 'monitoring', ctx, { tiers: this.tiers, database, cache, search });
    // An instance refresh names its alarms: they exist before a group can be refreshed.
    for (const tier of this.tiers) {
      const ids = refreshAlarmIds(tier.node.id as 'front' | 'api');
      const alarms = monitoring.alarms.filter((a) => ids.includes(a.node.id));
      if (alarms.length !== ids.length) throw new Error(`${tier.node.id}: the refresh alarms ${ids.join(', ')} are not all created by Monitoring`);
      tier.asg.dependsOn = alarms.map((a) => a.fqn);
    }
    const deploy = new RegionDeploy(this, 'deploy', ctx, { releasesBucket: releases.bucket.bucket, tiers: { front, api } });
    if (plan.role === 'primary' && def.delivery.githubRepository) {
      const role = new GithubDeployRole(this, 'github-deploy', ctx, {
        repository: def.delivery.githubRepository,
        environments: def.delivery.environments,
        instanceRoleArns: def.regionList.flatMap((r) => (['front', 'api'] as const).map((t) => `arn:aws:iam::${accountId}:role/${tierResourceName(def.name, r, t)}`)),
      });
      new TerraformOutput(this, 'deploy_role_arn', { value: role.role.arn, description: 'DEPLOY_ROLE_ARN secret of the GitHub environments (OIDC; no long-lived keys)' });
    }
    const fis = new FaultInjection(this, 'fis', ctx, {
      tiers: { front, api }, database, cache, network,
      stopAlarms: monitoring.alarms.filter((a) => a.node.id.endsWith('-5xx-percent')),
    });
    new Backup(this, 'backup', ctx, { clusterArn: plan.role === 'primary' ? database.cluster.arn : null });
    if (plan.role === 'primary') new SnapshotExport(this, 'snapshot-export', ctx, { clusterArn: database.cluster.arn, bucketName: backups.bucket.bucket, bucketArn: backups.bucket.arn });

    new TerraformOutput(this, 'releases_bucket', { value: releases.bucket.bucket, description: 'Upload <tier>/<version>.tar.gz and <tier>/<version>.release.json here (scripts/deploy/upload-release.sh)' });
    new TerraformOutput(this, 'backups_bucket', { value: backups.bucket.bucket, description: 'Full backups of the data: AWS Backup recovery points in the vault; daily Parquet exports under exports/ (EventBridge Scheduler → rds:StartExportTask)' });
    new TerraformOutput(this, 'db_writer_endpoint', { value: database.writerEndpoint, description: 'this region\'s cluster endpoint: writable only while this region is the writer region' });
    if (database.globalWriterEndpoint) new TerraformOutput(this, 'db_global_writer_endpoint', { value: database.globalWriterEndpoint, description: 'the Global Database writer endpoint (follows the writer region)' });
    new TerraformOutput(this, 'db_reader_endpoint', { value: database.cluster.readerEndpoint });
    new TerraformOutput(this, 'cache_endpoint', { value: cache.group.primaryEndpointAddress });
    new TerraformOutput(this, 'api_url', { value: `https://${regionalName('api', plan.region, domain)}`, description: `this region's API (failover name: ${failoverName('api', '<domain>')})` });
    new TerraformOutput(this, 'search_endpoint', { value: search.domain.endpoint });
    new TerraformOutput(this, 'fis_templates', {
      value: Object.fromEntries(Object.entries(fis.templates).map(([scenario, t]) => [scenario, t.id])),
      description: 'drill scenario → FIS experiment template id: aws fis start-experiment --experiment-template-id <id>',
    });
    new TerraformOutput(this, 'api_asg', { value: api.asg.name, description: 'the API Auto Scaling group (deploy workflow: instance refresh, migrations)' });
    new TerraformOutput(this, 'front_asg', { value: front.asg.name, description: 'the front Auto Scaling group (deploy workflow: instance refresh)' });
    new TerraformOutput(this, 'deploy_parameter', { value: deploy.parameter.name, description: 'SSM parameter the deploy workflow reads (bucket, groups, launch templates, refresh preferences)' });
    if (plan.role === 'primary') {
      new TerraformOutput(this, 'db_cluster_arn', { value: database.cluster.arn });
      new TerraformOutput(this, 'db_master_secret_arn', { value: database.masterSecretArn! });
      new TerraformOutput(this, 'app_user_sql', { value: appUserSql(def.database.databaseName), description: `run once as the master user; password from secret ${database.appSecretName}` });
    }
  }
}
