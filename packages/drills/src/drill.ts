// One drill: given a healthy region and open-model traffic through the edge, when the scenario's fault
// hits, then the report says what clients saw and whether any acknowledged write was lost.
import { join } from 'node:path';
import { request } from 'undici';
import { isAlive, isOurProcess, processState, takeLockFile, waitUntil, type DeployReport } from '@conduit/local';
import { checkSet, WriteLedger, type SetCheck } from './ledger.js';
import { runLoad, type LoadResult, type Sample } from './load.js';
import {
  cachePrimary, controllerEvents, processes, replicaStatus, semiSyncStatus, startProcess, supervisorEvents, topology, type RegionHandle,
} from './region.js';
import { firstFailures, type Criterion, type DrillEvent, type DrillReport } from './report.js';
import { countBy, recoveryMs, splitPhases } from './stats.js';
import { conduitMix, prepareConduit, readAllWrites, settleWrite, type ConduitTarget } from './workload.js';

export interface DrillTiming {
  /** Traffic before the fault (the "before" phase). */
  warmupMs: number;
  /** From the fault to the heal (restarting what was killed). */
  faultWindowMs: number;
  /** Traffic after the heal. */
  afterMs: number;
  ratePerSecond: number;
  /** Between the blows of a repeated fault (repeated-primary-kill). */
  repeatEveryMs: number;
}

/** `tier drill`: long enough for stable percentiles. */
export const fullTiming: DrillTiming = { warmupMs: 6000, faultWindowMs: 10_000, afterMs: 8000, ratePerSecond: 60, repeatEveryMs: 20_000 };
/** The test suite: each scenario well under 60 s. */
export const shortTiming: DrillTiming = { warmupMs: 3000, faultWindowMs: 6000, afterMs: 4000, ratePerSecond: 30, repeatEveryMs: 10_000 };

/** What a fault did, for its heal, its settle and its criteria. */
export interface FaultState {
  /** The process the fault killed, and its pid then (instance kills). */
  victim?: string;
  pid?: number;
  /**
   * When each blow of the fault landed, from the first signal to the last (a graceful stop: until it
   * returned); default: the fault's start. Writes in flight then are indeterminate.
   */
  strikes?: Array<{ from: number; to: number }>;
  /** repeated-primary-kill: each kill (primary, when). */
  kills?: Array<{ node: string; at: number }>;
  /** The primary the fault hit (database and cache scenarios). */
  primary?: string;
  /** The replica the fault paused (replica-lag). */
  replica?: string;
  /** Stateful processes the fault killed (name → pid then): the supervisor restarts them in place; the heal waits for it. */
  killed?: Record<string, number>;
  /** When the supervisor replaced the victim. */
  replacedAt?: number;
  /** How the old primary came back, e.g. "db-a replicates from db-b". */
  rejoined?: string;
  /** Supervisor kills: every process's pid at the fault, and when a new supervisor answered. */
  pidsBefore?: Record<string, number>;
  supervisorBackAt?: number;
  /** Deploy scenarios: the rolling deploy in flight, its report once done, the instances (name, pid) before it. */
  deploy?: Promise<DeployReport>;
  deployReport?: DeployReport;
  instancesBefore?: Array<[string, number | null]>;
}

export interface DrillContext {
  region: RegionHandle;
  timing: DrillTiming;
  /** Set when the fault is applied. */
  faultAt: number;
  /** Records a drill event ("SIGKILL db-a (pid 123)"), at `at` (default: now). */
  event(sentence: string, source?: string, at?: number): void;
  state: FaultState;
}
/** Everything a scenario's criteria can look at. */
export interface DrillFigures {
  samples: Sample[];
  events: DrillEvent[];
  faultAt: number;
  healedAt: number;
  serviceRecoveryMs: number;
  writeRecoveryMs: number;
  readRecoveryMs: number;
  failedIdempotent: number;
  /** Semi-sync status of the primary sampled before the fault (normal operation): true = on. */
  semiSyncBefore: boolean[];
  /** Sentinel's view of the cache primary over time. */
  cachePrimaryChanges: { at: number; primary: string | null }[];
}

export interface Scenario {
  name: string;
  /** Given/when/then. */
  story: string;
  /** The AWS Fault Injection Service action this scenario stands for. */
  fisAction: string;
  /** The fault window must last at least this (a rolling deploy outlasts the default window). */
  minFaultWindowMs?: number | ((timing: DrillTiming) => number);
  fault(ctx: DrillContext): Promise<void>;
  /** Undo the fault after the window (restart what was killed, SIGCONT…). */
  heal(ctx: DrillContext): Promise<void>;
  /** After the traffic: wait until the region is whole again (e.g. the old primary rejoined). */
  settle?(ctx: DrillContext): Promise<void>;
  criteria(ctx: DrillContext, f: DrillFigures): Criterion[];
}

