// The database failover controller's brain: a pure function from the observed state to one decision.
// No I/O here. Tests feed it observed states and assert on the decision and its sentence.
//
// Order of concerns, one decision per tick (every step is safe to repeat; the next tick re-observes):
//   1. fencing: a node that is not the primary must never be writable;
//   2. the primary is unreachable on its socket and through the writer endpoint (both paths): wait
//      failoverAfterMs when it is gone (refused), stallFailoverAfterMs when it is silent (a stall may end),
//      then promote the replica with the most advanced GTID;
//   3. the primary restarted read-only (every node starts fenced): reopen it for writes;
//   4. the writer endpoint points at the primary and nowhere else;
//   5. semi-sync: master side on the primary only (AFTER_SYNC, wait_no_slave OFF), slave side on replicas;
//   6. replicas (and a returning old primary) replicate from the primary;
//   7. the reader endpoint holds only replicas that are reachable, replicating and fresh;
//   8. a replica whose applier stopped on an error that says its data cannot be trusted gets a new copy.

/** One GTID domain's last transaction: domain-server-seq. */
export interface GtidPart {
  domain: number;
  server: number;
  seq: number;
}

export interface ReplicationState {
  /** Node name of the source (from Master_Port), null when the port belongs to no known node. */
  source: string | null;
  sourcePort: number;
  ioRunning: 'Yes' | 'No' | 'Connecting';
  sqlRunning: boolean;
  /** Last_IO_Error or Last_SQL_Error, null when none. */
  lastError: string | null;
  /** Last_SQL_Errno: why the applier stopped (0: it did not). */
  lastSqlErrno: number;
  secondsBehind: number | null;
  /** Gtid_IO_Pos: what this replica has received (applied or still in its relay log). */
  gtidIoPos: string;
}

export interface SemiSyncState {
  masterEnabled: boolean;
  /** Rpl_semi_sync_master_status: OFF while enabled = it fell back to async. */
  masterStatus: boolean;
  masterClients: number;
  waitPoint: string;
  waitNoSlave: boolean;
  timeoutMs: number;
  slaveEnabled: boolean;
}

export interface NodeState {
  name: string;
  reachable: boolean;
  /** Why it is unreachable (connect refused, timeout…), null when reachable. */
  error: string | null;
  /** Unreachable because nothing answered before the deadline (a stall), not because nothing listens (gone). */
  stalled?: boolean;
  readOnly: boolean;
  replication: ReplicationState | null;
  gtidCurrentPos: string;
  gtidBinlogPos: string;
  /** @@gtid_binlog_state: per domain, the last GTID of every server id in its binlog. */
  gtidBinlogState: string;
  semiSync: SemiSyncState;
  /** A re-cloned node not yet rejoined: the GTID position of its copy (from xtrabackup_binlog_info). */
  cloneGtid?: string;
}

import type { DbTopology } from '../types.js';

export type ServerAdminState = 'ready' | 'maint' | 'drain';

export type { DbTopology } from '../types.js';

export interface Observed {
  now: number;
  /** null until the region's bootstrap has written <stateDir>/db-topology.json: the controller does nothing. */
  topology: DbTopology | null;
  nodes: NodeState[];
  /** HAProxy admin state of each server of be_db_writer / be_db_reader; null when HAProxy is not reachable. */
  writer: Record<string, ServerAdminState> | null;
  reader: Record<string, ServerAdminState> | null;
  /**
   * The second path to the primary, probed only while its socket does not answer: what a bare connection to the
   * writer endpoint got (`answered` only when HAProxy routes the writer to the primary alone). Absent: not probed.
   */
  writerEndpoint?: { answered: boolean; detail: string };
}

/** What the controller remembers between ticks (only timing: the rest is re-observed). */
export interface Memory {
  /** When each node was first seen unreachable in the current outage. */
  unreachableSince: Record<string, number>;
  /**
   * The primary's semi-sync state when last seen: `async` when it committed without waiting for any
   * replica (semi-sync fallen back, or no replica connected), and since when. Absent before the first look.
   */
  lastSemiSync?: { node: string; async: boolean; since: number };
  /** When each replica's applier was first seen stopped on a data error (DATA_ERRNOS), in the current episode. */
  brokenSince?: Record<string, number>;
}

