// AWS-only settings the definition does not carry, derived from it once with documented constants.
// Everything a construct needs that is specific to AWS comes from here, so the constructs never invent numbers.
import { DefinitionError, regionDefinition, type ResolvedDefinition } from '@conduit/definition';

/** CloudFront certificates and WAF web ACLs with CLOUDFRONT scope must live in us-east-1. */
export const EDGE_REGION = 'us-east-1';

/** Secrets Manager name of the value CloudFront sends to the load balancers (replicated to every region that reads it). */
export const originSecretNameFor = (name: string) => `${name}/edge/origin-verify`;

/** Ports the release artifacts listen on inside the instances (the local region uses its own loopback ports). */
export const APP_PORTS = { front: 8080, api: 3000 } as const;

/** The application's least-privilege database user (DML on the application schema only). */
export const APP_DB_USER = 'conduit_app';

/** OpenSearch (the seed's ELK): one data node per zone; t3.medium is the smallest type with encryption at rest. */
export const OPENSEARCH = { instanceType: 't3.medium.search', volumeGb: 20, engineVersion: 'OpenSearch_2.13' } as const;

/** Aurora: enhanced monitoring every 15 s; these log streams are exported to CloudWatch Logs. */
export const DB_MONITORING_INTERVAL_S = 15;
export const DB_LOG_EXPORTS = ['audit', 'error', 'slowquery'] as const;

/** Redis engine of the cache replication group (RBAC users and user groups need Redis OSS 6.0 or later). */
export const REDIS_VERSION = '7.1';

/**
 * Commands ElastiCache does not offer (AWS docs, "Restricted commands"). An RBAC access string naming one is
 * refused by the CreateUser call ("You can't use forbidden and renamed commands"): synthesis refuses it first.
 */
export const ELASTICACHE_RESTRICTED_COMMANDS = ['bgrewriteaof', 'bgsave', 'config', 'debug', 'migrate', 'replicaof', 'save', 'slaveof', 'shutdown', 'sync'] as const;

/** Route 53 failover records: TTL. */
export const DNS = { ttlSeconds: 60 } as const;

/**
 * Route 53 health check of a region's readiness, failing after regions.failoverAfterSeconds: every 10 s (the fast
 * interval) while that needs at most 10 consecutive failures (Route 53's maximum), else every 30 s.
 */
export function regionHealthCheck(failoverAfterSeconds: number): { requestInterval: 10 | 30; failureThreshold: number } {
  const requestInterval = failoverAfterSeconds <= 100 ? 10 : 30;
  return { requestInterval, failureThreshold: Math.min(10, Math.max(1, Math.ceil(failoverAfterSeconds / requestInterval))) };
}

/**
 * Time a new instance gets before its health counts: the boot script (packages ~30-60 s from the regional
 * repository, the release from S3, secrets) plus the server start (0.3 s in the boot rehearsal, the script itself 0.3 s with the sha256 checks), with margin.
 */
export const BOOT_GRACE_SECONDS = 300;

/** Drain of a front instance leaving its target group: static files, no long requests. */
export const FRONT_DRAIN_SECONDS = 5;

/** S3 lifecycle: logs expire after this many days (unless the definition's log retention is longer); old versions after 30 days. */
export const LOG_OBJECT_EXPIRY_DAYS = 365;
export const NONCURRENT_VERSION_DAYS = 30;

/** Root volume of every instance (gp3, encrypted). */
export const ROOT_VOLUME_GB = 16;

/** Instance refresh: keep this share of capacity healthy while rolling. */
export const REFRESH_MIN_HEALTHY_PERCENT = 90;

/** Base name of a tier's resources in a region: its Auto Scaling group, launch template and instance role. */
export const tierResourceName = (name: string, region: string, tier: 'front' | 'api') => `${name}-${region}-${tier}`;

/** Name of a regional CloudWatch alarm (observability.ts creates them; instance refreshes and FIS name them). */
export const alarmName = (name: string, region: string, id: string) => `${name}-${region}-${id}`;

/** The alarms that stop a tier's instance refresh and roll it back: its 5xx share and its response time. */
export const refreshAlarmIds = (tier: 'front' | 'api') => [`${tier}-5xx-percent`, `${tier}-latency`];

/**
 * Instance refresh checkpoints: after the first instance (its share of the desired count, rounded up) the refresh
 * waits deploy.bakeSeconds with the alarms watching, like the local canary; then it replaces the rest.
 */
export function refreshCheckpoints(desired: number): number[] {
  const first = Math.ceil(100 / Math.max(1, desired));
  return first >= 100 ? [100] : [first, 100];
}

