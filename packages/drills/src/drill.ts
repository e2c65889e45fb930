// One drill: given a healthy region and open-model traffic through the edge, when the scenario's fault
// hits, then the report says what clients saw and whether any acknowledged write was lost.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { checkSet } from './ledger.js';
import { WriteLedger } from './ledger.js';
import { runLoad, type Sample } from './load.js';
import {
  cachePrimary, controllerEvents, processes, replicaStatus, runsRecordedCommand, semiSyncStatus, startProcess, supervisorEvents, topology, waitFor, type RegionHandle,
} from './region.js';
import type { Criterion, DrillEvent, DrillReport } from './report.js';
import { countBy, recoveryMs, splitPhases } from './stats.js';
import { conduitMix, prepareConduit, readAllWrites, settleWrite } from './workload.js';

export interface DrillTiming {
  /** Traffic before the fault (the "before" phase). */
  warmupMs: number;
  /** From the fault to the heal (restarting what was killed). */
  faultWindowMs: number;
  /** Traffic after the heal. */
  afterMs: number;
  ratePerSecond: number;
}

/** `tier drill`: long enough for stable percentiles. */
export const fullTiming: DrillTiming = { warmupMs: 6000, faultWindowMs: 10_000, afterMs: 8000, ratePerSecond: 60 };
/** The test suite: each scenario well under 60 s. */
export const shortTiming: DrillTiming = { warmupMs: 3000, faultWindowMs: 6000, afterMs: 4000, ratePerSecond: 30 };

export interface DrillContext {
  region: RegionHandle;
  timing: DrillTiming;
  /** Set when the fault is applied. */
  faultAt: number;
  /** Records a drill event ("SIGKILL db-a (pid 123)"), at `at` (default: now). */
  event(sentence: string, source?: string, at?: number): void;
  /** What the fault did, for heal and criteria (killed names, old pids…). */
  state: Record<string, unknown>;
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
  const isAlive = (pid: number | null) => {
    if (pid === null) return false;
    try { process.kill(pid, 0); return true; } catch { return false; }
  };
  for (const p of processes(r)) {
    // A drill interrupted during replica-lag may have left a process stopped (SIGSTOP): resume it.
    if (p.pid !== null && isAlive(p.pid) && processState(p.pid) === 'T' && runsRecordedCommand(p)) {
      log(`restore: resuming ${p.name} (left stopped by a previous drill)`);
      process.kill(p.pid, 'SIGCONT');
    }
    if (isAlive(p.pid)) continue;
    if (p.restartPolicy === 'never') {
      log(`restore: starting ${p.name} (left down by a previous drill)`);
      await startProcess(r, p.name).catch((e: Error) => log(`restore: ${p.name}: ${e.message}`));
    }
  }
  await waitFor('every process of the region running', () => processes(r).every((p) => isAlive(p.pid) && p.state === 'running'), timeoutMs);
  await waitFor('every database replica replicating from the primary', async () => {
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
  await waitFor('semi-sync on at the primary', async () => (await semiSyncStatus(r)).on === true, timeoutMs, 300);
  await waitFor('Sentinel naming a cache primary', () => cachePrimary(r), timeoutMs);
  await waitFor('the edge answering GET /api/tags', () => edgeOk(r), timeoutMs);
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

/** The one-letter state of a process from /proc (R, S, T…), null when unknown. */
function processState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) || null;
  } catch {
    return null;
  }
}

