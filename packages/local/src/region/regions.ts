// Every region of the definition, as `tier up|down|destroy|status` see them: the primary region in the state
// folder, the secondary (a complete copy of the topology on its own loopback address, same ports) in
// <state>/secondary, each with its own supervisor. Both share one set of secrets (a replicated secret: sessions
// survive a failover, and the standby's primary logs in to the primary region's writer to replicate).
import { existsSync, mkdirSync } from 'node:fs';
import { Resolver } from 'node:dns/promises';
import { regionDefinition, type ResolvedDefinition } from '@conduit/definition';
import { statePaths } from '../paths.js';
import { ensureRelease } from '../releases.js';
import { loadOrCreateSecrets, readRegionRole, readTopology, writeFileAtomic, writeRegionRole } from '../state.js';
import { queryNode } from '../runner/index.js';
import { dbSocket } from '../paths.js';
import { dnsServers } from '../generators/pdns.js';
import { RegionError } from './errors.js';
import { regionUp, type UpOptions, type UpResult } from './up.js';
import { regionDown, regionDestroy, type DownResult } from './down.js';
import { regionStatus, type RegionStatus } from './status.js';
import type { RegionRole } from '../types.js';
import { promoteRegion } from '../controllers/region-failover.js';
import { readPlan } from '../supervisor/plan.js';

/** One region as it runs locally: its definition (address, sizes, server ids) and its state folder. */
export interface LocalRegion {
  role: 'primary' | 'secondary';
  definition: ResolvedDefinition;
  stateDir: string;
}

/** The regions `tier up` runs: the primary, and the secondary when regions.secondary is set and local.runSecondary is on. */
export function localRegions(d: ResolvedDefinition, stateDir: string): LocalRegion[] {
  const primary: LocalRegion = { role: 'primary', definition: d, stateDir: statePaths(stateDir).root };
  if (d.regions.secondary === null || !d.local.runSecondary) return [primary];
  return [primary, { role: 'secondary', definition: regionDefinition(d, 'secondary'), stateDir: statePaths(stateDir).secondaryRoot }];
}

/** The writer region and the standby, by their role files (a switchover, a failback drill); a RegionError otherwise. */
export function regionsByRole(d: ResolvedDefinition, stateDir: string): { writer: LocalRegion; standby: LocalRegion } {
  const regions = localRegions(d, stateDir);
  if (regions.length < 2) throw new RegionError('this needs two regions: set regions.secondary (and local.runSecondary) in the definition');
  const roles = regions.map((r) => readRegionRole(statePaths(r.stateDir))?.role);
  const writer = regions[roles.indexOf('primary')];
  const standby = regions[roles.indexOf('standby')];
  if (!writer || !standby) {
    throw new RegionError(`the regions' roles are ${roles.map((r) => r ?? 'none').join(' / ')}: one writer and one standby region are needed (\`tier status\` shows each region's role)`);
  }
  return { writer, standby };
}

/** The role file a region starts with (kept once written: a promoted secondary stays the primary). */
export function initialRole(r: LocalRegion, all: LocalRegion[], now = new Date()): RegionRole {
  const peer = all.find((x) => x !== r) ?? null;
  const p = all[0]!.definition;
  return r.role === 'primary'
    ? { role: 'primary', upstream: null, peerStateDir: peer?.stateDir ?? null, cacheGeneration: 1, updatedAt: now.toISOString(), why: 'first start: the definition\'s primary region' }
    : {
      role: 'standby',
      // Through the primary region's writer endpoint: an in-region failover there moves the writer, and the
      // standby follows it by GTID without being told.
      upstream: { host: p.address, port: p.local.ports.dbWriter },
      peerStateDir: peer?.stateDir ?? null,
      cacheGeneration: 1,
      updatedAt: now.toISOString(),
      why: `first start: warm standby of ${p.regions.primary}`,
    };
}

export interface RegionsUpResult {
  regions: Array<LocalRegion & { result: UpResult }>;
  seconds: number;
}

/**
 * Starts every region at once. The release is built (or found) first, once: each region then installs it
 * into its own state folder. Each region's progress lines are prefixed with its name when there are two.
 */
