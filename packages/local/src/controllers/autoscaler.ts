// The API autoscaler (an Auto Scaling group's target-tracking policy on AWS), as a tick: observe the
// API backend's request rate in HAProxy (cumulative counter deltas) and the running API instances;
// decide with a pure function (autoscaler-decide.ts); act through the supervisor (start a spare slot,
// wait healthy, then into the pool; drain, out of the pool, then stop); say what it did in one sentence.
// It reads the same definition fields as the AWS policy: api.instances min/max and scaling.*.
import type { ResolvedDefinition } from '@conduit/definition';
import { afterAction, decide, initialMemory, rateOf, type Decision, type Memory, type Policy, type Sample } from './autoscaler-decide.js';
import { haproxyCommand, haproxyServers, probe, waitUntil } from '../runner/index.js';
import type { Controller, ControllerContext } from './types.js';

export { decide, afterAction, rateOf, neededFor, initialMemory } from './autoscaler-decide.js';
export type { Decision as AutoscalerDecision, Observed as AutoscalerObserved, Policy as AutoscalerPolicy, Memory as AutoscalerMemory } from './autoscaler-decide.js';

const BACKEND = 'be_api';
/** The supervisor ticks every 250 ms; HAProxy's counters are read once a second. */
const OBSERVE_EVERY_MS = 1_000;
/** The request rate is averaged over this window (HAProxy counters, read every second). */
const RATE_WINDOW_MS = 3_000;

export function policyOf(d: ResolvedDefinition): Policy {
  return {
    min: d.api.instances.min,
    max: d.api.instances.max,
    targetRps: d.scaling.targetRpsPerInstance,
    scaleOutCooldownMs: d.scaling.scaleOutCooldownSeconds * 1000,
    scaleInCooldownMs: d.scaling.scaleInCooldownSeconds * 1000,
  };
}

/** `show stat` CSV → the API backend's total request counter (req_tot, else stot) and each server's status. */
export function parseBackendStat(csv: string, backend = BACKEND): { requests: number | null; servers: Array<{ name: string; status: string; current: number }> } {
  const lines = csv.split('\n');
  const header = (lines.find((l) => l.startsWith('# ')) ?? '').slice(2).split(',');
  const col = (name: string) => header.indexOf(name);
  const [iSv, iStatus, iScur, iStot, iReq] = [col('svname'), col('status'), col('scur'), col('stot'), col('req_tot')];
  let requests: number | null = null;
  const servers: Array<{ name: string; status: string; current: number }> = [];
  for (const l of lines) {
    if (!l.startsWith(`${backend},`)) continue;
    const f = l.split(',');
    if (f[iSv] === 'BACKEND') {
      const req = iReq >= 0 && f[iReq] !== '' ? Number(f[iReq]) : Number(f[iStot]);
      requests = Number.isFinite(req) ? req : null;
    } else if (f[iSv] !== 'FRONTEND') {
      servers.push({ name: f[iSv]!, status: f[iStatus] ?? '', current: Number(f[iScur]) || 0 });
    }
  }
  return { requests, servers };
}

