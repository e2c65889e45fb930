// `tier bench capacity`: how many requests per second ONE API instance carries within the definition's SLO.
// Given the region with the API tier pinned to one instance (the autoscaler paused), when the drills' realistic
// mix arrives through the edge at a stepped, open-model rate, then the knee is the highest step still within
// slo.p99Ms and slo.errorRate. The same load generator against a bare node:http server in the same run gives
// the ceiling (what this machine and client can drive at all). The result goes to a committed file the
// definition reads (scaling.targetRpsPerInstance = knee × scaling.targetUtilisation).
import { spawn, type ChildProcess } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { derivedTargetRps, type CapacityResult, type CapacityStep, type ResolvedDefinition } from '@conduit/definition';
import { BACKENDS, backendStat, processCpuMs, processRssMb, statePaths, supervisorRequest, waitUntil } from '@conduit/local';
import { WriteLedger } from './ledger.js';
import { runLoad, type PlannedRequest, type Sample } from './load.js';
import { processes, type RegionHandle } from './region.js';
import { countBy, percentile } from './stats.js';
import { addDrillUsers, conduitMix, drillUsersFor, prepareConduit } from './workload.js';

export interface CapacityOptions {
  /** First arrival rate, requests per second at the edge. */
  startRate: number;
  /** Each step multiplies the rate by this (> 1). */
  factor: number;
  /** Traffic per step. */
  stepMs: number;
  /** Bound on the number of steps (the load also stops at the first confirmed breach). */
  maxSteps: number;
  /** Steps that halve the gap between the last good and the breaking rate, after the breach. */
  refineSteps: number;
  /** The ceiling's steps (short: a bare server answers at once), and their bound. */
  ceilingStepMs: number;
  ceilingMaxSteps: number;
  log: (line: string) => void;
}

export const defaultCapacityOptions: Omit<CapacityOptions, 'log'> = { startRate: 20, factor: 1.3, stepMs: 8000, maxSteps: 20, refineSteps: 2, ceilingStepMs: 4000, ceilingMaxSteps: 16 };

export interface Slo {
  p99Ms: number;
  errorRate: number;
}

/** The stepped arrival rates, rounded to whole requests per second and never above the load generator's bound. */
export function steppedRates(startRate: number, factor: number, count: number, max = 5000): number[] {
  if (!(startRate > 0) || !(factor > 1) || !(count >= 1)) throw new Error(`steps: startRate (${startRate}) > 0, factor (${factor}) > 1 and count (${count}) >= 1 needed`);
  const out: number[] = [];
  for (let r = startRate; out.length < count && Math.round(r) <= max; r *= factor) out.push(Math.round(r));
  // The generator's bound is the last step, so a ceiling that never breaks is measured up to it.
  if (out.length < count && out[out.length - 1]! < max) out.push(max);
  return out;
}

const round = (n: number | null, digits = 0) => (n === null ? null : Math.round(n * 10 ** digits) / 10 ** digits);

/** Latency and errors of one step's samples, judged against the SLO. */
export function judgeStep(samples: readonly Sample[], slo: Slo): Pick<CapacityStep, 'p50Ms' | 'p99Ms' | 'errorRate' | 'withinSlo'> {
  const lat = samples.map((s) => s.latencyMs);
  const failed = samples.filter((s) => s.outcome !== 'ok').length;
  const errorRate = samples.length ? failed / samples.length : 1;
  // Due times are fractional (1000 / rate apart): a tenth of a millisecond is all the precision there is.
  const p99Ms = round(percentile(lat, 99), 1);
  return { p50Ms: round(percentile(lat, 50), 1), p99Ms, errorRate: round(errorRate, 5)!, withinSlo: samples.length > 0 && p99Ms !== null && p99Ms <= slo.p99Ms && errorRate <= slo.errorRate };
}

/**
 * The knee: the highest rate within the SLO below the lowest breaking rate; null when none was. A rate breaks
 * when every step at it broke (one noisy step that passed when repeated does not).
 */
