// Failback: a region that was the writer and lost that role (region loss, `tier region failover`) rejoins as the
// standby of the region that took over. What its database nodes hold that never reached the new writer region
// (the errant transactions: written here after the last one the other region received) is saved to errant/ in
// the state folder first, then undone with the same steps as the in-region rewind (db-failover-steps.ts:
// save-errant, flashback), its binlog restarts at the fork, and it replicates from the new writer endpoint.
// Runs at `tier up` of a standby region (bring-up.ts) and on a running one (`tier region rejoin`).
import type { DbNode, ResolvedDefinition } from '@conduit/definition';
import { dbSocket, errantFile, statePaths, type StatePaths } from '../paths.js';
import { flashback, queryNode, runSql, saveBinlogTail } from '../runner/index.js';
import { readRegionRole, readSecrets, readTopology, writeRegionRole } from '../state.js';
import { replicaOfSql, sqlString, standbyOfSql } from '../specs/db.js';
import { errantTail, hasErrantTransactions, mergeGtid } from '../controllers/db-failover-decide.js';
import { newCacheGeneration, record } from '../controllers/region-failover.js';
import { readPlan } from '../supervisor/plan.js';
import { waitUntil } from '../runner/probe.js';
import { RegionError } from './errors.js';
import { gtidDistance, localRegions } from './regions.js';
import type { DbTopology, RegionRole } from '../types.js';

export interface RewindResult {
  /** Transactions this region held that the writer region never received (summed over the nodes saved). */
  errantTransactions: number;
  /** The files they were saved to (errant/<node>-<time>-<gtids>.sql). */
  files: string[];
  /** Nodes rewound to the fork, and the fork. */
  rewound: string[];
  fork: string | null;
  sentence: string;
}

/** How long a returning region waits for the writer region's primary to answer before it compares positions. */
const UPSTREAM_WAIT_MS = 10_000;

/** The writer region's primary binlog state (last GTID per domain and server): what it has received of everyone. */
export async function writerBinlogState(peerStateDir: string, timeoutMs = UPSTREAM_WAIT_MS): Promise<string> {
  const peer = statePaths(peerStateDir);
  const r = await waitUntil('the writer region\'s database primary answering', async () => {
    const t = readTopology(peer);
    if (!t) return null;
    const [row] = await queryNode<{ s: string }>(dbSocket(peer, { name: t.primary }), 'SELECT @@global.gtid_binlog_state AS s', 1_000).catch(() => []);
    return row ?? null;
  }, timeoutMs, 200);
  return r.s;
}

/**
 * Rewinds every database node of this (standby) region that holds transactions the writer region never received:
 * read-only, replication stopped, the transactions saved once (a replica's copy of the primary's is not saved
 * twice), undone with a binlog flashback, then a fresh binlog that starts at the fork (`gtid_binlog_state`, so the
 * region's replicas can still connect from it) and `gtid_slave_pos` at the fork. Nothing to do when none holds any.
 */
export async function rewindToWriter(d: ResolvedDefinition, paths: StatePaths, topology: DbTopology, writerState: string): Promise<RewindResult> {
  const byName = new Map(d.dbNodes.map((n) => [n.name, n]));
  const order = [topology.primary, ...topology.replicas].map((n) => byName.get(n)).filter((n): n is DbNode => !!n);
  const positions = await Promise.all(order.map(async (n) => {
    const [r] = await queryNode<{ pos: string }>(dbSocket(paths, n), 'SELECT @@global.gtid_binlog_pos AS pos', 5_000);
    return { node: n, pos: r?.pos ?? '' };
  }));
  let saved = '';
  const files: string[] = [];
  const rewound: string[] = [];
  let fork: string | null = null;
  for (const { node, pos } of positions) {
    const tail = errantTail(pos, writerState);
    if (!tail) continue;
    if (tail.fork === '') {
      throw new RegionError(`${node.name} of ${d.regionName} cannot rejoin: none of its transactions (${pos}) is in the writer region's binlog (${writerState}); rebuild this region (\`tier destroy\` loses its data) or restore it from a backup`);
    }
    const socket = dbSocket(paths, node);
    await runSql(socket, node.name, ['SET GLOBAL read_only = ON', 'STOP SLAVE'], { timeoutMs: 5_000 });
    // The same steps as the in-region rewind (db-failover-steps.ts 'save-errant', 'flashback'), through the same runner.
    if (!saved || hasErrantTransactions(tail.errant, saved)) {
      const file = errantFile(paths, node.name, tail.errant, new Date());
      await saveBinlogTail(socket, node.name, tail.fork, file);
      files.push(file);
      saved = mergeGtid(saved, tail.errant);
    }
    await flashback(socket, node.name, tail.fork);
    await runSql(socket, node.name, ['RESET MASTER', `SET GLOBAL gtid_binlog_state = ${sqlString(tail.fork)}`, `SET GLOBAL gtid_slave_pos = ${sqlString(tail.fork)}`], { timeoutMs: 5_000 });
    rewound.push(node.name);
    fork = tail.fork;
  }
  const errantTransactions = fork === null ? 0 : gtidDistance(saved, fork);
  const sentence = rewound.length === 0
    ? `${d.regionName} holds nothing the writer region lacks: no rewind`
    : `rewound ${rewound.join(', ')} of ${d.regionName} to ${fork}: ${errantTransactions} transaction(s) the writer region never received (${saved}) saved to ${files.join(', ')} and undone with a binlog flashback`;
  return { errantTransactions, files, rewound, fork, sentence };
}

