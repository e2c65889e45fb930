// The database failover controller (Aurora's job on AWS), as a tick in the style of Patroni's HA loop:
// observe every node, HAProxy and the topology file; decide with a pure function (db-failover-decide.ts);
// plan the steps as data (db-failover-steps.ts); carry them out through the runner and state.ts; say
// what it did in one sentence. The supervisor calls tick() every CONTROLLER_TICK_MS. Ticks never
// overlap; every step is safe to repeat.
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DbNode, ResolvedDefinition } from '@conduit/definition';
import { decide, redundancy, type Memory, type NodeState, type Observed, type Policy, type ServerAdminState } from './db-failover-decide.js';
import { planSteps, type Step } from './db-failover-steps.js';
import { BACKENDS } from '../generators/haproxy.js';
import { dbDataDir, dbRecloneRequest, dbSocket, errantFile, type StatePaths } from '../paths.js';
import { CLONE_INFO_FILE, cloneGtid, flashback, saveBinlogTail, haproxyAct, haproxyCommand, mysqlGreeting, parseShowStat, runSql, withNode } from '../runner/index.js';
import { readRedundancy, readRegionRole, readSemiSyncMemory, readTopology, writeRedundancy, writeSemiSyncMemory, writeTopology } from '../state.js';
import { sqlString } from '../specs/db.js';
import type { RegionSecrets } from '../types.js';
import type { ControllerJournal } from '../journal.js';
import type { Controller, ControllerContext } from './types.js';

export interface DbFailoverOptions {
  definition: ResolvedDefinition;
  paths: StatePaths;
  /**
   * replUser/replPassword: the login replicas use when the controller repoints them; adminUser/adminPassword:
   * the controller's own login on each node's socket (the replication privileges only, not root).
   */
  secrets: Pick<RegionSecrets, 'replUser' | 'replPassword' | 'adminUser' | 'adminPassword'>;
  /** Every sentence, as it is said (the supervisor logs what tick() returns instead). */
  log?: (sentence: string) => void;
  /** The action journal: an entry is open while the steps of a decision run (a crash leaves it open). */
  journal?: ControllerJournal;
  /**
   * Stops the node and has the supervisor start it again on a new copy (the supervisor's re-clone); resolves
   * once it is stopped and the start is under way. Without it (tests of the controller alone) a re-clone fails.
   */
  reclone?: (node: string, why: string) => Promise<void>;
}

/**
 * Budget for observing one node, fixed rather than a definition field: past it the node counts as
 * unreachable for this tick, so it must stay well under database.failoverAfterMs (>= 200 ms is
 * allowed, 1000 ms by default) yet above a loaded machine's connect + 3 queries (~50 ms here).
 */
const OBSERVE_TIMEOUT_MS = 600;
/** An admin statement of a step (STOP SLAVE, CHANGE MASTER…) answers in milliseconds; 3 s means the node is gone. */
const STEP_TIMEOUT_MS = 3_000;

/** A sentence with its durations ("for 1.2 s") blanked: the same situation, a tick later. */
const withoutDurations = (s: string) => s.replace(/\d+(\.\d+)? s\b/g, '_');
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const yes = (v: unknown) => v === 1 || v === '1' || v === 'ON' || v === 'YES' || v === 'Yes';
const errorText = (e: unknown) => {
  const err = e as { code?: string; message?: string };
  if (isSilence(e)) return `${err.code}: no answer in ${OBSERVE_TIMEOUT_MS} ms`;
  return err.code ? `${err.code}` : (err.message ?? String(e));
};
/** The connection was accepted but nothing answered in time (our deadline or mysql2's connect timeout): a stall, not a death. */
const isSilence = (e: unknown) => ['TIMEOUT', 'ETIMEDOUT'].includes((e as { code?: string }).code ?? '');

/** Admin state of each server of a backend (MAINT, DRAIN, or ready); null when HAProxy does not list it. */
function adminStates(csv: string, backend: string): Record<string, ServerAdminState> | null {
  const b = parseShowStat(csv).get(backend);
  if (!b || b.servers.length === 0) return null;
  return Object.fromEntries(b.servers.map((s) => [s.name, s.maint ? 'maint' : s.status.startsWith('DRAIN') ? 'drain' : 'ready']));
}