export const criterion = (name: string, expected: string, actual: string | number, pass: boolean): Criterion => ({ name, expected, actual: String(actual), pass });

async function edgeOk(r: RegionHandle): Promise<boolean> {
  try {
    const res = await request(new URL('/api/tags', r.edge), { headersTimeout: 2000, bodyTimeout: 2000 });
    await res.body.dump();
    return res.statusCode === 200;
  } catch {
    return false;
  }
}

/**
 * Brings the region back to whole before a drill: restarts db/cache/sentinel processes a previous drill
 * left down, waits for every process, for replication on every replica, for Sentinel and for the edge.
 */
export async function restoreRegion(r: RegionHandle, log: (line: string) => void = () => undefined, timeoutMs = 45_000): Promise<void> {
  const running = (pid: number | null) => pid !== null && isAlive(pid);
  for (const p of processes(r)) {
    // A drill interrupted during replica-lag may have left a process stopped (SIGSTOP): resume it.
    if (p.pid !== null && processState(p.pid) === 'T' && isOurProcess(p)) {
      log(`restore: resuming ${p.name} (left stopped by a previous drill)`);
      process.kill(p.pid, 'SIGCONT');
    }
    if (running(p.pid)) continue;
    if (p.restartPolicy !== 'replace' && (p.state === 'stopped' || p.state === 'exited')) {
      log(`restore: starting ${p.name} (left down by a previous drill)`);
      await startProcess(r, p.name).catch((e: Error) => log(`restore: ${p.name}: ${e.message}`));
    }
  }
  await waitUntil('every process of the region running', () => processes(r).every((p) => running(p.pid) && p.state === 'running'), timeoutMs, 200);
  await waitUntil('every database replica replicating from the primary', async () => {
    const t = topology(r);
    if (!t) return false;
    for (const name of t.replicas) {
      const s = await replicaStatus(r, name);
      if (!s || s.Slave_IO_Running !== 'Yes' || s.Slave_SQL_Running !== 'Yes') return false;
      const primary = r.definition.dbNodes.find((n) => n.name === t.primary)!;
      if (Number(s.Master_Port) !== primary.port) return false;
    }
    return true;
  }, timeoutMs, 300);
  await waitUntil('semi-sync on at the primary', async () => (await semiSyncStatus(r)).on === true, timeoutMs, 300);
  await waitUntil('Sentinel naming a cache primary', () => cachePrimary(r), timeoutMs, 200);
  await waitUntil('the edge answering GET /api/tags', () => edgeOk(r), timeoutMs, 200);
}

function timelineOf(samples: Sample[], faultAt: number): DrillReport['timeline'] {
  const buckets = new Map<number, Sample[]>();
  for (const s of samples) {
    const k = Math.floor((s.dueAt - faultAt) / 1000);
    const b = buckets.get(k) ?? [];
    b.push(s);
    buckets.set(k, b);
  }
  return [...buckets.entries()].sort((a, b) => a[0] - b[0]).map(([second, b]) => {
    const failed = b.filter((s) => s.outcome !== 'ok');
    return { second, sent: b.length, failed: failed.length, failedByKind: countBy(failed, (s) => s.kind), errors: countBy(failed, (s) => s.errorKind) };
  });
}

/** One drill at a time per region: <stateDir>/drills/.lock holds the pid; a lock of a dead pid is stale. */
export function takeDrillLock(stateDir: string): () => void {
  return takeLockFile(join(stateDir, 'drills', '.lock'), (pid) => new Error(`another drill (pid ${pid}) is running against this region: wait for it or stop it`));
}

export interface RunDrillOptions {
  timing?: DrillTiming;
  log?: (line: string) => void;
}

/** Runs one scenario end to end and returns its report (not yet written or printed). */
export async function runDrill(region: RegionHandle, scenario: Scenario, opts: RunDrillOptions = {}): Promise<DrillReport> {
  const release = takeDrillLock(region.stateDir);
  try {
    return await runDrillLocked(region, scenario, opts);
  } finally {
    release();
  }
}

async function runDrillLocked(region: RegionHandle, scenario: Scenario, opts: RunDrillOptions): Promise<DrillReport> {
  const base = opts.timing ?? fullTiming;
  const timing = { ...base, faultWindowMs: Math.max(base.faultWindowMs, typeof scenario.minFaultWindowMs === 'function' ? scenario.minFaultWindowMs(base) : (scenario.minFaultWindowMs ?? 0)) };
  const log = opts.log ?? (() => undefined);
  const given = await givenWholeRegion(region, scenario, timing, log);
  const when = await whenFaultUnderLoad(region, scenario, timing, given, log);
  return thenReport(region, scenario, timing, given, when, log);
}