export function kneeOf<T extends Pick<CapacityStep, 'rate' | 'withinSlo'>>(steps: readonly T[]): T | null {
  const broken = steps.filter((s) => !steps.some((o) => o.rate === s.rate && o.withinSlo));
  const breaking = Math.min(...broken.map((s) => s.rate));
  const good = steps.filter((s) => s.withinSlo && s.rate < breaking).sort((a, b) => a.rate - b.rate);
  return good[good.length - 1] ?? null;
}

/**
 * Steps the rate until a breach confirmed twice (one noisy step on a shared machine does not end it), then
 * refines between the last good and the breaking rate. `measure` runs one step at a rate.
 */
export async function stepUntilBreach<T extends Pick<CapacityStep, 'rate' | 'withinSlo'>>(
  rates: readonly number[], refineSteps: number, measure: (rate: number) => Promise<T>,
): Promise<T[]> {
  const steps: T[] = [];
  let bad: number | null = null;
  for (const rate of rates) {
    const s = await measure(rate);
    steps.push(s);
    if (s.withinSlo) continue;
    const again = await measure(rate);
    steps.push(again);
    if (!again.withinSlo) {
      bad = rate;
      break;
    }
  }
  if (bad === null) return steps;
  for (let i = 0; i < refineSteps; i++) {
    const good = kneeOf(steps)?.rate ?? 0;
    const mid = Math.round(good > 0 ? Math.sqrt(good * bad) : bad / 2);
    if (mid <= good || mid >= bad) break;
    const s = await measure(mid);
    steps.push(s);
    if (!s.withinSlo) bad = mid;
  }
  return steps;
}

/** A bare node:http JSON hello in its own process, on an ephemeral loopback port: the ceiling. */
async function startBareServer(): Promise<{ url: string; child: ChildProcess }> {
  const code = "const s=require('node:http').createServer((q,r)=>{r.writeHead(200,{'content-type':'application/json'});r.end('{\"hello\":\"world\"}')});s.keepAliveTimeout=5000;s.listen(0,'127.0.0.1',()=>process.stdout.write(String(s.address().port)+'\\n'));process.on('SIGTERM',()=>process.exit(0));";
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('the bare node:http server did not start within 5 s')), 5000);
    child.stdout!.once('data', (d: Buffer) => { clearTimeout(t); resolve(Number(String(d).trim())); });
    child.once('exit', (c) => reject(new Error(`the bare node:http server exited (${c})`)));
  });
  return { url: `http://127.0.0.1:${port}`, child };
}


/** " (timeout 12, http 503 3)" for a step's progress line; empty when nothing failed. */
function errorKinds(samples: readonly Sample[]): string {
  const kinds = countBy(samples, (s) => (s.outcome === 'ok' ? null : s.errorKind ?? s.outcome));
  const said = Object.entries(kinds).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
  return said ? ` (${said})` : '';
}

/** Pins the API tier to one instance and waits until exactly one runs and HAProxy sees it UP. */
async function pinToOne(r: RegionHandle, log: (line: string) => void): Promise<void> {
  await supervisorRequest(r.stateDir, { op: 'pin-api', instances: 1 });
  log('api tier pinned to 1 instance (autoscaler paused): draining the others');
  const sock = statePaths(r.stateDir).haproxySocket;
  await waitUntil('one API instance running and UP, the others drained', async () => {
    const running = processes(r).filter((p) => p.tier === 'api' && p.pid !== null);
    const up = (await backendStat(sock, BACKENDS.api)).servers.filter((s) => s.status.startsWith('UP'));
    return running.length === 1 && up.length === 1 && up[0]!.name === running[0]!.name;
  }, 30_000 + r.definition.api.drainSeconds * 1000 * r.definition.api.instances.max, 250);
}