export interface Policy {
  failoverAfterMs: number;
  /** database.stallFailoverAfterMs: the threshold while the primary is silent rather than gone. */
  stallFailoverAfterMs: number;
  semiSyncTimeoutMs: number;
  /** A replica further behind than this leaves the reader endpoint. */
  maxReaderLagSeconds: number;
  /** database.asyncPrimaryFailover: whether a primary lost while committing asynchronously is failed over. */
  asyncPrimaryFailover: 'wait' | 'promote';
  /** database.recloneBrokenReplicaAfterMs: how long a replica's applier may stay stopped on a data error; 0 = never re-clone. */
  recloneBrokenReplicaAfterMs: number;
}

export type Decision =
  | { kind: 'none' }
  | { kind: 'wait'; node: string; sentence: string }
  | { kind: 'blocked'; sentence: string }
  | { kind: 'fence'; node: string; primary: string; sentence: string }
  | {
      kind: 'failover';
      from: string;
      to: string;
      /** The candidate's received GTID position: applied before it opens for writes. */
      waitForGtid: string;
      repoint: string[];
      sentence: string;
    }
  | { kind: 'open-primary'; node: string; sentence: string }
  | { kind: 'switch-writer'; primary: string; maint: string[]; sentence: string }
  | { kind: 'configure-primary'; node: string; sentence: string }
  | { kind: 'configure-replica'; node: string; sentence: string }
  | {
      kind: 'rewind';
      node: string;
      to: string;
      /** The last GTIDs both share (exclusive start of the flashback), and its slave position afterwards. */
      fork: string;
      errant: string;
      sentence: string;
    }
  | { kind: 'repoint'; node: string; to: string; /** A re-cloned node: its slave position, from the copy. */ slavePos?: string; sentence: string }
  | { kind: 'reader'; ready: string[]; maint: string[]; sentence: string }
  /** A new copy of a healthy node's data for `node` (the supervisor stops it, clones, starts it; step 6 rejoins it). */
  | { kind: 'reclone'; node: string; why: string; sentence: string };

// ---- GTIDs ----

export function parseGtid(pos: string): GtidPart[] {
  return pos
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const [domain, server, seq] = s.split('-').map(Number);
      return { domain: domain!, server: server!, seq: seq! };
    })
    .filter((p) => Number.isFinite(p.domain) && Number.isFinite(p.server) && Number.isFinite(p.seq));
}

export const formatGtid = (parts: GtidPart[]) =>
  [...parts].sort((a, b) => a.domain - b.domain).map((p) => `${p.domain}-${p.server}-${p.seq}`).join(',');

/** Per domain, the part with the highest sequence number. */
export function mergeGtid(...positions: string[]): string {
  const best = new Map<number, GtidPart>();
  for (const pos of positions) for (const p of parseGtid(pos)) if ((best.get(p.domain)?.seq ?? -1) < p.seq) best.set(p.domain, p);
  return formatGtid([...best.values()]);
}

/** Orders positions: a domain-by-domain comparison summed into one number (positive: a is ahead). */
export function compareGtid(a: string, b: string): number {
  const pa = new Map(parseGtid(a).map((p) => [p.domain, p.seq]));
  const pb = new Map(parseGtid(b).map((p) => [p.domain, p.seq]));
  let diff = 0;
  for (const d of new Set([...pa.keys(), ...pb.keys()])) diff += (pa.get(d) ?? 0) - (pb.get(d) ?? 0);
  return diff;
}

/** True when `node` holds a transaction in some domain beyond what `primary` has: it cannot simply rejoin. */
export function hasErrantTransactions(node: string, primary: string): boolean {
  const pp = new Map(parseGtid(primary).map((p) => [p.domain, p]));
  return parseGtid(node).some((p) => {
    const q = pp.get(p.domain);
    return !q || p.seq > q.seq || (p.seq === q.seq && p.server !== q.server);
  });
}

/**
 * The transactions `node` wrote itself that `primary` never received: for each domain, the node's last
 * GTID compared with the last GTID of the same server id in the primary's binlog state. Returns the
 * fork (where they diverge, per domain, as a GTID position) and the errant tail; null when none.
 */
