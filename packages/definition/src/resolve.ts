// Parse once, fill defaults once, derive once: after resolve() nothing downstream checks for undefined,
// and both targets (AWS and the local region) read the same numbers.
import { z } from 'zod';
import { definitionSchema, type DefinitionInput, type ParsedDefinition } from './schema.js';
import { derivedTargetRps, measuredCapacity, type CapacityResult } from './capacity.js';
import { CACHE_ACCESS, type CacheAccess } from './cache-access.js';

/** A definition that breaks the schema or an invariant; `problems` name the fields and their values. */
export class DefinitionError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid definition: ${problems.join('; ')}`);
    this.name = 'DefinitionError';
  }
}

/** `dns`: the global entry point (Route 53 on AWS, PowerDNS locally), outside any one region's tiers. */
export type Tier = 'edge' | 'front' | 'api' | 'db' | 'cache' | 'sentinel' | 'lb' | 'monitoring' | 'backup' | 'dns';

export interface Zone {
  /** Local label, also the AZ suffix on AWS: 'a', 'b', 'c'… */
  name: string;
  /** AWS availability zone in the primary region, e.g. eu-west-1a. */
  awsZone: string;
}

/** One planned instance slot of a scalable tier: name, zone and loopback port are fixed per slot. */
export interface InstanceSlot {
  name: string;
  zone: string;
  port: number;
}

export interface DbNode {
  name: string;
  zone: string;
  port: number;
  /** MariaDB server_id: unique per node, never 0. */
  serverId: number;
  /** Role at first start; the failover controller may change who is primary later. */
  initialRole: 'primary' | 'replica';
}

export interface CacheNode {
  name: string;
  zone: string;
  port: number;
  initialRole: 'primary' | 'replica';
}

export interface SentinelNode {
  name: string;
  zone: string;
  port: number;
}

export interface ResolvedScaling extends Omit<ParsedDefinition['scaling'], 'targetRpsPerInstance'> {
  /**
   * Always set: the definition's own value, or the capacity benchmark's knee × targetUtilisation. (The resolved
   * definition must resolve to itself, as the supervisor re-checks its plan: so no field says which it was.)
   */
  targetRpsPerInstance: number;
}

export interface ResolvedDefinition extends Omit<ParsedDefinition, 'scaling'> {
  scaling: ResolvedScaling;
  /** The committed capacity benchmark result (packages/definition/capacity/api.json). */
  capacity: CapacityResult;
  /** The AWS region this state folder's region stands for (regions.primary, or regions.secondary for local.region secondary). */
  regionName: string;
  /** The loopback address every process of this region binds (local.addresses[local.region]). */
  address: string;
  /** The other region's address, null for one region. */
  peerAddress: string | null;
  /** The global name clients resolve (regions.dns.record under edge.domain, or under `<name>.test` locally). */
  dnsName: string;
  zoneList: Zone[];
  /** Every region the deployment spans, primary first. */
  regionList: string[];
  frontSlots: InstanceSlot[];
  apiSlots: InstanceSlot[];
  dbNodes: DbNode[];
  cacheNodes: CacheNode[];
  sentinelNodes: SentinelNode[];
  /** Name Sentinel and ElastiCache use for the cache primary. */
  cacheMasterName: string;
  /**
   * The proxies a client's request crosses before an API instance, in order, each appending the address it
   * received the request from to X-Forwarded-For: the edge (Varnish locally, CloudFront on AWS), then the
   * load balancer (HAProxy, ALB). The API trusts exactly this many X-Forwarded-For entries, counted from the
   * right; anything further left was written by the client.
   */
  apiProxyChain: readonly ('edge' | 'lb')[];
  /**
   * What each cache client may do in Redis (CACHE_ACCESS, cache-access.ts): the API's ACL user, key pattern and
   * commands. Fixed by the API's code, not a setting; the local region's ACL users and AWS's ElastiCache RBAC
   * user are both built from it (cacheAclRules).
   */
  cacheAccess: CacheAccess;
}

const zoneLetters = 'abcdef';

/** Spreads item i over the zones round-robin, the way an Auto Scaling group balances AZs. */
export const zoneFor = (i: number, zones: Zone[]): string => zones[i % zones.length]!.name;

function formatZodIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.join('.') || '(root)';
    return `${path}: ${issue.message}`;
  });
}

/** Cross-field rules. Each message names the fields and their values. */
export function invariants(d: ParsedDefinition, r: Omit<ResolvedDefinition, keyof ParsedDefinition | 'capacity'>): string[] {
  const problems: string[] = [];
  for (const tier of ['front', 'api'] as const) {
    const { min, desired, max } = d[tier].instances;
    if (min > max) problems.push(`${tier}.instances.min (${min}) must be <= ${tier}.instances.max (${max})`);
    if (desired < min) problems.push(`${tier}.instances.desired (${desired}) must be >= ${tier}.instances.min (${min})`);
    if (desired > max) problems.push(`${tier}.instances.desired (${desired}) must be <= ${tier}.instances.max (${max})`);
    if (min < 1) problems.push(`${tier}.instances.min (${min}) must be >= 1: a tier with no instance serves nothing`);
  }
  if (d.regions.secondary !== null && d.regions.secondary === d.regions.primary) {
    problems.push(`regions.secondary (${d.regions.secondary}) must differ from regions.primary (${d.regions.primary})`);
  }
  if (d.regions.secondary !== null && d.local.addresses.secondary === d.local.addresses.primary) {
    problems.push(`local.addresses.secondary (${d.local.addresses.secondary}) must differ from local.addresses.primary (${d.local.addresses.primary}): each region needs its own address`);
  }
  if (d.local.region === 'secondary' && d.regions.secondary === null) {
    problems.push('local.region (secondary) needs regions.secondary: there is no secondary region to run');
  }
  const replicas = r.dbNodes.length - 1;
  if (replicas < 1 && d.zones > 1) {
    problems.push(`database.replicas (${replicas}) must be >= 1 when zones (${d.zones}) > 1: the writer needs a replica to fail over to`);
  }
  const standbyReplicas = d.regions.secondaryScale.databaseReplicas;
  if (d.regions.secondary !== null && d.local.region !== 'secondary' && standbyReplicas !== null && standbyReplicas < 1 && d.zones > 1) {
    problems.push(`regions.secondaryScale.databaseReplicas (${standbyReplicas}) must be >= 1 when zones (${d.zones}) > 1: the secondary's writer needs a replica to fail over to`);
  }
  const { sentinels, quorum } = d.cache;
  if (quorum > sentinels) problems.push(`cache.quorum (${quorum}) must be <= cache.sentinels (${sentinels})`);
  if (quorum <= sentinels / 2) problems.push(`cache.quorum (${quorum}) must be a majority of cache.sentinels (${sentinels}), i.e. >= ${Math.floor(sentinels / 2) + 1}`);
  if (d.scaling.scaleInCooldownSeconds < d.scaling.scaleOutCooldownSeconds) {
    problems.push(
      `scaling.scaleInCooldownSeconds (${d.scaling.scaleInCooldownSeconds}) must be >= scaling.scaleOutCooldownSeconds (${d.scaling.scaleOutCooldownSeconds}): scale in slower than out`,
    );
  }
  if (d.database.failoverAfterMs >= d.database.semiSyncTimeoutMs) {
    problems.push(
      `database.failoverAfterMs (${d.database.failoverAfterMs}) must be < database.semiSyncTimeoutMs (${d.database.semiSyncTimeoutMs}): fail over before the primary silently degrades to async`,
    );
  }
  if (d.database.stallFailoverAfterMs < d.database.failoverAfterMs) {
    problems.push(
      `database.stallFailoverAfterMs (${d.database.stallFailoverAfterMs}) must be >= database.failoverAfterMs (${d.database.failoverAfterMs}): a silent primary may still come back, a gone one does not`,
    );
  }
  if (d.backup.copyToSecondary && d.regions.secondary === null) {
    problems.push('backup.copyToSecondary (true) needs regions.secondary: set a secondary region or copyToSecondary: false');
  }

  // Every loopback port the local region binds must be distinct.
  const owners = new Map<number, string>();
  const claim = (port: number, owner: string) => {
    const prev = owners.get(port);
    if (prev) problems.push(`local port ${port} is used by both ${prev} and ${owner}`);
    else owners.set(port, owner);
  };
  const p = d.local.ports;
  for (const key of ['edge', 'edgeAdmin', 'edgePurge', 'front', 'api', 'lbStats', 'dbWriter', 'dbReader', 'prometheus', 'mysqldExporter', 'redisExporter', 'console', 'alertmanager', 'blackboxExporter', 'objectStore', 'dns'] as const) {
    claim(p[key], `local.ports.${key}`);
  }
  for (const s of r.frontSlots) claim(s.port, s.name);
  for (const s of r.apiSlots) claim(s.port, s.name);
  for (const n of r.dbNodes) claim(n.port, n.name);
  for (const n of r.cacheNodes) claim(n.port, n.name);
  for (const n of r.sentinelNodes) claim(n.port, n.name);
  for (const [port, owner] of owners) if (port > 65535) problems.push(`${owner} port ${port} is above 65535: lower its base port`);
  return problems;
}