/** Runs the benchmark on a running region; the region is unpinned (back to the autoscaler) whatever happens. */
export async function runCapacity(r: RegionHandle, o: CapacityOptions): Promise<CapacityResult> {
  const d: ResolvedDefinition = r.definition;
  const slo: Slo = { ...d.slo };
  const rates = steppedRates(o.startRate, o.factor, o.maxSteps);
  const sock = statePaths(r.stateDir).haproxySocket;
  o.log(`capacity: SLO p99 ≤ ${slo.p99Ms} ms, errors ≤ ${slo.errorRate * 100} %; steps of ${o.stepMs / 1000} s at ${rates.join(', ')} rps (stops at the first breach seen twice)`);
  const steps: CapacityStep[] = [];
  const loadAtStart = loadavg()[0]!;
  try {
    await pinToOne(r, o.log);
    const expectedWrites = rates.reduce((a, x) => a + x, 0) * (o.stepMs / 1000) * 0.3;
    // At most ~100 comments per article: a comment list stays the size a real article's has.
    const users = { rateLimits: d.api.rateLimits, log: o.log };
    const target = await prepareConduit(r.edge, expectedWrites * 4, { ...users, peakWritesPerSecond: rates[0]! * 0.3 });
    const ledger = new WriteLedger();
    const next = conduitMix(target, ledger);
    let seq = 0;
    await stepUntilBreach(rates, o.refineSteps, async (rate) => {
      // Each step's pool is sized as if its rate went on for a minute, so the steps before it in the same
      // minute (at lower rates, over a smaller pool) cannot push a user past the per-user write limit. Before the
      // step's counters: sign-ups are not the step's traffic.
      await addDrillUsers(target, drillUsersFor(rate * 0.3 * 60, d.api.rateLimits.writesPerUserPerMinute), users);
      const api = processes(r).find((p) => p.tier === 'api' && p.pid !== null);
      const pid = api?.pid ?? null;
      const before = { at: Date.now(), requests: (await backendStat(sock, BACKENDS.api)).requests ?? 0, cpu: pid === null ? null : processCpuMs(pid) };
      const base = seq;
      const res = await runLoad({
        baseUrl: r.edge, ratePerSecond: rate, durationMs: o.stepMs, maxRequests: Math.ceil((rate * o.stepMs) / 1000) + 1, timeoutMs: 5000,
        next: (i): PlannedRequest => next(base + i),
      });
      seq += res.samples.length;
      const after = { at: Date.now(), requests: (await backendStat(sock, BACKENDS.api)).requests ?? 0, cpu: pid === null ? null : processCpuMs(pid) };
      const secs = (after.at - before.at) / 1000;
      const cpuPercent = before.cpu !== null && after.cpu !== null ? (after.cpu - before.cpu) / secs / 10 : null;
      const step: CapacityStep = {
        rate, apiRps: round((after.requests - before.requests) / secs, 1)!, ...judgeStep(res.samples, slo),
        cpuPercent: round(cpuPercent), rssMb: pid === null ? null : processRssMb(pid),
      };
      o.log(`  ${String(rate).padStart(5)} rps at the edge → ${String(step.apiRps).padStart(6)} rps at the API  p50 ${step.p50Ms} ms  p99 ${step.p99Ms} ms  errors ${(step.errorRate * 100).toFixed(2)} %${errorKinds(res.samples)}  CPU ${step.cpuPercent ?? '?'} %  RSS ${step.rssMb ?? '?'} MB  ${step.withinSlo ? 'within SLO' : 'SLO BROKEN'}`);
      steps.push(step);
      return step;
    });
  } finally {
    await supervisorRequest(r.stateDir, { op: 'pin-api', instances: null }).catch((e: Error) => o.log(`could not unpin the API tier: ${e.message}`));
    o.log('api tier unpinned: the autoscaler is back');
  }

  o.log(`ceiling: the same load generator against a bare node:http server (separate process, loopback), steps of ${o.ceilingStepMs / 1000} s`);
  const bare = await startBareServer();
  let ceilingSteps: CapacityResult['ceilingSteps'];
  try {
    const ceilingRates = steppedRates(Math.max(o.startRate, 100), 1.5, o.ceilingMaxSteps);
    ceilingSteps = await stepUntilBreach(ceilingRates, o.refineSteps, async (rate) => {
      const res = await runLoad({ baseUrl: bare.url, ratePerSecond: rate, durationMs: o.ceilingStepMs, maxRequests: Math.ceil((rate * o.ceilingStepMs) / 1000) + 1, timeoutMs: 5000, next: () => ({ kind: 'read', label: 'GET /', method: 'GET', path: '/', idempotent: true }) });
      const s = { rate, ...judgeStep(res.samples, slo) };
      o.log(`  ${String(rate).padStart(5)} rps  p50 ${s.p50Ms} ms  p99 ${s.p99Ms} ms  errors ${(s.errorRate * 100).toFixed(2)} %${errorKinds(res.samples)}  ${s.withinSlo ? 'within SLO' : 'SLO BROKEN'}`);
      return s;
    });
  } finally {
    bare.child.kill('SIGTERM');
  }
  return capacityResult(steps, ceilingSteps, slo, loadAtStart);
}