export function errantTail(nodeBinlogPos: string, primaryBinlogState: string): { fork: string; errant: string } | null {
  const state = parseGtid(primaryBinlogState);
  const fork: GtidPart[] = [];
  const errant: GtidPart[] = [];
  for (const p of parseGtid(nodeBinlogPos)) {
    const same = state.find((q) => q.domain === p.domain && q.server === p.server);
    if (same && same.seq >= p.seq) {
      fork.push(p);
      continue;
    }
    // The primary never saw this server's last transactions in this domain: they are errant.
    // Without any of its transactions in the primary's binlog, the fork cannot be located: not rewindable here.
    if (!same) return { fork: '', errant: formatGtid([p]) };
    fork.push(same);
    errant.push(p);
  }
  return errant.length ? { fork: formatGtid(fork), errant: formatGtid(errant) } : null;
}

/** What a node holds: its own transactions and everything it has received, applied or not. */
export const receivedGtid = (n: NodeState) => mergeGtid(n.gtidCurrentPos, n.replication?.gtidIoPos ?? '');

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

// ---- the decision ----

/** Its SQL thread runs (or it replicates from nobody): it can apply what it received. */
const applierRuns = (n: NodeState) => n.replication === null || n.replication.sqlRunning;

/**
 * Applier errors that say the replica's data cannot be trusted, and never clear by themselves: a row it lacks
 * (1032) or already holds (1062), a table it lacks (1146), a corrupt index or table (1034 ER_NOT_KEYFILE,
 * 1194/1195 crashed, 1712 ER_INDEX_CORRUPT), a storage-engine error (1030). Not here: lock waits and deadlocks
 * (retried by the applier itself), a lost connection to the source (the IO thread reconnects).
 */
export const DATA_ERRNOS: ReadonlySet<number> = new Set([1030, 1032, 1034, 1062, 1146, 1194, 1195, 1712]);

/** Its applier stopped on a data error while replicating from `primary`. */
const brokenApplier = (n: NodeState, primary: string) => {
  const r = n.replication;
  return n.reachable && !!r && r.source === primary && !r.sqlRunning && DATA_ERRNOS.has(r.lastSqlErrno);
};