export function createController(ctx: ControllerContext): Controller & { readonly last: Decision } {
  const d = ctx.definition;
  const policy = policyOf(d);
  const sock = ctx.paths.haproxySocket;
  const healthPath = d.api.healthCheck.path;
  let samples: Sample[] = [];
  let memory: Memory = initialMemory();
  let last: Decision = { kind: 'none', why: 'not observed yet' };
  let lastObservedAt = 0;
  let lastSaid = '';

  // An instance the supervisor is replacing (crashed, restarting) still counts: it comes back by itself.
  const runningApi = () => ctx.processes().filter((p) => p.tier === 'api' && (p.pid !== null || p.state === 'restarting')).map((p) => p.name);

  /** Starts a spare slot, waits until healthy, then puts it in the pool; on failure takes it back out. */
  async function add(name: string): Promise<void> {
    const slot = d.apiSlots.find((s) => s.name === name)!;
    await ctx.start(name);
    try {
      await waitUntil(`${name} healthy`, () => probe({ kind: 'http', path: healthPath }, slot.port, 1_000), 60_000, 100);
      await haproxyCommand(sock, `set server ${BACKEND}/${name} state ready`);
      await waitUntil(`HAProxy sees ${name} up`, async () => (await haproxyServers(sock, BACKEND)).some((s) => s.name === name && s.up), 30_000, 100);
    } catch (e) {
      await haproxyCommand(sock, `set server ${BACKEND}/${name} state maint`).catch(() => undefined);
      await ctx.stop(name).catch(() => undefined);
      ctx.forget?.(name);
      throw e;
    }
  }

  /** Drains an instance (in-flight requests finish, up to api.drainSeconds), takes it out of the pool, stops it. */
  async function remove(name: string): Promise<void> {
    await haproxyCommand(sock, `set server ${BACKEND}/${name} state drain`);
    await waitUntil(`${name} drained`, async () => (parseBackendStat(await haproxyCommand(sock, 'show stat')).servers.find((s) => s.name === name)?.current ?? 0) === 0, d.api.drainSeconds * 1000, 100)
      .catch(() => undefined); // past the drain time, in-flight requests are cut, as an ALB does
    await haproxyCommand(sock, `set server ${BACKEND}/${name} state maint`);
    await ctx.stop(name);
    ctx.forget?.(name);
  }

  async function act(decision: Decision, running: string[]): Promise<void> {
    if (decision.kind === 'scale-out') {
      const free = d.apiSlots.filter((s) => !running.includes(s.name)).slice(0, decision.to - decision.from).map((s) => s.name);
      const results = await Promise.allSettled(free.map(add));
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed.length) throw new Error(failed.map((f) => (f.reason as Error).message).join('; '));
    } else if (decision.kind === 'scale-in') {
      // The highest slot goes first: slots are spread round-robin over the zones, so the rest stay balanced.
      const victim = d.apiSlots.map((s) => s.name).filter((n) => running.includes(n)).pop();
      if (victim) await remove(victim);
    }
  }

  async function tick(now = Date.now()): Promise<string | null> {
    if (now - lastObservedAt < OBSERVE_EVERY_MS) return null;
    lastObservedAt = now;
    const stat = parseBackendStat(await haproxyCommand(sock, 'show stat'));
    if (stat.requests !== null) {
      // A restarted HAProxy starts its counters from zero: start the window again.
      if (samples.length && stat.requests < samples[samples.length - 1]!.requests) samples = [];
      samples.push({ at: now, requests: stat.requests });
      samples = samples.filter((s) => now - s.at <= RATE_WINDOW_MS + OBSERVE_EVERY_MS);
    }
    const running = runningApi();
    const healthy = stat.servers.filter((s) => running.includes(s.name) && s.status.startsWith('UP')).length;
    const r = decide({ now, rps: rateOf(samples, RATE_WINDOW_MS), running: running.length, healthy }, memory, policy);
    memory = r.memory;
    last = r.decision;
    const decision = r.decision;
    if (decision.kind === 'none') return null;
    if (decision.kind === 'at-max') {
      // Said once while it lasts, not every second.
      if (lastSaid.startsWith('api stays at its max')) return null;
      lastSaid = decision.sentence;
      return decision.sentence;
    }
    try {
      await act(decision, running);
    } catch (e) {
      memory = afterAction(memory, decision, Date.now());
      lastSaid = `could not carry out "${decision.sentence}": ${(e as Error).message}`;
      return lastSaid;
    }
    memory = afterAction(memory, decision, Date.now());
    // The action took time: the next rate is measured on the new group only.
    samples = [];
    lastObservedAt = 0;
    lastSaid = decision.sentence;
    return decision.sentence;
  }

  return {
    name: 'autoscaler',
    tick: () => tick(),
    get last() {
      return last;
    },
  };
}