export async function regionsUp(o: UpOptions): Promise<RegionsUpResult> {
  const t0 = Date.now();
  const regions = localRegions(o.definition, o.stateDir);
  if (regions.length === 1) {
    return { regions: [{ ...regions[0]!, result: await regionUp(o) }], seconds: (Date.now() - t0) / 1000 };
  }
  const primaryPaths = statePaths(regions[0]!.stateDir);
  for (const r of regions) mkdirSync(r.stateDir, { recursive: true, mode: 0o755 });
  const secrets = loadOrCreateSecrets(primaryPaths);
  for (const r of regions.slice(1)) {
    const p = statePaths(r.stateDir);
    if (!existsSync(p.secrets)) writeFileAtomic(p.secrets, JSON.stringify(secrets, null, 2) + '\n', 0o600);
  }
  for (const r of regions) {
    const p = statePaths(r.stateDir);
    if (!readRegionRole(p)) writeRegionRole(p, initialRole(r, regions));
  }
  await ensureRelease(o.definition, primaryPaths, { progress: o.progress }).catch((e: Error) => {
    throw new RegionError(`could not build or install the release of the current sources: ${e.message.split('\n')[0]}`);
  });
  const started = await Promise.allSettled(regions.map((r) => regionUp({
    ...o, definition: r.definition, stateDir: r.stateDir, progress: (line) => o.progress(`[${r.definition.regionName}] ${line}`),
  })));
  const failed = started.map((s, i) => (s.status === 'rejected' ? `${regions[i]!.definition.regionName}: ${(s.reason as Error).message}` : null)).filter((x) => x !== null);
  if (failed.length > 0) {
    // Nothing half-up is left behind: the region that came up is stopped too (one that already ran, e.g. the
    // writer region while the other returns, keeps running). The standby first: it must not see the primary go
    // and promote itself.
    const startedHere = (i: number) => { const s = started[i]!; return s.status === 'rejected' || !s.value.alreadyRunning; };
    for (const [i, r] of [...regions.entries()].reverse()) if (startedHere(i)) await regionDown(r.stateDir).catch(() => undefined);
    throw new RegionError(failed.join('\n'));
  }
  return {
    regions: regions.map((r, i) => ({ ...r, result: (started[i] as PromiseFulfilledResult<UpResult>).value })),
    seconds: (Date.now() - t0) / 1000,
  };
}

/** Stops the secondary first (its controller must not see the primary go and promote itself), then the primary. */
export async function regionsDown(stateDir: string, progress: (line: string) => void = () => undefined): Promise<DownResult> {
  return downAll(stateDir, (dir) => regionDown(dir, progress));
}

export async function regionsDestroy(stateDir: string, progress: (line: string) => void = () => undefined): Promise<DownResult> {
  return downAll(stateDir, (dir) => regionDestroy(dir, progress));
}

/** Whatever the definition says now, a secondary folder that exists is stopped too, and first. */
async function downAll(stateDir: string, one: (dir: string) => Promise<DownResult>): Promise<DownResult> {
  const t0 = Date.now();
  const { root, secondaryRoot } = statePaths(stateDir);
  const results: DownResult[] = [];
  for (const dir of [secondaryRoot, root]) if (dir === root || existsSync(dir)) results.push(await one(dir));
  return {
    wasRunning: results.some((r) => r.wasRunning),
    leftovers: results.reduce((n, r) => n + r.leftovers, 0),
    seconds: (Date.now() - t0) / 1000,
  };
}

/**
 * `tier region failover`: promotes the standby region now, as the region failover controller does after the
 * threshold (fence what answers of the other region, apply what was received, writable, new cache generation).
 * @returns the promotion's sentence.
 */
export async function regionFailoverNow(d: ResolvedDefinition, stateDir: string): Promise<string> {
  const regions = localRegions(d, stateDir);
  const standby = regions.find((r) => readRegionRole(statePaths(r.stateDir))?.role === 'standby');
  if (regions.length < 2 || !standby) throw new RegionError('no standby region to promote: `tier status` shows each region\'s role');
  let plan;
  try {
    plan = readPlan(statePaths(standby.stateDir).plan);
  } catch (e) {
    throw new RegionError((e as Error).message);
  }
  return promoteRegion(plan.definition, statePaths(standby.stateDir, plan.varnishInTmp), 'operator: tier region failover');
}

