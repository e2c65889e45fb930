// `tier drill scale-out`: given the region at its current API instance count with the autoscaler on, and the
// realistic mix arriving through the edge at 30 % of the tier's capacity (instances × scaling.targetRpsPerInstance,
// at the API load balancer), when the traffic steps to 150 %, then added instances serve traffic within 10 s of
// the step with no failed request; and when the load drops back, the tier scales in to where it was, again
// without a failed request, and no acknowledged write is lost.
import { BACKENDS, backendStat, statePaths, waitUntil } from '@conduit/local';
import { checkSet, WriteLedger } from './ledger.js';
import { runLoad, type LoadResult, type Sample } from './load.js';
import { processes, supervisorEvents, type RegionHandle } from './region.js';
import { criterion, restoreRegion, takeDrillLock } from './drill.js';
import type { Criterion, DrillEvent } from './report.js';
import { phaseStats, type PhaseStats } from './stats.js';
import { addDrillUsers, conduitMix, drillUsersFor, prepareConduit, readAllWrites, settleWrite } from './workload.js';

export interface ScaleOutTiming {
  /** Traffic at the low rate before the step. */
  lowMs: number;
  /** Traffic at the high rate. */
  highMs: number;
  /** After the drop: the low rate goes on until the tier is back to its count, at most this long. */
  scaleInWithinMs: number;
  /** Added capacity must serve within this of the step (the issue's goal: 10 s). */
  goalMs: number;
}

/** `tier drill scale-out`: the scale-in wait covers one scale-in cooldown and drain per added instance. */
export const fullScaleOutTiming = (r: RegionHandle): ScaleOutTiming => ({
  lowMs: 10_000, highMs: 30_000, goalMs: 10_000,
  scaleInWithinMs: (r.definition.scaling.scaleInCooldownSeconds + r.definition.api.drainSeconds + 10) * 1000 * 3 + 30_000,
});
/** The test suite's version, on a region with short cooldowns. */
export const shortScaleOutTiming: ScaleOutTiming = { lowMs: 4000, highMs: 14_000, goalMs: 10_000, scaleInWithinMs: 40_000 };

export interface ScaleOutReport {
  scenario: 'scale-out';
  story: string;
  startedAt: string;
  instancesBefore: number;
  instancesPeak: number;
  instancesAfter: number;
  /** API load balancer requests per second the tier is sized for now: instances × targetRpsPerInstance. */
  capacityRps: number;
  /** Edge arrival rates of the mix, and the API rate each produced (HAProxy counters). */
  low: { edgeRps: number; apiRps: number };
  high: { edgeRps: number; apiRps: number };
  /** From the step to the first added instance answering requests (HAProxy UP with requests); null: never. */
  scaleOutMs: number | null;
  /** From the drop to the tier back at its count; null: not within the bound. */
  scaleInMs: number | null;
  phases: { low: PhaseStats; high: PhaseStats; afterDrop: PhaseStats };
  errorsByKind: Record<string, number>;
  writes: { attempted: number; acknowledged: number; lost: number; unexpected: number };
  events: DrillEvent[];
  criteria: Criterion[];
  pass: boolean;
}

const apiRequests = async (r: RegionHandle) => (await backendStat(statePaths(r.stateDir).haproxySocket, BACKENDS.api)).requests ?? 0;
const runningApi = (r: RegionHandle) => processes(r).filter((p) => p.tier === 'api' && p.pid !== null).map((p) => p.name);

export async function runScaleOut(r: RegionHandle, t: ScaleOutTiming, log: (line: string) => void = () => undefined): Promise<ScaleOutReport> {
  const release = takeDrillLock(r.stateDir);
  try {
    return await scaleOutLocked(r, t, log);
  } finally {
    release();
  }
}