/** The committed record: the knee, the ceiling, every step, and the machine it was measured on. */
export function capacityResult(steps: CapacityStep[], ceilingSteps: CapacityResult['ceilingSteps'], slo: Slo, loadAverage1m: number, at = new Date()): CapacityResult {
  const knee = kneeOf(steps);
  if (!knee) throw new Error(`no step was within the SLO (p99 ≤ ${slo.p99Ms} ms, errors ≤ ${slo.errorRate}): lower startRate, or check the region (tier status)`);
  const ceiling = kneeOf(ceilingSteps)?.rate ?? 0;
  return {
    measuredAt: at.toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', memoryGb: round(totalmem() / 2 ** 30, 1)!, loadAverage1m: round(loadAverage1m, 2)! },
    command: 'tier bench capacity',
    mix: '30 % comment POSTs, 50 % API reads (list, article, tags, comments, authenticated list), 20 % page loads, through the edge; one API instance',
    slo,
    knee: { edgeRps: knee.rate, apiRpsPerInstance: Math.max(1, Math.floor(knee.apiRps)), p50Ms: knee.p50Ms, p99Ms: knee.p99Ms, cpuPercent: knee.cpuPercent, rssMb: knee.rssMb },
    ceiling: { rps: ceiling, kneePercent: ceiling > 0 ? round((knee.rate / ceiling) * 100, 1)! : 0 },
    steps: [...steps].sort((a, b) => a.rate - b.rate),
    ceilingSteps: [...ceilingSteps].sort((a, b) => a.rate - b.rate),
  };
}

/** The table `tier bench capacity` prints at the end. */
export function formatCapacity(c: CapacityResult, utilisation: number): string {
  return [
    `capacity of one API instance (${c.measuredAt}, ${c.machine.cpus} × ${c.machine.model}, load ${c.machine.loadAverage1m} at the start)`,
    `  knee: ${c.knee.edgeRps} rps of the mix at the edge = ${c.knee.apiRpsPerInstance} rps at the API instance, p50 ${c.knee.p50Ms} ms, p99 ${c.knee.p99Ms} ms, CPU ${c.knee.cpuPercent ?? '?'} %, RSS ${c.knee.rssMb ?? '?'} MB`,
    `  ceiling (same run, same load generator, bare node:http): ${c.ceiling.rps} rps; the knee is ${c.ceiling.kneePercent} % of it`,
    `  scaling.targetRpsPerInstance = ${c.knee.apiRpsPerInstance} × scaling.targetUtilisation ${utilisation} = ${derivedTargetRps(c.knee.apiRpsPerInstance, utilisation)} rps`,
  ].join('\n');
}