/** Cross-region replication as `tier status` shows it. */
export interface CrossRegion {
  /** The region whose database takes writes now, and the standby. */
  writerRegion: string | null;
  standbyRegion: string | null;
  /** Seconds_Behind_Master of the standby's primary (null when it does not replicate or is unreachable). */
  lagSeconds: number | null;
  /** Transactions the writer has that the standby has not applied (per GTID domain, summed); null when unknown. */
  gtidDistance: number | null;
  writerGtid: string | null;
  standbyGtid: string | null;
  replicating: boolean;
  /** The standby's replication error, if any. */
  error: string | null;
}

export interface DnsAnswer {
  name: string;
  /** Every global DNS server (host:port), one per region, the primary region's first. */
  servers: string[];
  /** The servers that gave no answer (their region lost, or the server down). */
  silent: string[];
  /** The answer of the first server that answered; null with `error` when none did. */
  addresses: string[] | null;
  ttl: number | null;
  /** Which region the answer points at. */
  region: string | null;
  error: string | null;
  /** The same question for a person, to the server that answered: `dig @127.0.0.1 -p PORT NAME`. */
  dig: string;
}

export interface RegionsStatus {
  regions: Array<RegionStatus & { region: string; address: string; role: RegionRole | null }>;
  crossRegion: CrossRegion | null;
  dns: DnsAnswer | null;
  healthy: boolean;
}

/** Sum over GTID domains of (writer seq - standby seq): how many transactions the standby misses. */
export function gtidDistance(writer: string, standby: string): number {
  const parse = (s: string) => new Map(s.split(',').map((p) => p.trim()).filter(Boolean).map((p) => {
    const [domain, , seq] = p.split('-');
    return [domain!, Number(seq)] as const;
  }));
  const w = parse(writer);
  const s = parse(standby);
  let n = 0;
  for (const [domain, seq] of w) n += Math.max(0, seq - (s.get(domain) ?? 0));
  return n;
}

/** The primary node's socket of a region, from its topology file. */
function primarySocket(stateDir: string): string | null {
  const paths = statePaths(stateDir);
  const t = readTopology(paths);
  return t ? dbSocket(paths, { name: t.primary }) : null;
}

export async function crossRegionStatus(regions: LocalRegion[]): Promise<CrossRegion | null> {
  if (regions.length < 2) return null;
  const roles = regions.map((r) => readRegionRole(statePaths(r.stateDir)));
  const wi = roles.findIndex((r) => r?.role === 'primary');
  const si = roles.findIndex((r) => r?.role === 'standby');
  const writer = wi >= 0 ? regions[wi]! : null;
  const standby = si >= 0 ? regions[si]! : null;
  const out: CrossRegion = {
    writerRegion: writer?.definition.regionName ?? null, standbyRegion: standby?.definition.regionName ?? null,
    lagSeconds: null, gtidDistance: null, writerGtid: null, standbyGtid: null, replicating: false, error: null,
  };
  const ws = writer ? primarySocket(writer.stateDir) : null;
  const ss = standby ? primarySocket(standby.stateDir) : null;
  if (ws) {
    const [w] = await queryNode<{ pos: string }>(ws, 'SELECT @@gtid_binlog_pos AS pos', 1_000).catch(() => []);
    out.writerGtid = w?.pos ?? null;
  }
  if (ss) {
    const [st] = await queryNode<Record<string, string | number | null>>(ss, 'SHOW SLAVE STATUS', 1_000).catch((e: Error) => {
      out.error = e.message.split('\n')[0]!;
      return [];
    });
    const [g] = await queryNode<{ pos: string }>(ss, 'SELECT @@gtid_slave_pos AS pos', 1_000).catch(() => []);
    out.standbyGtid = g?.pos ?? null;
    if (st) {
      out.replicating = st.Slave_IO_Running === 'Yes' && st.Slave_SQL_Running === 'Yes';
      out.lagSeconds = st.Seconds_Behind_Master === null || st.Seconds_Behind_Master === undefined ? null : Number(st.Seconds_Behind_Master);
      out.error = String(st.Last_IO_Error || st.Last_SQL_Error || '') || out.error;
    }
  }
  if (out.writerGtid !== null && out.standbyGtid !== null) out.gtidDistance = gtidDistance(out.writerGtid, out.standbyGtid);
  return out;
}