/** One drill at a time per region: <stateDir>/drills/.lock holds the pid; a lock of a dead pid is stale. */
export function takeDrillLock(stateDir: string): () => void {
  const dir = join(stateDir, 'drills');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, '.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch {
      const pid = Number(readFileSync(file, 'utf8').trim());
      let alive = false;
      try { process.kill(pid, 0); alive = pid > 0; } catch { /* dead */ }
      if (alive) throw new Error(`another drill (pid ${pid}) is running against this region: wait for it or stop it`);
      rmSync(file, { force: true });
    }
  }
  throw new Error(`could not take the drill lock ${file}`);
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
  const timing = opts.timing ?? fullTiming;
  const log = opts.log ?? (() => undefined);
  log(`drill ${scenario.name}: restoring the region to whole`);
  await restoreRegion(region, log);

  const totalMs = timing.warmupMs + timing.faultWindowMs + timing.afterMs;
  const expectedWrites = Math.ceil((totalMs / 1000) * timing.ratePerSecond * 0.3) + 10;
  const target = await prepareConduit(region.edge, expectedWrites);
  const ledger = new WriteLedger();
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

  // Watchers: semi-sync at the primary, and who Sentinel says the cache primary is.
  const semiSync: { at: number; on: boolean | null }[] = [];
  const cacheChanges: { at: number; primary: string | null }[] = [];
  let watching = true;
  const watchers = [
    (async () => {
      while (watching) {
        const s = await semiSyncStatus(region);
        semiSync.push({ at: Date.now(), on: s.on });
        await new Promise((res) => setTimeout(res, 500));
      }
    })(),
    (async () => {
      let last: string | null | undefined;
      while (watching) {
        const p = await cachePrimary(region);
        if (p !== last) {
          cacheChanges.push({ at: Date.now(), primary: p });
          if (last !== undefined) ctx.event(`Sentinel reports cache primary ${p ?? 'none'} (was ${last ?? 'none'})`, 'sentinel');
          last = p;
        }
        await new Promise((res) => setTimeout(res, 200));
      }
    })(),
  ];

  const startedAt = Date.now();
  log(`drill ${scenario.name}: ${timing.ratePerSecond} req/s for ${(totalMs / 1000).toFixed(0)} s through ${region.edge}`);
  const load = runLoad({
    baseUrl: region.edge,
    ratePerSecond: timing.ratePerSecond,
    durationMs: totalMs,
    maxRequests: Math.ceil((totalMs / 1000) * timing.ratePerSecond) + 1,
    timeoutMs: 5000,
    next: conduitMix(target, ledger),
    onSample: (s) => settleWrite(ledger, s),
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
  if (loadOutcome.status === 'rejected') throw loadOutcome.reason;
  const result = loadOutcome.value;
  if (scenario.settle) {
    try {
      await scenario.settle(ctx);
    } catch (e) {
      ctx.event(`settle: ${(e as Error).message}`);
    }
  }
  watching = false;
  await Promise.all(watchers);

  // The final read, after the region has healed; replicas may need a moment to catch up.
  let observed: string[] = [];
  let check = checkSet(ledger.all(), observed);
  const readDeadline = Date.now() + 15_000;
  for (;;) {
    try {
      observed = await readAllWrites(target);
      check = checkSet(ledger.all(), observed);
      if (check.lost.length === 0) break;
    } catch (e) {
      log(`  final read: ${(e as Error).message}`);
    }
    if (Date.now() > readDeadline) break;
    await new Promise((res) => setTimeout(res, 1000));
  }
  const endedAt = Date.now();

  const samples = result.samples;
  const faultAt = ctx.faultAt;
  const events = [
    ...drillEvents,
    ...controllerEvents(region, startedAt - 1000, endedAt, faultAt),
    ...supervisorEvents(region, startedAt, endedAt, faultAt),
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
    semiSyncBefore: semiSync.filter((s) => s.at < faultAt && s.on !== null).map((s) => s.on === true),
    cachePrimaryChanges: cacheChanges,
  };
  const criteria = [
    ...(faultError ? [criterion('fault applied', 'the fault to be applied', (faultError as Error).message, false)] : []),
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
    startedAt: new Date(startedAt).toISOString(),
    endedAt: new Date(endedAt).toISOString(),
    faultAt: new Date(faultAt).toISOString(),
    healedAt: new Date(healedAt).toISOString(),
    load: { ratePerSecond: timing.ratePerSecond, durationMs: totalMs, sent: samples.length, target: region.edge },
    statusCounts: countBy(samples, statusKey),
    errorsByKind: countBy(samples, (s) => s.errorKind),
    failedByRequestKind: countBy(samples.filter((s) => s.outcome !== 'ok'), (s) => s.kind),
    failedByLabel: countBy(samples.filter((s) => s.outcome !== 'ok'), (s) => s.label),
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
