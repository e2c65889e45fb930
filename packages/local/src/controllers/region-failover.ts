// The region failover controller: a tick in the standby region's supervisor. It checks the writer region's
// health URL (the same URL the DNS failover record checks), decides with region-failover-decide.ts, and when
// the writer region has been down long enough: fences what it can reach of it, promotes this region's
// database primary (applies what it received, stops replicating, semi-sync inside the region, writable),
// starts a new cache generation and records the new roles. DNS follows by itself: this region's health URL
// turns 200 as soon as its writer is writable, and the LUA record answers with it within a second.
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ResolvedDefinition } from '@conduit/definition';
import { decideRegion, type RegionMemory } from './region-failover-decide.js';
import { dbSocket, statePaths, type StatePaths } from '../paths.js';
import { httpGet, queryNode, redisCommand, runOnce, runSql, sentinelMasterPort } from '../runner/index.js';
import { readRegion, readRegionRole, readSecrets, readTopology, writeRegionRole } from '../state.js';
import { primarySql, sqlString } from '../specs/db.js';
import type { Controller, ControllerContext } from './types.js';
import type { ControllerJournal } from '../journal.js';

/** One check of the other region's health: 1 s, like PowerDNS's ifurlup timeout in the zone. */
const PEER_CHECK_TIMEOUT_MS = 1_000;
/** How long a promotion waits for the relay log it already received to be applied (the RPO it can still save). */
const APPLY_RECEIVED_TIMEOUT_S = 2;

export interface RegionFailoverOptions {
  definition: ResolvedDefinition;
  paths: StatePaths;
  journal?: ControllerJournal;
}

/** The URL the DNS record checks, on a region's address. */
export const regionHealthUrl = (d: ResolvedDefinition, address: string) => `http://${address}:${d.local.ports.edge}${d.regions.dns.healthPath}`;

/** Appends one decision to logs/region-failover.jsonl (the drill reads detection and promotion times there). */
export function record(paths: StatePaths, kind: string, sentence: string, detail: Record<string, unknown> = {}): void {
  mkdirSync(dirname(paths.regionFailoverJournal), { recursive: true });
  appendFileSync(paths.regionFailoverJournal, JSON.stringify({ at: new Date().toISOString(), kind, sentence, ...detail }) + '\n');
}

/** The start of the role sentence a fenced region carries until it rejoins as the standby (region/rejoin.ts). */
export const FENCED_WHY = 'fenced by the region failover of';

/**
 * Fences the other region as far as it can be reached: its role file says standby (its DB failover controller
 * then stops reopening writes) and every database node that still answers is set read-only.
 * @returns one clause saying what was fenced.
 */
export async function fencePeer(d: ResolvedDefinition, peerStateDir: string, self: { host: string; port: number }, why = `${FENCED_WHY} ${d.regionName}`): Promise<string> {
  const peer = statePaths(peerStateDir);
  const role = readRegionRole(peer);
  if (role) writeRegionRole(peer, { ...role, role: 'standby', upstream: self, updatedAt: new Date().toISOString(), why });
  const nodes = readRegion(peerStateDir).processes.filter((p) => p.tier === 'db');
  const fenced: string[] = [];
  await Promise.all(nodes.map(async (n) => {
    const ok = await runSql(dbSocket(peer, n), n.name, ['SET GLOBAL read_only = ON'], { timeoutMs: 500 }).then(() => true, () => false);
    if (ok) fenced.push(n.name);
  }));
  return fenced.length > 0 ? `fenced ${fenced.join(', ')} of the old region (read-only)` : 'nothing of the old region answered (no node to fence)';
}

/** Applies what the standby primary already received, then makes it a writable primary. @returns its GTID position. */
export async function promoteDatabase(d: ResolvedDefinition, paths: StatePaths): Promise<{ node: string; gtid: string; applied: boolean }> {
  const topology = readTopology(paths);
  if (!topology) throw new Error(`${paths.topology} missing: the region was never brought up`);
  const socket = dbSocket(paths, { name: topology.primary });
  const [st] = await queryNode<Record<string, string | null>>(socket, 'SHOW SLAVE STATUS', 2_000);
  let applied = true;
  if (st?.Gtid_IO_Pos) {
    const [w] = await queryNode<{ r: number | null }>(socket, `SELECT MASTER_GTID_WAIT(${sqlString(st.Gtid_IO_Pos)}, ${APPLY_RECEIVED_TIMEOUT_S}) AS r`, (APPLY_RECEIVED_TIMEOUT_S + 2) * 1000);
    applied = Number(w?.r) === 0;
  }
  await runSql(socket, topology.primary, primarySql(d.database.semiSyncTimeoutMs), { timeoutMs: 5_000 });
  const [g] = await queryNode<{ pos: string }>(socket, 'SELECT @@gtid_binlog_pos AS pos', 2_000);
  return { node: topology.primary, gtid: g?.pos ?? '', applied };
}

/** A new cache generation: the region's Redis primary is flushed and every edge object banned. */
export async function newCacheGeneration(d: ResolvedDefinition, paths: StatePaths): Promise<string> {
  const secrets = readSecrets(paths);
  const ports = await Promise.all(d.sentinelNodes.map((s) => sentinelMasterPort(s.port, d.cacheMasterName, 500, d.address, secrets.sentinelPassword)));
  const master = ports.find((p): p is number => p !== null) ?? d.cacheNodes[0]!.port;
  const flushed = await redisCommand(master, ['FLUSHALL'], 1_000, d.address, secrets.redisAdminPassword).then(() => 'Redis flushed', (e: Error) => `Redis not flushed (${e.message})`);
  const banned = await runOnce('varnishadm', ['-n', paths.varnishWorkdir, 'ban', 'obj.status', '!=', '0'], { timeoutMs: 3_000 })
    .then(() => 'edge banned', (e: Error) => `edge not banned (${e.message.split('\n')[0]})`);
  return `${flushed}, ${banned}`;
}

