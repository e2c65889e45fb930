// ElastiCache Redis: a primary and cache.replicas replicas spread over the zones, automatic failover and
// Multi-AZ (the managed equivalent of the local region's Sentinels), TLS in transit, an AUTH token kept in
// Secrets Manager, encryption at rest with the region's key, slow log to CloudWatch Logs.
import { Construct } from 'constructs';
import { ElasticacheReplicationGroup } from '@cdktn/provider-aws/lib/elasticache-replication-group/index.js';
import { ElasticacheSubnetGroup } from '@cdktn/provider-aws/lib/elasticache-subnet-group/index.js';
import { CloudwatchLogGroup } from '@cdktn/provider-aws/lib/cloudwatch-log-group/index.js';
import { REDIS_VERSION } from '../settings.js';
import type { RegionContext } from './common.js';
import { GeneratedSecret } from './secret.js';
import type { Network } from './network.js';

export class Cache extends Construct {
  readonly group: ElasticacheReplicationGroup;
  readonly authSecret: GeneratedSecret;
  constructor(scope: Construct, id: string, ctx: RegionContext, network: Network) {
    super(scope, id);
    const { def, plan, key } = ctx;
    const name = `${def.name}-${plan.region}`;
    const nodes = def.cacheNodes.length;
    const subnets = new ElasticacheSubnetGroup(this, 'subnets', { name: `${name}-cache`, subnetIds: network.isolatedSubnets.map((s) => s.id), description: 'isolated (data) subnets' });
    this.authSecret = new GeneratedSecret(this, 'auth', {
      name: `${def.name}/cache/auth-${plan.region}`, description: `${def.name} Redis AUTH token (${plan.region})`, kmsKeyId: key.arn, length: 64,
    });
    const slowLog = new CloudwatchLogGroup(this, 'slow-log', {
      name: `/${def.name}/elasticache/${plan.region}/slow-log`, retentionInDays: def.observability.logRetentionDays, kmsKeyId: key.arn,
    });
    const failover = nodes > 1;
    this.group = new ElasticacheReplicationGroup(this, 'group', {
      replicationGroupId: def.cacheMasterName.slice(0, 40),
      description: `${def.name} cache: primary + ${nodes - 1} replica(s)`,
      engine: 'redis',
      engineVersion: REDIS_VERSION,
      nodeType: def.cache.nodeType,
      numCacheClusters: nodes,
      preferredCacheClusterAzs: def.cacheNodes.map((n) => `${plan.region}${n.zone}`),
      automaticFailoverEnabled: failover,
      multiAzEnabled: failover,
      port: 6379,
      subnetGroupName: subnets.name,
      securityGroupIds: [network.groups.cache.id],
      atRestEncryptionEnabled: 'true',
      kmsKeyId: key.arn,
      transitEncryptionEnabled: true,
      authToken: this.authSecret.version.secretString,
      authTokenUpdateStrategy: 'ROTATE',
      autoMinorVersionUpgrade: 'true',
      snapshotRetentionLimit: Math.min(def.backup.retentionDays, 35),
      snapshotWindow: '03:00-04:00',
      maintenanceWindow: 'sun:05:00-sun:06:00',
      applyImmediately: false,
      logDeliveryConfiguration: [{ destination: slowLog.name, destinationType: 'cloudwatch-logs', logFormat: 'json', logType: 'slow-log' }],
      lifecycle: { ignoreChanges: ['auth_token'] },
    });
  }
}