/** One observe → decide → act round per tick(); it returns the sentence it said, or null when there was nothing to do. */
export function createDbFailoverController(opts: DbFailoverOptions): { tick(now?: number): Promise<string | null>; converged(): boolean } {
  const d = opts.definition;
  const paths = opts.paths;
  const policy: Policy = {
    failoverAfterMs: d.database.failoverAfterMs,
    stallFailoverAfterMs: d.database.stallFailoverAfterMs,
    semiSyncTimeoutMs: d.database.semiSyncTimeoutMs,
    maxReaderLagSeconds: d.database.readerMaxLagSeconds,
    asyncPrimaryFailover: d.database.asyncPrimaryFailover,
    recloneBrokenReplicaAfterMs: d.database.recloneBrokenReplicaAfterMs,
  };
  const byName = new Map(d.dbNodes.map((n) => [n.name, n]));
  const byPort = new Map(d.dbNodes.map((n) => [n.port, n.name]));
  const login = { user: opts.secrets.adminUser, password: opts.secrets.adminPassword };
  const socketOf = (name: string) => {
    const n = byName.get(name);
    if (!n) throw new Error(`no database node named ${name}`);
    return dbSocket(paths, n);
  };

  /** A re-cloned data dir keeps the copy's coordinates until the node replicates (then set aside). */
  const cloneGtidOf = (node: DbNode): string | undefined => {
    const info = join(dbDataDir(paths, node), CLONE_INFO_FILE);
    return existsSync(info) ? cloneGtid(readFileSync(info, 'utf8')) || undefined : undefined;
  };

  async function observeNode(node: DbNode): Promise<NodeState> {
    try {
      return await withNode(dbSocket(paths, node), async (c) => {
        const [vars] = await c.query(
          'SELECT @@global.read_only AS ro, @@global.gtid_current_pos AS cur, @@global.gtid_binlog_pos AS bin, ' +
            '@@global.rpl_semi_sync_master_enabled AS me, @@global.rpl_semi_sync_master_wait_point AS wp, ' +
            '@@global.rpl_semi_sync_master_wait_no_slave AS wns, @@global.gtid_binlog_state AS bst, @@global.rpl_semi_sync_master_timeout AS t, @@global.rpl_semi_sync_slave_enabled AS se',
        );
        const v = (vars as Record<string, unknown>[])[0]!;
        const [status] = await c.query("SHOW GLOBAL STATUS WHERE Variable_name IN ('Rpl_semi_sync_master_status', 'Rpl_semi_sync_master_clients')");
        const st = Object.fromEntries((status as { Variable_name: string; Value: string }[]).map((r) => [r.Variable_name, r.Value]));
        const [slave] = await c.query('SHOW SLAVE STATUS');
        const s = (slave as Record<string, unknown>[])[0];
        const lastError = s ? ([s.Last_IO_Error, s.Last_SQL_Error].filter((x) => typeof x === 'string' && x !== '').join('; ') || null) : null;
        return {
          name: node.name,
          reachable: true,
          error: null,
          readOnly: yes(v.ro),
          replication: s
            ? {
                source: byPort.get(Number(s.Master_Port)) ?? null,
                sourcePort: Number(s.Master_Port),
                ioRunning: s.Slave_IO_Running === 'Yes' ? 'Yes' : s.Slave_IO_Running === 'Connecting' ? 'Connecting' : 'No',
                sqlRunning: s.Slave_SQL_Running === 'Yes',
                lastError,
                lastSqlErrno: Number(s.Last_SQL_Errno ?? 0) || 0,
                secondsBehind: s.Seconds_Behind_Master === null || s.Seconds_Behind_Master === undefined ? null : Number(s.Seconds_Behind_Master),
                gtidIoPos: String(s.Gtid_IO_Pos ?? ''),
              }
            : null,
          gtidCurrentPos: String(v.cur ?? ''),
          gtidBinlogPos: String(v.bin ?? ''),
          gtidBinlogState: String(v.bst ?? ''),
          cloneGtid: cloneGtidOf(node),
          semiSync: {
            masterEnabled: yes(v.me),
            masterStatus: yes(st.Rpl_semi_sync_master_status),
            masterClients: Number(st.Rpl_semi_sync_master_clients ?? 0),
            waitPoint: String(v.wp ?? ''),
            waitNoSlave: yes(v.wns),
            timeoutMs: Number(v.t ?? 0),
            slaveEnabled: yes(v.se),
          },
        } satisfies NodeState;
      }, OBSERVE_TIMEOUT_MS, login);
    } catch (e) {
      return {
        name: node.name, reachable: false, error: errorText(e), stalled: isSilence(e), readOnly: true, replication: null, gtidCurrentPos: '', gtidBinlogPos: '', gtidBinlogState: '',
        semiSync: { masterEnabled: false, masterStatus: false, masterClients: 0, waitPoint: '', waitNoSlave: true, timeoutMs: 0, slaveEnabled: false },
      };
    }
  }

  /** The primary did not answer on its socket at the previous tick: probe the writer endpoint alongside, not after. */
  let primaryWasUnreachable = false;

  async function observe(now: number): Promise<Observed> {
    // The second path to the primary: a bare connection through the writer endpoint, as a client makes it.
    // Probed only while the socket does not answer (a healthy region sees no extra connections).
    const probeEndpoint = () => mysqlGreeting(d.local.ports.dbWriter, OBSERVE_TIMEOUT_MS, d.address);
    const early = primaryWasUnreachable ? probeEndpoint() : null;
    const [nodes, csv] = await Promise.all([Promise.all(d.dbNodes.map(observeNode)), haproxyCommand(paths.haproxySocket, 'show stat', OBSERVE_TIMEOUT_MS).catch(() => null)]);
    const topology = readTopology(paths);
    const writer = csv === null ? null : adminStates(csv, BACKENDS.dbWriter);
    const primary = nodes.find((n) => n.name === topology?.primary);
    primaryWasUnreachable = !!primary && !primary.reachable;
    let writerEndpoint: Observed['writerEndpoint'];
    if (primary && !primary.reachable) {
      writerEndpoint = await (early ?? probeEndpoint());
      // An answer speaks for the primary only while HAProxy routes the writer to it alone.
      const routed = writer ? Object.entries(writer).filter(([, s]) => s !== 'maint').map(([n]) => n) : null;
      if (writerEndpoint.answered && routed !== null && (routed.length !== 1 || routed[0] !== primary.name)) {
        writerEndpoint = { answered: false, detail: `answered, but it routes to ${routed.join(', ') || 'no server'}, not ${primary.name} alone` };
      }
    }
    return { now, topology, nodes, writer, reader: csv === null ? null : adminStates(csv, BACKENDS.dbReader), ...(writerEndpoint ? { writerEndpoint } : {}) };
  }

  /** Executes steps in order; a failing step that is not best-effort stops the plan and throws. */
  async function run(steps: Step[]): Promise<void> {
    for (const step of steps) {
      try {
        if (step.kind === 'sql') await runSql(socketOf(step.node), step.node, step.sql, { timeoutMs: step.timeoutMs ?? STEP_TIMEOUT_MS, login });
        else if (step.kind === 'gtid-wait') {
          const [r] = (await runSql(socketOf(step.node), step.node, [`SELECT MASTER_GTID_WAIT(${sqlString(step.gtid)}, ${step.timeoutMs / 1000}) AS w`], { timeoutMs: step.timeoutMs + 2_000, login })) as { w: number | string }[][];
          if (Number(r?.[0]?.w) !== 0) throw new Error(`${step.node} did not apply its relay log up to ${step.gtid} within ${step.timeoutMs} ms`);
        } else if (step.kind === 'haproxy') await haproxyAct(paths.haproxySocket, step.commands, 1_000);
        else if (step.kind === 'flashback') await flashback(socketOf(step.node), step.node, step.startGtid, 20_000, login);
        else if (step.kind === 'clone-rejoined') {
          const info = join(dbDataDir(paths, byName.get(step.node)!), CLONE_INFO_FILE);
          if (existsSync(info)) renameSync(info, `${info}.applied`);
        } else if (step.kind === 'reclone') {
          if (!opts.reclone) throw new Error('no supervisor to re-clone through');
          await opts.reclone(step.node, step.why);
        } else if (step.kind === 'save-errant') await saveBinlogTail(socketOf(step.node), step.node, step.startGtid, errantFile(paths, step.node, step.errant, new Date()), 20_000, login);
        else writeTopology(paths, step.topology);
      } catch (e) {
        if (!('bestEffort' in step) || !step.bestEffort) throw e;
      }
    }
  }

  // Redundancy below the definition is said once when it starts and once when it ends (with how long it
  // lasted), and kept in db-redundancy.json for `tier status`; a new supervisor carries on from the file.
  const wanted = d.dbNodes.length - 1;
  let degraded = readRedundancy(paths);
  function trackRedundancy(observed: Observed): void {
    const r = redundancy(observed, wanted);
    if (!r) return;
    if (!r.full && (degraded === null || degraded.full)) {
      degraded = { full: false, since: new Date(observed.now).toISOString(), shortfall: r.shortfall };
      say('redundancy-below', `redundancy below the definition: ${r.shortfall}`);
    } else if (!r.full && degraded) {
      degraded.shortfall = r.shortfall;
    } else if (r.full && degraded && !degraded.full) {
      const ms = observed.now - Date.parse(degraded.since);
      degraded = { full: true, since: new Date(observed.now).toISOString(), shortfall: '' };
      say('redundancy-full', `full redundancy again after ${secs(ms)}: ${r.replicating.length} replicas replicating, ${r.semiSyncReplicas} acknowledging semi-sync`);
    } else if (degraded === null) {
      degraded = { full: true, since: new Date(observed.now).toISOString(), shortfall: '' };
    } else return;
    writeRedundancy(paths, degraded);
  }

  // The semi-sync memory outlives this controller (a supervisor restarted by the watchdog, maybe while the
  // primary is down): without it, a primary that was committing alone would look like a safe failover.
  let memory: Memory = { unreachableSince: {}, lastSemiSync: readSemiSyncMemory(paths) ?? undefined };
  let lastSentence: string | null = null;
  let busy = false;
  /** The last tick found nothing to do: the topology, the nodes and HAProxy agree. */
  let converged = false;

  // Stamped when said (after observing and acting), not when the tick started: a tick can wait on a hung node.
  const say = (kind: string, sentence: string): string => {
    lastSentence = sentence;
    opts.log?.(sentence);
    try {
      mkdirSync(dirname(paths.failoverJournal), { recursive: true });
      appendFileSync(paths.failoverJournal, JSON.stringify({ at: new Date().toISOString(), kind, sentence }) + '\n');
    } catch {
      /* the journal is for reports; never fail a tick for it */
    }
    return sentence;
  };

  async function tick(now = Date.now()): Promise<string | null> {
    if (busy) return null;
    busy = true;
    try {
      const observed = await observe(now);
      trackRedundancy(observed);
      const r = decide(observed, memory, policy);
      const before = memory.lastSemiSync;
      memory = r.memory;
      const after = memory.lastSemiSync;
      if (after && (after.node !== before?.node || after.async !== before.async || after.since !== before.since)) writeSemiSyncMemory(paths, after);
      const decision = r.decision;
      converged = decision.kind === 'none';
      if (decision.kind === 'none') {
        lastSentence = null;
        return null;
      }
      // Waiting and being blocked are said once, not every tick.
      if (decision.kind === 'wait' || decision.kind === 'blocked') {
        if (lastSentence !== null && withoutDurations(lastSentence) === withoutDurations(decision.sentence)) return null;
        return say(decision.kind, decision.sentence);
      }
      const entry = opts.journal?.open(decision.kind, { sentence: decision.sentence });
      try {
        const replication = { user: opts.secrets.replUser, password: opts.secrets.replPassword, host: d.address };
        await run(planSteps(decision, { nodes: d.dbNodes, topology: observed.topology!, replication, policy, now, hasReader: observed.reader !== null }));
      } catch (e) {
        const sentence = `could not carry out "${decision.sentence}": ${(e as Error).message}`;
        if (entry) opts.journal!.close(entry, `failed: ${(e as Error).message}; the next ticks decide again from what they observe`);
        if (sentence === lastSentence) return null;
        return say(`${decision.kind}-failed`, sentence);
      }
      if (entry) opts.journal!.close(entry, 'done');
      return say(decision.kind, decision.sentence);
    } finally {
      busy = false;
    }
  }

  return { tick, converged: () => converged };
}