/** Given: the region restored to whole, the drill's user and articles, an empty ledger. */
interface Given {
  target: ConduitTarget;
  ledger: WriteLedger;
  ctx: DrillContext;
  drillEvents: DrillEvent[];
  totalMs: number;
}

async function givenWholeRegion(region: RegionHandle, scenario: Scenario, timing: DrillTiming, log: (line: string) => void): Promise<Given> {
  log(`drill ${scenario.name}: restoring the region to whole`);
  await restoreRegion(region, log);
  const totalMs = timing.warmupMs + timing.faultWindowMs + timing.afterMs;
  const expectedWrites = Math.ceil((totalMs / 1000) * timing.ratePerSecond * 0.3) + 10;
  const target = await prepareConduit(region.edge, expectedWrites, { peakWritesPerSecond: timing.ratePerSecond * 0.3, rateLimits: region.definition.api.rateLimits, log });
  const drillEvents: DrillEvent[] = [];
  const ctx: DrillContext = {
    region,
    timing,
    faultAt: 0,
    state: {},
    event: (sentence, source = 'drill', at = Date.now()) => {
      drillEvents.push({ at, offsetMs: ctx.faultAt ? at - ctx.faultAt : 0, source, sentence });
      log(`  ${sentence}`);
    },
  };
  return { target, ledger: new WriteLedger(), ctx, drillEvents, totalMs };
}

/** When: open-model traffic through the edge, the watchers, the fault at the end of the warm-up, the heal after its window. */
interface When {
  result: LoadResult;
  startedAt: number;
  healedAt: number;
  faultError: Error | null;
  semiSync: { at: number; on: boolean | null }[];
  cacheChanges: { at: number; primary: string | null }[];
}

/** Polls `sample` every everyMs until stopped. */
function watch(everyMs: number, sample: () => Promise<void>): { stop: () => Promise<void> } {
  let watching = true;
  const loop = (async () => {
    while (watching) {
      await sample();
      await new Promise((res) => setTimeout(res, everyMs));
    }
  })();
  return { stop: async () => { watching = false; await loop; } };
}

async function whenFaultUnderLoad(region: RegionHandle, scenario: Scenario, timing: DrillTiming, g: Given, log: (line: string) => void): Promise<When> {
  const { ctx } = g;
  // Watchers: semi-sync at the primary, and who Sentinel says the cache primary is.
  const semiSync: When['semiSync'] = [];
  const cacheChanges: When['cacheChanges'] = [];
  let lastCachePrimary: string | null | undefined;
  const watchers = [
    watch(500, async () => { semiSync.push({ at: Date.now(), on: (await semiSyncStatus(region)).on }); }),
    watch(200, async () => {
      const p = await cachePrimary(region);
      if (p === lastCachePrimary) return;
      cacheChanges.push({ at: Date.now(), primary: p });
      if (lastCachePrimary !== undefined) ctx.event(`Sentinel reports cache primary ${p ?? 'none'} (was ${lastCachePrimary ?? 'none'})`, 'sentinel');
      lastCachePrimary = p;
    }),
  ];

  const startedAt = Date.now();
  log(`drill ${scenario.name}: ${timing.ratePerSecond} req/s for ${(g.totalMs / 1000).toFixed(0)} s through ${region.edge}`);
  const load = runLoad({
    baseUrl: region.edge,
    ratePerSecond: timing.ratePerSecond,
    durationMs: g.totalMs,
    maxRequests: Math.ceil((g.totalMs / 1000) * timing.ratePerSecond) + 1,
    timeoutMs: 5000,
    next: conduitMix(g.target, g.ledger),
    onSample: (s) => settleWrite(g.ledger, s),
  });

  let healedAt = 0;
  let faultError: Error | null = null;
  let loadFailed = false;
  load.catch(() => (loadFailed = true));
  const script = (async () => {
    await new Promise((res) => setTimeout(res, timing.warmupMs));
    if (loadFailed) return;
    ctx.faultAt = Date.now();
    try {
      await scenario.fault(ctx);
    } catch (e) {
      faultError = e as Error;
      ctx.event(`fault failed: ${(e as Error).message}`);
    }
    await new Promise((res) => setTimeout(res, Math.max(0, ctx.faultAt + timing.faultWindowMs - Date.now())));
    healedAt = Date.now();
    try {
      await scenario.heal(ctx);
    } catch (e) {
      ctx.event(`heal failed: ${(e as Error).message}`);
    }
  })();
  // The script always runs to its heal, even if the load fails: a drill undoes what it started.
  const [loadOutcome] = await Promise.allSettled([load, script]);
  if (loadOutcome.status === 'rejected') {
    await Promise.all(watchers.map((w) => w.stop()));
    throw loadOutcome.reason;
  }
  if (scenario.settle) {
    try {
      await scenario.settle(ctx);
    } catch (e) {
      ctx.event(`settle: ${(e as Error).message}`);
    }
  }
  await Promise.all(watchers.map((w) => w.stop()));
  return { result: loadOutcome.value, startedAt, healedAt, faultError, semiSync, cacheChanges };
}