async function scaleOutLocked(r: RegionHandle, t: ScaleOutTiming, log: (line: string) => void): Promise<ScaleOutReport> {
  const d = r.definition;
  const sock = statePaths(r.stateDir).haproxySocket;
  log('drill scale-out: restoring the region to whole');
  await restoreRegion(r, log);
  const before = runningApi(r);
  const capacityRps = before.length * d.scaling.targetRpsPerInstance;
  // The share of the mix that reaches the API (the rest is pages and edge hits): from the benchmark, measured again below.
  const guess = d.capacity.knee.edgeRps > 0 ? Math.min(1, d.capacity.knee.apiRpsPerInstance / d.capacity.knee.edgeRps) : 0.6;
  const lowEdge = Math.max(1, Math.round((0.3 * capacityRps) / guess));
  const total = lowEdge * ((t.lowMs + t.scaleInWithinMs + t.highMs) / 1000) + (capacityRps * 2 * t.highMs) / 1000;
  const users = { rateLimits: d.api.rateLimits, log };
  const usersAt = (edgeRps: number) => drillUsersFor(edgeRps * 0.3 * 60, d.api.rateLimits.writesPerUserPerMinute);
  const target = await prepareConduit(r.edge, total * 0.3 * 2, { ...users, peakWritesPerSecond: ((1.5 * capacityRps) / guess) * 0.3 });
  // Signing the users up is a burst of writes that can scale the tier out before the step (then the step would
  // find the added instance already serving): wait for the tier to be back at its count first.
  await waitUntil('the API tier back at its count after the sign-ups', () => runningApi(r).length <= before.length, t.scaleInWithinMs, 200);
  const ledger = new WriteLedger();
  const mix = conduitMix(target, ledger);
  const events: DrillEvent[] = [];
  const startedAt = Date.now();
  let stepAt = 0;
  const event = (sentence: string, source = 'drill', at = Date.now()) => {
    events.push({ at, offsetMs: stepAt ? at - stepAt : at - startedAt, source, sentence });
    log(`  ${sentence}`);
  };
  log(`drill scale-out: ${before.length} API instance(s) × ${d.scaling.targetRpsPerInstance} rps = ${capacityRps} rps capacity; low ${lowEdge} rps of the mix at the edge`);

  // The low rate runs from the start until the tier is back after the drop (stopped by the abort).
  const stopLow = new AbortController();
  const onSample = (s: Sample) => settleWrite(ledger, s);
  const lowLoad = runLoad({
    baseUrl: r.edge, ratePerSecond: lowEdge, durationMs: t.lowMs + t.highMs + t.scaleInWithinMs, signal: stopLow.signal,
    maxRequests: Math.ceil((lowEdge * (t.lowMs + t.highMs + t.scaleInWithinMs)) / 1000) + 1, timeoutMs: 5000, next: mix, onSample,
  });
  const c0 = { at: Date.now(), n: await apiRequests(r) };
  await new Promise((res) => setTimeout(res, t.lowMs));
  const c1 = { at: Date.now(), n: await apiRequests(r) };
  const lowApi = ((c1.n - c0.n) * 1000) / (c1.at - c0.at);
  const share = lowApi > 0 ? Math.min(1, lowApi / lowEdge) : guess;
  const highEdge = Math.round((1.5 * capacityRps) / share);
  // The pool was sized from the guessed share: a few more users if the measured one asks for a higher rate.
  await addDrillUsers(target, usersAt(highEdge), users);

  // The step: the rest of the high rate on top of the low one, as a second open-model load.
  stepAt = Date.now();
  event(`step: ${lowEdge} → ${highEdge} rps at the edge (API share of the mix ${Math.round(share * 100)} %: ${Math.round(lowApi)} → ~${Math.round(1.5 * capacityRps)} rps at the API)`);
  const highLoad = runLoad({
    baseUrl: r.edge, ratePerSecond: Math.max(1, highEdge - lowEdge), durationMs: t.highMs, maxRequests: Math.ceil(((highEdge - lowEdge) * t.highMs) / 1000) + 1,
    timeoutMs: 5000, next: (i) => mix(10_000_000 + i), onSample,
  });
  // Watch the pool: the first instance that was not there before and answers requests.
  let scaleOutAt: number | null = null;
  let peak = before.length;
  let dropAt = 0;
  let backAt: number | null = null;
  const watching = (async () => {
    for (;;) {
      const now = Date.now();
      const stat = await backendStat(sock, BACKENDS.api).catch(() => null);
      const running = runningApi(r);
      peak = Math.max(peak, running.length);
      if (stat && scaleOutAt === null && stat.servers.some((s) => !before.includes(s.name) && s.status.startsWith('UP') && s.total > 0)) {
        scaleOutAt = now;
        event(`added capacity serving: ${stat.servers.filter((s) => !before.includes(s.name) && s.status.startsWith('UP')).map((s) => s.name).join(', ')} UP with requests`);
      }
      if (dropAt && now > dropAt && backAt === null && running.length <= before.length && (stat?.servers.filter((s) => s.status.startsWith('UP')).length ?? 0) >= before.length) {
        backAt = now;
        event(`back at ${running.length} API instance(s)`);
      }
      if (backAt !== null || (dropAt && now - dropAt > t.scaleInWithinMs)) return;
      await new Promise((res) => setTimeout(res, 200));
    }
  })();
  const c2 = { at: Date.now(), n: await apiRequests(r) };
  const high: LoadResult = await highLoad;
  const c3 = { at: Date.now(), n: await apiRequests(r) };
  dropAt = Date.now();
  event(`drop: back to ${lowEdge} rps at the edge; waiting for the tier to scale in (at most ${t.scaleInWithinMs / 1000} s)`);
  await watching;
  stopLow.abort();
  const low = await lowLoad;
  const endedAt = Date.now();
  for (const e of supervisorEvents(r, startedAt, endedAt, stepAt)) if (/^autoscaler: /.test(e.sentence)) events.push(e);
  events.sort((a, b) => a.at - b.at);

  const check = checkSet(ledger.all(), await readAllWrites(target));
  const all = [...low.samples, ...high.samples];
  const failed = all.filter((s) => s.outcome !== 'ok');
  const errorsByKind: Record<string, number> = {};
  for (const s of failed) errorsByKind[s.errorKind ?? '?'] = (errorsByKind[s.errorKind ?? '?'] ?? 0) + 1;
  const phases = {
    low: phaseStats('before', all.filter((s) => s.dueAt < stepAt)),
    high: phaseStats('during', all.filter((s) => s.dueAt >= stepAt && s.dueAt < dropAt)),
    afterDrop: phaseStats('after', all.filter((s) => s.dueAt >= dropAt)),
  };
  const scaleOutMs = scaleOutAt === null ? null : scaleOutAt - stepAt;
  const scaleInMs = backAt === null ? null : (backAt as number) - dropAt;
  const criteria: Criterion[] = [
    criterion('added capacity serving after the step', `≤ ${t.goalMs} ms`, scaleOutMs === null ? 'never' : `${scaleOutMs} ms`, scaleOutMs !== null && scaleOutMs <= t.goalMs),
    criterion('failed requests during the step', '0', phases.low.failed + phases.high.failed, phases.low.failed + phases.high.failed === 0),
    criterion('scaled back in after the drop', `to ${before.length} within ${t.scaleInWithinMs} ms`, scaleInMs === null ? `no (${runningApi(r).length} running)` : `${scaleInMs} ms`, scaleInMs !== null),
    criterion('failed requests during the scale-in', '0', phases.afterDrop.failed, phases.afterDrop.failed === 0),
    criterion('acknowledged writes lost', '0', check.lost.length, check.lost.length === 0 && check.unexpected.length === 0),
  ];
  return {
    scenario: 'scale-out',
    story: 'given the API tier at its count with the autoscaler on, when the mix steps from 30 % to 150 % of its capacity, then added instances serve within 10 s with no failed request, and the tier scales back in after the drop without one',
    startedAt: new Date(startedAt).toISOString(),
    instancesBefore: before.length, instancesPeak: peak, instancesAfter: runningApi(r).length, capacityRps,
    low: { edgeRps: lowEdge, apiRps: Math.round(lowApi) },
    high: { edgeRps: highEdge, apiRps: Math.round(((c3.n - c2.n) * 1000) / (c3.at - c2.at)) },
    scaleOutMs, scaleInMs, phases, errorsByKind,
    writes: { attempted: check.attempted, acknowledged: ledger.counts().acknowledged, lost: check.lost.length, unexpected: check.unexpected.length },
    events, criteria, pass: criteria.every((c) => c.pass),
  };
}