/**
 * The supervisor's controller: the sentence tick() returns goes to logs/supervisor.log; the journal
 * (paths.failoverJournal) keeps them with timestamps for the drill reports.
 */
export function createController(ctx: ControllerContext): Controller {
  const reclone = async (node: string, why: string) => {
    await ctx.stop(node);
    writeFileSync(dbRecloneRequest(ctx.paths, { name: node }), `${why}\n`);
    // Not awaited: the copy takes seconds to minutes, and the ticks must go on meanwhile (a failover may be needed).
    void ctx.start(node).catch((e: Error) => ctx.log(`db-failover: re-cloning ${node} failed: ${e.message}; it stays stopped (\`tier up\` starts it again, which tries again)`));
  };
  const c = createDbFailoverController({ definition: ctx.definition, paths: ctx.paths, secrets: ctx.secrets, journal: ctx.journal, reclone });
  return {
    name: 'db-failover',
    // A standby region's primary replicates from the other region: the region failover controller owns it until a promotion.
    tick: async () => (readRegionRole(ctx.paths)?.role === 'standby' ? null : c.tick()),
    // Every step is safe to repeat and the ticks re-read the topology, the nodes and HAProxy: a promotion
    // cut half-way is carried on by them (the topology is written as soon as the new primary is writable,
    // so they switch the writer and repoint; before that, the primary is still unreachable and they fail
    // over again). The entry closes once a tick finds nothing left to do.
    resume: async () => {
      if (!c.converged()) return null;
      const t = readTopology(ctx.paths);
      return `finished by the next ticks: primary ${t?.primary ?? '?'} behind the writer endpoint, replicas ${t?.replicas.join(', ') || 'none'}`;
    },
  };
}
