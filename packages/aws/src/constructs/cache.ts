// ElastiCache Redis: a primary and cache.replicas replicas spread over the zones, automatic failover and
// Multi-AZ (the managed equivalent of the local region's Sentinels), TLS in transit, encryption at rest with the
// region's key, slow log to CloudWatch Logs. Access is RBAC (ElastiCache's Redis ACL users), not an AUTH token:
// a token is the `default` user with every command on every key, so the API could CONFIG, FLUSHALL or read any
// key; with RBAC it gets the definition's cacheAccess.api rules, the same ones its local ACL user has.
import { Construct } from 'constructs';
import { cacheAclRules, type CacheClientAccess } from '@conduit/definition';
import { ElasticacheReplicationGroup } from '@cdktn/provider-aws/lib/elasticache-replication-group/index.js';
import { ElasticacheSubnetGroup } from '@cdktn/provider-aws/lib/elasticache-subnet-group/index.js';
import { ElasticacheUser } from '@cdktn/provider-aws/lib/elasticache-user/index.js';
import { ElasticacheUserGroup } from '@cdktn/provider-aws/lib/elasticache-user-group/index.js';
import { CloudwatchLogGroup } from '@cdktn/provider-aws/lib/cloudwatch-log-group/index.js';
import { ELASTICACHE_RESTRICTED_COMMANDS, REDIS_VERSION } from '../settings.js';
import type { RegionContext } from './common.js';
import { GeneratedSecret } from './secret.js';
import type { Network } from './network.js';

/**
 * A client's ElastiCache RBAC access string: `on` and its rules (cacheAclRules, what the local region writes after
 * `user NAME on >PASSWORD resetkeys`). No password (ElastiCache takes it as an API parameter) and no `reset` or
 * `resetkeys` (ElastiCache refuses `reset`, and a new user starts with no keys anyway). Throws for a command
 * ElastiCache does not offer: CreateUser would refuse the string at apply time.
 */
export function rbacAccessString(access: CacheClientAccess): string {
  const restricted = access.commands.filter((c) => (ELASTICACHE_RESTRICTED_COMMANDS as readonly string[]).includes(c.split('|')[0]!));
  if (restricted.length) throw new Error(`cacheAccess: ElastiCache does not offer ${restricted.join(', ')} (restricted commands): RBAC would refuse the access string`);
  return `on ${cacheAclRules(access)}`;
}

/**
 * What replaces ElastiCache's built-in `default` user (ID `default`: `on ~* +@all`, no password) in the user group.
 * A group must contain a user named `default` (CreateUserGroup: DefaultUserRequired), and that user is what
 * a connection is before AUTH: `off` so an unauthenticated client can run nothing, `-@all` so that turning it
 * on by mistake grants nothing either.
 */
export const DISABLED_DEFAULT_USER_ACCESS = 'off -@all';

export class Cache extends Construct {
  readonly group: ElasticacheReplicationGroup;
  readonly userGroup: ElasticacheUserGroup;
  /** The API's RBAC user (user name: cacheAccess.api.user) and the secret holding its password (by name, as the boot script reads it). */
  readonly apiUser: ElasticacheUser;
  readonly apiSecret: GeneratedSecret;
  readonly apiSecretName: string;
  /** The disabled `default` user's password: required by nobody, read by nobody (no role is granted it). */
  readonly defaultSecret: GeneratedSecret;
  constructor(scope: Construct, id: string, ctx: RegionContext, network: Network) {
    super(scope, id);
    const { def, plan, key } = ctx;
    const name = `${def.name}-${plan.region}`;
    const nodes = def.cacheNodes.length;
    const subnets = new ElasticacheSubnetGroup(this, 'subnets', { name: `${name}-cache`, subnetIds: network.isolatedSubnets.map((s) => s.id), description: 'isolated (data) subnets' });

    // One secret per user and region (each region has its own replication group and users). The password is the
    // secret version's value (kept by ignore_changes), not the random data source, which changes at every plan.
    // ElastiCache passwords: 16 to 128 printable characters; 64 letters and digits go into the API's URL unescaped.
    const access = def.cacheAccess.api;
    this.apiSecretName = `${def.name}/cache/${access.user}-${plan.region}`;
    this.apiSecret = new GeneratedSecret(this, 'api-secret', {
      name: this.apiSecretName, description: `${def.name} Redis RBAC user ${access.user} (${plan.region})`, kmsKeyId: key.arn, length: 64,
    });
    this.defaultSecret = new GeneratedSecret(this, 'default-secret', {
      name: `${def.name}/cache/default-${plan.region}`, description: `${def.name} Redis disabled default user (${plan.region}): used by nobody`, kmsKeyId: key.arn, length: 64,
    });
    // User and group IDs are unique per account and region: prefixed with the deployment's name. Engine `redis`:
    // users of a Redis OSS replication group (REDIS_VERSION) must be `redis` users.
    this.apiUser = new ElasticacheUser(this, 'api-user', {
      userId: `${def.name}-api`,
      userName: access.user,
      engine: 'redis',
      accessString: rbacAccessString(access),
      authenticationMode: { type: 'password', passwords: [this.apiSecret.version.secretString] },
    });
    // Also off with a password nobody holds: even switched on, nobody could authenticate as it.
    const disabledDefault = new ElasticacheUser(this, 'default-user', {
      userId: `${def.name}-default-off`,
      userName: 'default',
      engine: 'redis',
      accessString: DISABLED_DEFAULT_USER_ACCESS,
      authenticationMode: { type: 'password', passwords: [this.defaultSecret.version.secretString] },
    });
    this.userGroup = new ElasticacheUserGroup(this, 'users', {
      userGroupId: `${def.name}-cache-users`,
      engine: 'redis',
      userIds: [disabledDefault.userId, this.apiUser.userId],
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
      // RBAC requires in-transit encryption (the passwords travel with AUTH); clients connect with rediss://.
      transitEncryptionEnabled: true,
      // RBAC instead of auth_token: a group has one or the other, and the user group is what limits the API.
      // (A group the previous version created with a token migrates once: README, "Cache access".)
      userGroupIds: [this.userGroup.userGroupId],
      autoMinorVersionUpgrade: 'true',
      snapshotRetentionLimit: Math.min(def.backup.retentionDays, 35),
      snapshotWindow: '03:00-04:00',
      maintenanceWindow: 'sun:05:00-sun:06:00',
      applyImmediately: false,
      logDeliveryConfiguration: [{ destination: slowLog.name, destinationType: 'cloudwatch-logs', logFormat: 'json', logType: 'slow-log' }],
    });
  }
}