export interface RegionPlan {
  /** 'primary' or 'secondary': which side of the failover pair. */
  role: 'primary' | 'secondary';
  region: string;
  /** The other region of the pair (null in a single-region deployment). */
  peer: string | null;
  /** AZ names, `${region}${letter}` for the definition's zones. */
  zones: string[];
  /** /16 per region so the two VPCs never overlap (10.0/16 primary, 10.16/16 secondary). */
  vpcCidr: string;
}

export interface AwsSettings {
  name: string;
  regions: RegionPlan[];
  /** Terraform stack names: the bootstrap state stack, one per region, the global edge stack. */
  stackNames: { state: string; regions: string[]; edge: string };
  /** The remote state bucket (S3 names are global: override with AwsOptions.stateBucket). */
  stateBucket: string;
  /** Its replica in the secondary region (null for one region): `<stateBucket>-replica`. */
  stateReplicaBucket: string | null;
  /** Aurora Global Database identifier (two regions only). */
  globalClusterId: string | null;
  /** Custom domain, or null: the stacks then declare a required Terraform variable `domain`. */
  domain: string | null;
}

export const regionPlan = (def: ResolvedDefinition, region: string): RegionPlan => {
  const index = def.regionList.indexOf(region);
  return {
    role: index === 0 ? 'primary' : 'secondary',
    region,
    peer: def.regionList.find((r) => r !== region) ?? null,
    zones: def.zoneList.map((z) => `${region}${z.name}`),
    vpcCidr: `10.${index * 16}.0.0/16`,
  };
};

/**
 * The definition a region's stack is built from: the primary's as written, the secondary's with
 * regions.secondaryScale applied (a warm standby: fewer front/API instances and Aurora readers), the same sizes
 * the local standby region runs.
 */
export const definitionFor = (def: ResolvedDefinition, plan: Pick<RegionPlan, 'role'>): ResolvedDefinition =>
  plan.role === 'secondary' ? regionDefinition(def, 'secondary') : def;

export function awsSettings(def: ResolvedDefinition, options: { stateBucket?: string | undefined } = {}): AwsSettings {
  // Aurora Global Database runs on memory-optimized classes only (no burstable db.t*).
  if (def.regions.secondary && /^db\.t/.test(def.database.instanceClass)) {
    throw new DefinitionError([
      `database.instanceClass (${def.database.instanceClass}) cannot join an Aurora Global Database (regions.secondary is ${def.regions.secondary}): use a db.r* class such as db.r6g.large, or regions.secondary: null`,
    ]);
  }
  return {
    name: def.name,
    regions: def.regionList.map((r) => regionPlan(def, r)),
    stackNames: { state: `${def.name}-state`, regions: def.regionList.map((r) => `${def.name}-${r}`), edge: `${def.name}-edge` },
    stateBucket: options.stateBucket ?? `${def.name}-tfstate-${def.regions.primary}`,
    stateReplicaBucket: def.regions.secondary ? `${options.stateBucket ?? `${def.name}-tfstate-${def.regions.primary}`}-replica` : null,
    globalClusterId: def.regions.secondary ? `${def.name}-global` : null,
    domain: def.edge.domain,
  };
}

/** Subnet CIDRs of one zone in a /16: public /24 at 10.x.z.0, private (app) /20 at 10.x.(16(z+1)).0, isolated (data) /24 at 10.x.(128+z).0. */
export function subnetCidrs(vpcCidr: string, zoneIndex: number): { public: string; private: string; isolated: string } {
  const [a, b] = vpcCidr.split('.').map(Number) as [number, number];
  return {
    public: `${a}.${b}.${zoneIndex}.0/24`,
    private: `${a}.${b}.${16 * (zoneIndex + 1)}.0/20`,
    isolated: `${a}.${b}.${128 + zoneIndex}.0/24`,
  };
}

/** Graviton families (t4g, c7g, m6gd, r7g…) boot the arm64 image, others x86_64. */
export const archFor = (instanceType: string): 'arm64' | 'x86_64' =>
  /^[a-z]+\d+g/.test(instanceType.split('.')[0] ?? '') ? 'arm64' : 'x86_64';

/** AWS names with a length limit (ALB, target groups: 32): keep the end, which carries the distinguishing suffix. */
export function shortName(name: string, suffix: string, max = 32): string {
  const full = `${name}-${suffix}`;
  if (full.length <= max) return full;
  return `${name.slice(0, max - suffix.length - 1).replace(/-+$/, '')}-${suffix}`;
}