/** Asks every global DNS server for the site's name, as a client's resolver would ask one, then the next. */
export async function dnsAnswer(d: ResolvedDefinition, timeoutMs = 1_000): Promise<DnsAnswer> {
  const servers = dnsServers(d);
  const asked = await Promise.all(servers.map(async (server) => {
    const resolver = new Resolver({ timeout: timeoutMs, tries: 1 });
    resolver.setServers([server]);
    try {
      return { server, records: await resolver.resolve4(d.dnsName, { ttl: true }), error: null };
    } catch (e) {
      return { server, records: null, error: (e as Error).message };
    }
  }));
  const silent = asked.filter((a) => a.records === null).map((a) => a.server);
  const answered = asked.find((a) => a.records !== null);
  const dig = (server: string) => { const [host, port] = server.split(':'); return `dig @${host} -p ${port} ${d.dnsName}`; };
  const base = { name: d.dnsName, servers, silent, dig: dig(answered?.server ?? servers[0] ?? `${d.local.addresses.primary}:${d.local.ports.dns}`) };
  if (!answered?.records) return { ...base, addresses: null, ttl: null, region: null, error: asked.map((a) => `${a.server}: ${a.error}`).join('; ') || 'no DNS server (one region)' };
  const addresses = answered.records.map((r) => r.address);
  const region = addresses.length !== 1 ? null
    : addresses[0] === d.local.addresses.primary ? d.regions.primary
      : addresses[0] === d.local.addresses.secondary ? d.regions.secondary : null;
  return { ...base, addresses, ttl: answered.records[0]?.ttl ?? null, region, error: null };
}

export async function regionsStatus(d: ResolvedDefinition, stateDir: string): Promise<RegionsStatus> {
  const regions = localRegions(d, stateDir);
  const statuses = await Promise.all(regions.map(async (r) => ({
    ...(await regionStatus(r.definition, r.stateDir)),
    region: r.definition.regionName,
    address: r.definition.address,
    role: readRegionRole(statePaths(r.stateDir)),
  })));
  const two = regions.length > 1;
  const [crossRegion, dns] = await Promise.all([crossRegionStatus(regions), two ? dnsAnswer(d) : Promise.resolve(null)]);
  return { regions: statuses, crossRegion, dns, healthy: statuses.every((s) => s.healthy) };
}

/** The lines `tier status` and `tier up` print about the two regions (nothing for one region). */
export function formatRegionsLines(s: RegionsStatus): string[] {
  const lines: string[] = [];
  const x = s.crossRegion;
  if (x) {
    const lag = x.lagSeconds === null ? '? s' : `${x.lagSeconds} s`;
    lines.push(x.standbyRegion
      ? `cross-region: ${x.standbyRegion} replicates from ${x.writerRegion ?? '?'} (asynchronous), ${x.replicating ? 'running' : 'NOT running'}, lag ${lag}, GTID distance ${x.gtidDistance ?? '?'} (writer ${x.writerGtid ?? '?'}, standby ${x.standbyGtid ?? '?'})${x.error ? `; error: ${x.error}` : ''}`
      : `cross-region: no standby (writer ${x.writerRegion ?? '?'})`);
  }
  const n = s.dns;
  if (n) {
    const silent = n.silent.length && n.addresses ? `; no answer from ${n.silent.join(', ')}` : '';
    lines.push(n.addresses
      ? `DNS: ${n.name} → ${n.addresses.join(', ')} (${n.region ?? 'no single region'}, TTL ${n.ttl} s) from ${n.servers.join(' and ')}${silent}   (\`${n.dig}\`)`
      : `DNS: ${n.name}: no answer from ${n.servers.join(' or ')} (${n.error})   (\`${n.dig}\`)`);
  }
  return lines;
}