/** Pure: the observed state and the memory in, one decision out. Also returns the memory for the next tick. */
export function decide(o: Observed, memory: Memory, policy: Policy): { decision: Decision; memory: Memory } {
  // The primary's outage counts only while both paths fail: its socket, and the writer endpoint the clients use.
  const answersThroughEndpoint = (n: NodeState) => n.name === o.topology?.primary && o.writerEndpoint?.answered === true;
  const unreachableSince: Record<string, number> = {};
  for (const n of o.nodes) if (!n.reachable && !answersThroughEndpoint(n)) unreachableSince[n.name] = memory.unreachableSince[n.name] ?? o.now;
  const next: Memory = { unreachableSince, lastSemiSync: memory.lastSemiSync, brokenSince: {} };
  const d = (decision: Decision) => ({ decision, memory: next });

  const topo = o.topology;
  if (!topo) return d({ kind: 'none' });
  const byName = new Map(o.nodes.map((n) => [n.name, n]));
  const primary = byName.get(topo.primary);
  if (!primary) return d({ kind: 'blocked', sentence: `topology names ${topo.primary} as primary, but the definition has no such node` });
  // Remember whether the writable primary commits synchronously (a replica acknowledges) or alone.
  if (primary.reachable && !primary.readOnly) {
    const async = !primary.semiSync.masterStatus || primary.semiSync.masterClients === 0;
    const prev = memory.lastSemiSync;
    next.lastSemiSync = { node: primary.name, async, since: prev && prev.node === primary.name && prev.async === async ? prev.since : o.now };
  }
  const others = o.nodes.filter((n) => n.name !== primary.name);
  for (const n of others) if (brokenApplier(n, primary.name)) next.brokenSince![n.name] = memory.brokenSince?.[n.name] ?? o.now;

  // 1. Fencing first: a writable node that is not the primary would split the brain.
  for (const n of others) {
    if (n.reachable && !n.readOnly) {
      return d({ kind: 'fence', node: n.name, primary: primary.name, sentence: `fenced ${n.name}: it accepted writes (read_only=OFF) but ${primary.name} is the primary; set read_only=ON and took it out of the writer endpoint` });
    }
  }

  // 2. The primary is unreachable.
  if (!primary.reachable && answersThroughEndpoint(primary)) {
    return d({
      kind: 'wait',
      node: primary.name,
      sentence: `primary ${primary.name} unreachable on its socket (${primary.error ?? 'no answer'}) but answering through the writer endpoint (${o.writerEndpoint!.detail}): not failing over`,
    });
  }
  if (!primary.reachable) {
    const since = unreachableSince[primary.name]!;
    const down = o.now - since;
    const threshold = primary.stalled ? policy.stallFailoverAfterMs : policy.failoverAfterMs;
    const why = `${primary.error ?? 'no answer'}; writer endpoint: ${o.writerEndpoint?.detail ?? 'not probed'}`;
    if (down < threshold) {
      const kind = primary.stalled ? 'silent (connected, no answer: a stall may end)' : 'gone';
      return d({ kind: 'wait', node: primary.name, sentence: `primary ${primary.name} unreachable (${why}), ${kind}; failing over if it stays so for ${secs(threshold)}` });
    }
    const candidates = others
      .filter((n) => n.reachable)
      .map((n) => ({ n, gtid: receivedGtid(n) }))
      // Among those that received as much, one whose applier runs: a replica whose SQL thread stopped on an
      // error (a corrupt index, seen in a repeated-primary-kill drill) cannot apply its relay log, and choosing
      // it again every tick left the region without a writer.
      .sort((a, b) => compareGtid(b.gtid, a.gtid) || Number(applierRuns(b.n)) - Number(applierRuns(a.n)) || a.n.name.localeCompare(b.n.name));
    const best = candidates[0];
    if (!best) return d({ kind: 'blocked', sentence: `cannot fail over: primary ${primary.name} unreachable for ${secs(down)} and no replica is reachable` });
    const wasAsync = memory.lastSemiSync?.node === primary.name && memory.lastSemiSync.async ? memory.lastSemiSync : null;
    const asyncFor = wasAsync ? `, committing without any replica's acknowledgement for ${secs(o.now - wasAsync.since)} before it was lost` : '';
    if (wasAsync && policy.asyncPrimaryFailover === 'wait') {
      return d({
        kind: 'blocked',
        sentence:
          `not promoting: primary ${primary.name} unreachable for ${secs(down)} (${why})${asyncFor}, so no replica is sure to hold every acknowledged write ` +
          `(database.asyncPrimaryFailover: wait); waiting for ${primary.name} to come back or for an operator`,
      });
    }
    const rest = candidates.slice(1);
    const cmp = rest.length ? ` (${rest.map((c) => `${c.n.name}: ${c.gtid || 'empty'}`).join(', ')})` : '';
    return d({
      kind: 'failover',
      from: primary.name,
      to: best.n.name,
      waitForGtid: best.gtid,
      repoint: rest.map((c) => c.n.name),
      sentence:
        `promoted ${best.n.name}: primary ${primary.name} unreachable for ${secs(down)} (${why}), ` +
        `${best.n.name} has the most advanced GTID ${best.gtid || 'empty'}${cmp}; fenced ${primary.name} at the writer endpoint, ` +
        `${rest.length ? `repointed ${rest.map((c) => c.n.name).join(', ')}, ` : ''}writer endpoint now ${best.n.name}` +
        (wasAsync ? `; WARNING: ${primary.name} was committing asynchronously since ${new Date(wasAsync.since).toISOString()}: writes acknowledged since then may be lost (database.asyncPrimaryFailover: promote)` : ''),
    });
  }

  // 3. The primary is back but read-only (it restarted fenced) or still configured as a replica.
  if (primary.readOnly || primary.replication) {
    const why = primary.replication ? `it still replicates from ${primary.replication.source ?? `port ${primary.replication.sourcePort}`}` : 'it restarted read-only';
    return d({ kind: 'open-primary', node: primary.name, sentence: `reopened ${primary.name} for writes: it is the primary in the topology and ${why}; semi-sync AFTER_SYNC on, read_only=OFF` });
  }

  // 4. The writer endpoint sends writes to the primary only.
  if (o.writer) {
    const wrongMaint = o.writer[primary.name] !== undefined && o.writer[primary.name] !== 'ready';
    const strays = Object.entries(o.writer).filter(([name, s]) => name !== primary.name && s !== 'maint').map(([name]) => name);
    if (wrongMaint || strays.length) {
      const parts = [wrongMaint ? `${primary.name} was ${o.writer[primary.name]}` : '', strays.length ? `${strays.join(', ')} still enabled` : ''].filter(Boolean);
      return d({ kind: 'switch-writer', primary: primary.name, maint: others.map((n) => n.name), sentence: `writer endpoint now ${primary.name} only: ${parts.join(', ')}` });
    }
  }

  // 5. Semi-sync: master side on the primary, AFTER_SYNC, never blocking when no replica is connected.
  const s = primary.semiSync;
  if (!s.masterEnabled || s.waitPoint !== 'AFTER_SYNC' || s.waitNoSlave || s.timeoutMs !== policy.semiSyncTimeoutMs) {
    return d({
      kind: 'configure-primary',
      node: primary.name,
      sentence: `configured semi-sync on primary ${primary.name}: master enabled (was ${s.masterEnabled ? 'on' : 'off'}), wait point AFTER_SYNC (was ${s.waitPoint}), wait_no_slave OFF, timeout ${policy.semiSyncTimeoutMs} ms`,
    });
  }

  // 6. Replicas replicate from the primary, with the slave side of semi-sync and not the master side.
  for (const n of others) {
    if (!n.reachable) continue;
    const r = n.replication;
    if (!r || r.source !== primary.name) {
      if (n.cloneGtid) {
        return d({ kind: 'repoint', node: n.name, to: primary.name, slavePos: n.cloneGtid, sentence: `${n.name} now replicates from ${primary.name} from the position of its re-clone (${n.cloneGtid})` });
      }
      const tail = errantTail(n.gtidBinlogPos, primary.gtidBinlogState);
      if (tail && tail.fork === '') {
        return d({
          kind: 'blocked',
          sentence: `${n.name} cannot rejoin: it holds transactions ${primary.name} never received (${n.name}: ${n.gtidBinlogPos}, ${primary.name}: ${primary.gtidBinlogState}); it stays fenced, rebuild it from a backup`,
        });
      }
      if (tail) {
        return d({
          kind: 'rewind',
          node: n.name,
          to: primary.name,
          fork: tail.fork,
          errant: tail.errant,
          sentence:
            `rewound ${n.name}: it held transactions no replica had acknowledged (${tail.errant}, after ${tail.fork}, never received by ${primary.name}); ` +
            `saved them to errant/ in the state folder, undid them with a binlog flashback and made it a replica of ${primary.name}`,
        });
      }
      const was = !r ? 'it had no replication configured' : `it replicated from ${r.source ?? `port ${r.sourcePort}`}`;
      return d({ kind: 'repoint', node: n.name, to: primary.name, sentence: `${n.name} now replicates from ${primary.name} (GTID slave_pos): ${was}` });
    }
    if (!n.semiSync.slaveEnabled || n.semiSync.masterEnabled) {
      return d({ kind: 'configure-replica', node: n.name, sentence: `configured semi-sync on replica ${n.name}: slave side on, master side off (so it acknowledges ${primary.name}'s commits)` });
    }
  }

  // 7. The reader endpoint: reachable replicas that replicate, are not broken and not lagging.
  if (o.reader) {
    const ready: string[] = [];
    const maint: string[] = [];
    const why: string[] = [];
    for (const n of others) {
      const current = o.reader[n.name];
      if (current === undefined) continue;
      const r = n.replication;
      const lag = r?.secondsBehind;
      const healthy = n.reachable && !!r && r.source === primary.name && r.sqlRunning && r.ioRunning === 'Yes' && r.lastError === null && lag !== null && lag !== undefined && lag <= policy.maxReaderLagSeconds;
      if (healthy && current !== 'ready') {
        ready.push(n.name);
        why.push(`${n.name} back (lag ${lag} s)`);
      }
      if (!healthy && current === 'ready') {
        maint.push(n.name);
        const reason = !n.reachable ? `unreachable (${n.error ?? 'no answer'})`
          : !r ? 'not replicating'
          : r.lastError ? `replication broken: ${r.lastError}`
          : r.ioRunning !== 'Yes' || !r.sqlRunning ? `replication threads io=${r.ioRunning} sql=${r.sqlRunning ? 'Yes' : 'No'}`
          : `lagging ${lag ?? 'unknown'} s > ${policy.maxReaderLagSeconds} s`;
        why.push(`${n.name} ${reason}`);
      }
    }
    if (ready.length || maint.length) {
      return d({ kind: 'reader', ready, maint, sentence: `reader endpoint: ${why.join('; ')}` });
    }
  }

  // 8. A replica whose applier stopped on a data error (out of the reader endpoint by now) gets a new copy.
  for (const n of others) {
    const since = next.brokenSince![n.name];
    if (since === undefined || policy.recloneBrokenReplicaAfterMs === 0) continue;
    const r = n.replication!;
    const error = `error ${r.lastSqlErrno}: ${r.lastError ?? 'no message'}`;
    if (o.now - since < policy.recloneBrokenReplicaAfterMs) {
      return d({ kind: 'wait', node: n.name, sentence: `${n.name}'s applier stopped on ${error}; its data cannot be trusted: re-cloning it if it stays so for ${secs(policy.recloneBrokenReplicaAfterMs)}` });
    }
    return d({
      kind: 'reclone',
      node: n.name,
      why: `its applier stopped on ${error} ${secs(o.now - since)} ago`,
      sentence: `re-cloning ${n.name}: its applier stopped on ${error} ${secs(o.now - since)} ago, so its data cannot be trusted; the supervisor replaces its data dir with a copy of a healthy node's (the old one kept aside) and it rejoins ${primary.name}`,
    });
  }

  return d({ kind: 'none' });
}