/** The rejoin's sentence in logs/region-failover.jsonl, with what was saved (the failback drill reads it there). */
export function recordRejoin(paths: StatePaths, role: RegionRole, rewind: RewindResult): void {
  record(paths, 'rejoined', `${role.why}: ${rewind.sentence}`, { errantTransactions: rewind.errantTransactions, files: rewind.files, rewound: rewind.rewound, generation: role.cacheGeneration });
}

export interface RejoinReport extends RewindResult {
  region: string;
  writerRegion: string;
  cacheGeneration: number;
  ms: number;
}

/** The role a region rejoining as the standby records: upstream the writer's endpoint, a new cache generation. */
export function rejoinedRole(role: RegionRole, upstream: { host: string; port: number }, writerRegion: string, rewind: RewindResult, now = new Date()): RegionRole {
  return {
    ...role,
    role: 'standby',
    upstream,
    cacheGeneration: role.cacheGeneration + 1,
    updatedAt: now.toISOString(),
    why: `rejoined as the standby of ${writerRegion} (${rewind.rewound.length ? `${rewind.errantTransactions} errant transaction(s) saved to errant/ and undone` : 'nothing to undo'})`,
  };
}

/**
 * `tier region rejoin`: the standby region that still runs (fenced by a `tier region failover`, or a returned
 * region whose rejoin failed) is rewound if it must be, replicates from the writer region's endpoint, and its
 * caches start a new generation. A region that is down rejoins by itself at `tier up`.
 */
export async function regionRejoin(d: ResolvedDefinition, stateDir: string, progress: (line: string) => void = () => undefined): Promise<RejoinReport> {
  const t0 = Date.now();
  const regions = localRegions(d, stateDir);
  const roles = regions.map((r) => readRegionRole(statePaths(r.stateDir)));
  const writer = regions[roles.findIndex((r) => r?.role === 'primary')];
  const si = roles.findIndex((r) => r?.role === 'standby');
  const standby = regions[si];
  if (!writer || !standby) throw new RegionError('a rejoin needs a writer region and a standby region: `tier status` shows each region\'s role');
  let plan;
  try {
    plan = readPlan(statePaths(standby.stateDir).plan);
  } catch (e) {
    throw new RegionError(`${standby.definition.regionName} is not running (${(e as Error).message}): \`tier up\` brings it back as the standby`);
  }
  const sDef = plan.definition;
  const paths = statePaths(standby.stateDir, plan.varnishInTmp);
  const topology = readTopology(paths);
  if (!topology) throw new RegionError(`${paths.topology} missing: was ${sDef.regionName} ever brought up?`);
  const writerState = await writerBinlogState(writer.stateDir).catch((e: Error) => {
    throw new RegionError(`cannot compare ${sDef.regionName} with ${writer.definition.regionName}: ${e.message}`);
  });
  const rewind = await rewindToWriter(sDef, paths, topology, writerState);
  progress(rewind.sentence);
  const upstream = { host: writer.definition.address, port: writer.definition.local.ports.dbWriter };
  const s = readSecrets(paths);
  const primary = sDef.dbNodes.find((n) => n.name === topology.primary)!;
  await runSql(dbSocket(paths, primary), primary.name, standbyOfSql(upstream, { user: s.replUser, password: s.replPassword }), { timeoutMs: 5_000 });
  await Promise.all(topology.replicas.map((r) => runSql(dbSocket(paths, { name: r }), r, replicaOfSql(primary, { user: s.replUser, password: s.replPassword, host: sDef.address }), { timeoutMs: 5_000 })));
  progress(`${topology.primary} of ${sDef.regionName} replicates from ${writer.definition.regionName}'s writer ${upstream.host}:${upstream.port}, ${topology.replicas.join(', ') || 'no replica'} from it`);
  const role = rejoinedRole(roles[si]!, upstream, writer.definition.regionName, rewind);
  writeRegionRole(paths, role);
  recordRejoin(paths, role, rewind);
  const cache = await newCacheGeneration(sDef, paths);
  progress(`cache generation ${role.cacheGeneration} in ${sDef.regionName} (${cache})`);
  return { ...rewind, region: sDef.regionName, writerRegion: writer.definition.regionName, cacheGeneration: role.cacheGeneration, ms: Date.now() - t0 };
}