/** The final read, after the region has healed; replicas may need a moment to catch up. */
async function finalCheck(g: Given, log: (line: string) => void): Promise<SetCheck> {
  let check = checkSet(g.ledger.all(), []);
  const readDeadline = Date.now() + 15_000;
  for (;;) {
    try {
      check = checkSet(g.ledger.all(), await readAllWrites(g.target));
      if (check.lost.length === 0) break;
    } catch (e) {
      log(`  final read: ${(e as Error).message}`);
    }
    if (Date.now() > readDeadline) break;
    await new Promise((res) => setTimeout(res, 1000));
  }
  return check;
}

/** Then: the figures, the set check and every criterion. */
async function thenReport(region: RegionHandle, scenario: Scenario, timing: DrillTiming, g: Given, w: When, log: (line: string) => void): Promise<DrillReport> {
  const check = await finalCheck(g, log);
  const endedAt = Date.now();
  const { ctx } = g;
  const samples = w.result.samples;
  const faultAt = ctx.faultAt;
  const healedAt = w.healedAt;
  const events = [
    ...g.drillEvents,
    ...controllerEvents(region, w.startedAt - 1000, endedAt, faultAt),
    ...supervisorEvents(region, w.startedAt, endedAt, faultAt),
  ].sort((a, b) => a.at - b.at);
  const slowMs = 1000;
  const figures: DrillFigures = {
    samples,
    events,
    faultAt,
    healedAt,
    serviceRecoveryMs: recoveryMs(samples, faultAt, slowMs),
    writeRecoveryMs: recoveryMs(samples, faultAt, slowMs, (s) => s.kind === 'write'),
    readRecoveryMs: recoveryMs(samples, faultAt, slowMs, (s) => s.kind !== 'write'),
    failedIdempotent: samples.filter((s) => s.idempotent && s.outcome !== 'ok').length,
    semiSyncBefore: w.semiSync.filter((s) => s.at < faultAt && s.on !== null).map((s) => s.on === true),
    cachePrimaryChanges: w.cacheChanges,
  };
  const criteria = [
    ...(w.faultError ? [criterion('fault applied', 'the fault to be applied', w.faultError.message, false)] : []),
    ...scenario.criteria(ctx, figures),
    criterion('acknowledged writes lost', '0', check.lost.length, check.lost.length === 0),
    criterion('unexpected writes', '0', check.unexpected.length, check.unexpected.length === 0),
    criterion(
      'semi-sync during normal operation',
      'Rpl_semi_sync_master_status ON in every sample before the fault',
      `${figures.semiSyncBefore.filter(Boolean).length}/${figures.semiSyncBefore.length} ON`,
      figures.semiSyncBefore.length > 0 && figures.semiSyncBefore.every(Boolean),
    ),
  ];
  const statusKey = (s: Sample) => (s.status !== null ? String(s.status) : s.outcome);
  return {
    scenario: scenario.name,
    story: scenario.story,
    startedAt: new Date(w.startedAt).toISOString(),
    endedAt: new Date(endedAt).toISOString(),
    faultAt: new Date(faultAt).toISOString(),
    healedAt: new Date(healedAt).toISOString(),
    load: { ratePerSecond: timing.ratePerSecond, durationMs: g.totalMs, sent: samples.length, target: region.edge },
    statusCounts: countBy(samples, statusKey),
    errorsByKind: countBy(samples, (s) => s.errorKind),
    failedByRequestKind: countBy(samples.filter((s) => s.outcome !== 'ok'), (s) => s.kind),
    failedByLabel: countBy(samples.filter((s) => s.outcome !== 'ok'), (s) => s.label),
    failures: firstFailures(samples, faultAt),
    failedIdempotent: figures.failedIdempotent,
    phases: splitPhases(samples, faultAt, healedAt),
    recovery: { serviceMs: figures.serviceRecoveryMs, writesMs: figures.writeRecoveryMs, readsMs: figures.readRecoveryMs },
    writes: {
      attempted: check.attempted,
      acknowledged: check.acknowledged,
      failed: check.failed,
      indeterminate: check.indeterminate,
      notRecovered: check.notRecovered,
      failedButPresent: check.failedButPresent,
      duplicated: check.duplicated,
      ok: check.ok,
      lost: check.lost.slice(0, 100),
      unexpected: check.unexpected.slice(0, 100),
      recovered: check.recovered.length,
      lostCount: check.lost.length,
      unexpectedCount: check.unexpected.length,
    },
    timeline: timelineOf(samples, faultAt),
    events,
    criteria,
    pass: criteria.every((c) => c.pass),
  };
}