// ---- redundancy ----

export interface Redundancy {
  /** As many healthy replicas of the primary as the definition has, each acknowledging its commits (semi-sync). */
  full: boolean;
  /** Replicas replicating from the primary with both threads running and no error. */
  replicating: string[];
  /** Rpl_semi_sync_master_clients of the primary. */
  semiSyncReplicas: number;
  /** What is below the definition, e.g. "1 of 2 replicas replicating from db-b (db-a: unreachable)"; "" when full. */
  shortfall: string;
}

/** Redundancy of the tier as observed, against `wanted` replicas (the definition); null before the bootstrap or without a reachable primary. */
export function redundancy(o: Observed, wanted: number): Redundancy | null {
  const topo = o.topology;
  const primary = topo ? o.nodes.find((n) => n.name === topo.primary) : undefined;
  if (!topo || !primary) return null;
  const others = o.nodes.filter((n) => n.name !== primary.name);
  const healthy = (n: NodeState) => !!n.replication && n.replication.source === primary.name && n.replication.ioRunning === 'Yes' && n.replication.sqlRunning && n.replication.lastError === null;
  const replicating = others.filter((n) => n.reachable && healthy(n)).map((n) => n.name);
  const semiSyncReplicas = primary.reachable ? primary.semiSync.masterClients : 0;
  const problems: string[] = [];
  if (!primary.reachable) problems.push(`primary ${primary.name} unreachable`);
  if (replicating.length < wanted) {
    const why = others.filter((n) => !replicating.includes(n.name)).map((n) => `${n.name}: ${!n.reachable ? 'unreachable' : !n.replication ? 'not replicating' : n.replication.source !== primary.name ? `replicating from ${n.replication.source ?? '?'}` : n.replication.lastError ?? 'threads stopped'}`);
    problems.push(`${replicating.length} of ${wanted} replicas replicating from ${primary.name}${why.length ? ` (${why.join(', ')})` : ''}`);
  }
  if (primary.reachable && semiSyncReplicas < wanted) problems.push(`semi-sync on ${primary.name} with ${semiSyncReplicas} of ${wanted} replicas acknowledging`);
  return { full: problems.length === 0, replicating, semiSyncReplicas, shortfall: problems.join('; ') };
}