/** Parses a user definition, fills every default and derived value, and checks the invariants. Throws DefinitionError. */
export function resolve(input: DefinitionInput | unknown = {}): ResolvedDefinition {
  const parsed = definitionSchema.safeParse(input ?? {});
  if (!parsed.success) throw new DefinitionError(formatZodIssues(parsed.error));
  const d = applySecondaryScale(parsed.data);
  const p = d.local.ports;
  const secondary = d.local.region === 'secondary';
  const regionName = secondary && d.regions.secondary ? d.regions.secondary : d.regions.primary;

  const zoneList: Zone[] = Array.from({ length: d.zones }, (_, i) => {
    const name = zoneLetters[i]!;
    return { name, awsZone: `${regionName}${name}` };
  });

  const slots = (tier: 'front' | 'api', base: number): InstanceSlot[] =>
    Array.from({ length: d[tier].instances.max }, (_, i) => ({
      name: `${tier}-${i + 1}`,
      zone: zoneFor(i, zoneList),
      port: base + i,
    }));

  const replicaCount = d.database.replicas ?? Math.max(d.zones - 1, 0);
  const dbNodes: DbNode[] = Array.from({ length: replicaCount + 1 }, (_, i) => {
    const zone = zoneFor(i, zoneList);
    const sameZone = Math.floor(i / zoneList.length);
    return {
      name: sameZone === 0 ? `db-${zone}` : `db-${zone}${sameZone + 1}`,
      zone,
      port: p.dbNodesBase + i,
      // Unique across both regions: a replica skips binlog events carrying its own server_id.
      serverId: (secondary ? 101 : 1) + i,
      initialRole: i === 0 ? 'primary' : 'replica',
    };
  });

  const cacheNodes: CacheNode[] = Array.from({ length: d.cache.replicas + 1 }, (_, i) => ({
    name: `redis-${i + 1}`,
    zone: zoneFor(i, zoneList),
    port: p.redisBase + i,
    initialRole: i === 0 ? 'primary' : 'replica',
  }));

  const sentinelNodes: SentinelNode[] = Array.from({ length: d.cache.sentinels }, (_, i) => ({
    name: `sentinel-${i + 1}`,
    zone: zoneFor(i, zoneList),
    port: p.sentinelBase + i,
  }));

  const knee = measuredCapacity.knee.apiRpsPerInstance;
  const scaling: ResolvedScaling = {
    ...d.scaling,
    targetRpsPerInstance: d.scaling.targetRpsPerInstance ?? derivedTargetRps(knee, d.scaling.targetUtilisation),
  };

  const derived = {
    regionName,
    address: secondary ? d.local.addresses.secondary : d.local.addresses.primary,
    peerAddress: d.regions.secondary === null ? null : secondary ? d.local.addresses.primary : d.local.addresses.secondary,
    dnsName: `${d.regions.dns.record}.${d.edge.domain ?? `${d.name}.test`}`,
    zoneList,
    regionList: d.regions.secondary ? [d.regions.primary, d.regions.secondary] : [d.regions.primary],
    frontSlots: slots('front', p.frontInstancesBase),
    apiSlots: slots('api', p.apiInstancesBase),
    dbNodes,
    cacheNodes,
    sentinelNodes,
    cacheMasterName: `${d.name}-cache`,
    apiProxyChain: ['edge', 'lb'] as const,
    cacheAccess: CACHE_ACCESS,
  };

  const problems = invariants(d, derived);
  if (problems.length > 0) throw new DefinitionError(problems);
  return deepFreeze({ ...d, ...derived, scaling, capacity: measuredCapacity });
}