/** The report as a terminal table. */
export function formatScaleOut(r: ScaleOutReport): string {
  const ms = (v: number | null) => (v === null ? '-' : `${v} ms`);
  const row = (name: string, p: PhaseStats) => `  ${name.padEnd(11)} ${String(p.requests).padStart(6)} req  ${String(p.failed).padStart(4)} failed  p50 ${ms(p.p50Ms).padStart(8)}  p99 ${ms(p.p99Ms).padStart(8)}`;
  return [
    `drill scale-out: ${r.pass ? 'PASS' : 'FAIL'}`,
    `  ${r.story}`,
    `  instances ${r.instancesBefore} → ${r.instancesPeak} → ${r.instancesAfter}; capacity ${r.capacityRps} rps at the API`,
    `  low ${r.low.edgeRps} rps at the edge (${r.low.apiRps} at the API); high ${r.high.edgeRps} rps at the edge (${r.high.apiRps} at the API)`,
    `  scale-out: added capacity serving ${ms(r.scaleOutMs)} after the step; scale-in: back ${ms(r.scaleInMs)} after the drop`,
    row('low', r.phases.low), row('step (high)', r.phases.high), row('after drop', r.phases.afterDrop),
    `  writes: ${r.writes.acknowledged} acknowledged of ${r.writes.attempted}, ${r.writes.lost} lost, ${r.writes.unexpected} unexpected${Object.keys(r.errorsByKind).length ? `; errors ${JSON.stringify(r.errorsByKind)}` : ''}`,
    '  events:',
    ...r.events.map((e) => `    ${(e.offsetMs / 1000).toFixed(1).padStart(6)} s  ${e.source.padEnd(10)} ${e.sentence}`),
    '  criteria:',
    ...r.criteria.map((c) => `    ${c.pass ? 'PASS' : 'FAIL'}  ${c.name}: ${c.actual} (expected ${c.expected})`),
  ].join('\n');
}