/**
 * The whole promotion, in order: fence, promote the database, record the role (cache generation + 1), start
 * the new cache generation. Safe to repeat. `peerWhy` is the sentence the other region's role gets: a planned
 * switchover says so (that region replicates from here right after: it may take over again), a failover says
 * fenced (it stopped replicating: it must rejoin first). @returns its sentence.
 */
export async function promoteRegion(d: ResolvedDefinition, paths: StatePaths, why: string, peerWhy?: string): Promise<string> {
  const t0 = Date.now();
  const role = readRegionRole(paths);
  if (!role) throw new Error(`${paths.regionRole} missing: not a region of a two-region deployment`);
  const fence = role.peerStateDir ? await fencePeer(d, role.peerStateDir, { host: d.address, port: d.local.ports.dbWriter }, peerWhy) : 'no other region to fence';
  const tFence = Date.now();
  const db = await promoteDatabase(d, paths);
  const tDb = Date.now();
  const generation = role.cacheGeneration + 1;
  writeRegionRole(paths, { ...role, role: 'primary', upstream: null, cacheGeneration: generation, updatedAt: new Date().toISOString(), why });
  const cache = await newCacheGeneration(d, paths);
  const sentence = `promoted ${d.regionName} to the writer region (${why}): ${fence} in ${tFence - t0} ms; ${db.node} ${db.applied ? 'applied everything it had received' : 'did NOT finish applying what it had received'} and opened for writes at GTID ${db.gtid} in ${tDb - tFence} ms; cache generation ${generation} (${cache}); DNS follows once ${d.regions.dns.healthPath} answers 200 here`;
  record(paths, 'promoted', sentence, { fenceMs: tFence - t0, promoteMs: tDb - tFence, totalMs: Date.now() - t0, gtid: db.gtid, generation });
  return sentence;
}

/** One observe → decide → act round per tick. */
export function createRegionFailoverController(opts: RegionFailoverOptions): { tick(now?: number): Promise<string | null> } {
  const d = opts.definition;
  let memory: RegionMemory = { unhealthySince: null, reported: false };
  return {
    async tick(now = Date.now()) {
      const role = readRegionRole(opts.paths);
      // A fenced region never promotes itself: it stopped replicating when the other region took over, so it
      // holds none of the new writer's writes; it must rejoin first (`tier region rejoin`, or `tier up`).
      if (role?.role !== 'standby' || role.why.startsWith(FENCED_WHY) || d.peerAddress === null) {
        // Forget any outage seen before: a region made standby again (a switchover) counts a new outage from its
        // first failed check. One remembered from before it was the writer would promote it at once, while the
        // other region is still opening for writes: two writers.
        memory = { unhealthySince: null, reported: false };
        return null;
      }
      const url = regionHealthUrl(d, d.peerAddress);
      const r = await httpGet(url, { timeoutMs: PEER_CHECK_TIMEOUT_MS }).then((x) => ({ ok: x.status === 200, error: x.status === 200 ? null : `HTTP ${x.status}` }), (e: NodeJS.ErrnoException) => ({ ok: false, error: e.code ?? e.message }));
      const peerName = d.local.region === 'secondary' ? d.regions.primary : d.regions.secondary!;
      const out = decideRegion({ now, role: role.role, peerHealthy: r.ok, peerError: r.error }, { failoverAfterMs: d.local.regionFailoverAfterMs, mode: d.regions.failover, regionName: d.regionName, peerName }, memory);
      memory = out.memory;
      const dec = out.decision;
      if (dec.kind === 'none') return null;
      if (dec.kind !== 'promote') {
        record(opts.paths, dec.kind === 'note' ? (r.ok ? 'recovered' : 'detected') : 'await-operator', dec.sentence);
        return dec.sentence;
      }
      record(opts.paths, 'decided', dec.sentence, { unhealthyMs: dec.unhealthyMs });
      const entry = opts.journal?.open('promote-region', { region: d.regionName, peer: peerName });
      try {
        const said = await promoteRegion(d, opts.paths, `${peerName} down for ${(dec.unhealthyMs / 1000).toFixed(1)} s`);
        if (entry) opts.journal!.close(entry, 'done');
        return said;
      } catch (e) {
        const sentence = `region promotion of ${d.regionName} failed: ${(e as Error).message} (the next tick tries again)`;
        record(opts.paths, 'promote-failed', sentence);
        if (entry) opts.journal!.close(entry, sentence);
        // Forget the outage so the next tick re-decides from scratch, and promotes again if it must.
        memory = { unhealthySince: memory.unhealthySince, reported: false };
        return sentence;
      }
    },
  };
}

export function createController(ctx: ControllerContext): Controller {
  const c = createRegionFailoverController({ definition: ctx.definition, paths: ctx.paths, journal: ctx.journal });
  return {
    name: 'region-failover',
    tick: () => c.tick(),
    // Every step of a promotion is safe to repeat: an interrupted one is finished by promoting again.
    resume: async (entry) => {
      if (readRegionRole(ctx.paths)?.role === 'primary') return 'finished: this region is the writer region';
      return `re-running the promotion: ${await promoteRegion(ctx.definition, ctx.paths, `resumed after a supervisor crash (${String(entry.detail.peer)} was down)`)}`;
    },
  };
}