/**
 * The secondary region runs the regions.secondaryScale sizes (a warm standby); the primary runs the definition's.
 * Idempotent (a resolved secondary resolves to itself): the supervisor re-resolves the plan it is given.
 */
function applySecondaryScale(d: ParsedDefinition): ParsedDefinition {
  if (d.local.region !== 'secondary') return d;
  const s = d.regions.secondaryScale;
  const size = (i: ParsedDefinition['front']['instances'], n: number | null) =>
    n === null ? i : { min: Math.min(i.min, n), desired: n, max: Math.max(i.max, n) };
  return {
    ...d,
    front: { ...d.front, instances: size(d.front.instances, s.front) },
    api: { ...d.api, instances: size(d.api.instances, s.api) },
    database: { ...d.database, replicas: s.databaseReplicas ?? d.database.replicas },
  };
}

/**
 * The definition as one region of it runs locally: the same fields with local.region set, so its address,
 * server ids, zones and sizes are the secondary's. Throws DefinitionError when there is no such region.
 */
export function regionDefinition(d: ResolvedDefinition, region: 'primary' | 'secondary'): ResolvedDefinition {
  const input = Object.fromEntries(Object.keys(definitionSchema.shape).map((k) => [k, (d as unknown as Record<string, unknown>)[k]]));
  const local = input.local as ParsedDefinition['local'];
  return resolve({ ...input, local: { ...local, region } });
}

/** Identity with types: lets stack.config.ts be checked by the editor as it is written. */
export function defineStack(input: DefinitionInput): DefinitionInput {
  return input;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
