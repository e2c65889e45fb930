// The API autoscaler (an Auto Scaling group's target-tracking policy on AWS), as a tick: observe the
// API backend's request rate in HAProxy (cumulative counter deltas) and the running API instances;
// decide with a pure function (autoscaler-decide.ts); act through the rollout (rollout.ts: a spare slot
// joins the pool behind its health barrier; an instance leaves it drained); say what it did in one
// sentence. It reads the same definition fields as the AWS policy: api.instances min/max and scaling.*.
// Like the AWS group's second policy it also tracks the instances' CPU (from /proc) against
// scaling.targetCpuPercent. An operator may pin the tier to a count (control op pin-api: a file
// in the state folder, so a restarted supervisor keeps it): the autoscaler moves there and waits.
import type { ResolvedDefinition } from '@conduit/definition';
import { afterAction, decide, initialMemory, rateOf, type Decision, type Memory, type Policy, type Sample } from './autoscaler-decide.js';
import { BACKENDS } from '../generators/haproxy.js';
import { backendStat, processCpuMs } from '../runner/index.js';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { StatePaths } from '../paths.js';
import { addToPool, drainFromPool, poolInstance, type RolloutTarget } from '../rollout.js';
import type { JournalEntry } from '../journal.js';
import type { Controller, ControllerContext } from './types.js';

export { decide, afterAction, rateOf, neededFor, initialMemory } from './autoscaler-decide.js';
export type { Decision as AutoscalerDecision, Observed as AutoscalerObserved, Policy as AutoscalerPolicy, Memory as AutoscalerMemory } from './autoscaler-decide.js';

// Fixed constants, not definition fields: they are how the local region samples the metric (AWS has
// CloudWatch's one-minute datapoints instead), not a policy; the policy (target, cooldowns, min/max)
// is in the definition. One sample a second, averaged over 3 s, keeps a burst of one second from
// deciding alone while still reacting within the test's 2 s scale-out cooldown.
/** HAProxy's counters are read once a second (the supervisor ticks more often). */
const OBSERVE_EVERY_MS = 1_000;
/** The request rate is averaged over this window. */
const RATE_WINDOW_MS = 3_000;

export function policyOf(d: ResolvedDefinition): Policy {
  return {
    min: d.api.instances.min,
    max: d.api.instances.max,
    targetRps: d.scaling.targetRpsPerInstance,
    targetCpuPercent: d.scaling.targetCpuPercent,
    scaleOutCooldownMs: d.scaling.scaleOutCooldownSeconds * 1000,
    scaleInCooldownMs: d.scaling.scaleInCooldownSeconds * 1000,
  };
}

/** The pinned count, or null when the tier is not pinned (no file, or one that does not parse). */
export function readPin(paths: StatePaths): number | null {
  if (!existsSync(paths.autoscalerPin)) return null;
  try {
    const n = (JSON.parse(readFileSync(paths.autoscalerPin, 'utf8')) as { instances?: unknown }).instances;
    return typeof n === 'number' ? n : null;
  } catch {
    return null;
  }
}

/** The control op pin-api: pins the API tier to `instances` (1..api.instances.max) or unpins it (null). */
export function pinApi(paths: StatePaths, d: ResolvedDefinition, instances: number | null): { pinned: number | null } {
  if (instances === null) {
    rmSync(paths.autoscalerPin, { force: true });
    return { pinned: null };
  }
  if (!Number.isInteger(instances) || instances < 1 || instances > d.api.instances.max) {
    throw new Error(`pin-api: instances (${instances}) must be an integer from 1 to api.instances.max (${d.api.instances.max})`);
  }
  writeFileSync(paths.autoscalerPin, JSON.stringify({ instances, at: new Date().toISOString() }) + '\n');
  return { pinned: instances };
}

/** CPU time samples per pid → the average CPU of those pids over the window, percent of one core. */
export function averageCpu(samples: Map<number, Sample[]>, pids: readonly number[], windowMs: number): number | null {
  const rates = pids.map((pid) => rateOf(samples.get(pid) ?? [], windowMs)).filter((r): r is number => r !== null);
  // Only when every instance has a measure: a new instance without one would pull the average down.
  if (rates.length === 0 || rates.length < pids.length) return null;
  return rates.reduce((a, b) => a + b, 0) / rates.length / 10; // CPU ms per second / 10 = percent of one core
}

export function createController(ctx: ControllerContext): Controller {
  const d = ctx.definition;
  const policy = policyOf(d);
  const sock = ctx.paths.haproxySocket;
  const target: RolloutTarget = { definition: d, haproxySocket: sock, start: ctx.start, stop: ctx.stop, forget: ctx.forget };
  let samples: Sample[] = [];
  /** pid → CPU time samples (`requests` holds the CPU ms used so far). */
  let cpuSamples = new Map<number, Sample[]>();
  let memory: Memory = initialMemory();
  let lastObservedAt = 0;
  let lastSaid = '';

  // An instance the supervisor is replacing (crashed, restarting) still counts: it comes back by itself.
  const runningApi = () => ctx.processes().filter((p) => p.tier === 'api' && (p.pid !== null || p.state === 'restarting')).map((p) => p.name);

  // Each action is a journal entry naming its instances: a crash in the middle leaves it open for resume().
  async function act(decision: Decision, running: string[]): Promise<void> {
    if (decision.kind === 'scale-out') {
      const free = d.apiSlots.filter((s) => !running.includes(s.name)).slice(0, decision.to - decision.from).map((s) => s.name);
      const entry = ctx.journal.open('scale-out', { instances: free });
      const results = await Promise.allSettled(free.map((n) => addToPool(target, poolInstance(d, n)!)));
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      ctx.journal.close(entry, failed.length ? `${failed.length} of ${free.length} did not join (taken back out)` : 'done');
      if (failed.length) throw new Error(failed.map((f) => (f.reason as Error).message).join('; '));
    } else if (decision.kind === 'scale-in') {
      // The highest slot goes first: slots are spread round-robin over the zones, so the rest stay balanced.
      const victim = d.apiSlots.map((s) => s.name).filter((n) => running.includes(n)).pop();
      if (!victim) return;
      const entry = ctx.journal.open('scale-in', { instances: [victim] });
      await drainFromPool(target, poolInstance(d, victim)!, d.api.drainSeconds * 1000);
      ctx.journal.close(entry, 'done');
    }
  }

  /**
   * A scale-in cut half-way is finished: the instance is drained again (its drain may have started), taken
   * out and stopped. A scale-out cut half-way is finished where it got: an instance HAProxy already sees UP
   * stays, one that did not join yet is taken back out (the autoscaler scales out again if the load asks).
   */
  async function resume(entry: JournalEntry): Promise<string> {
    const names = Array.isArray(entry.detail.instances) ? (entry.detail.instances as string[]) : [];
    const stat = await backendStat(sock, BACKENDS.api);
    const said: string[] = [];
    for (const name of names) {
      const i = poolInstance(d, name);
      const rec = ctx.processes().find((p) => p.name === name);
      if (!i || !rec || rec.pid === null) {
        if (rec) ctx.forget(name);
        said.push(`${name} not running: nothing left to do`);
      } else if (entry.action === 'scale-out' && stat.servers.some((s) => s.name === name && s.status.startsWith('UP'))) {
        said.push(`${name} already in the pool: scale-out finished`);
      } else {
        said.push(`${await drainFromPool(target, i, entry.action === 'scale-in' ? d.api.drainSeconds * 1000 : 0)} (${entry.action === 'scale-in' ? 'scale-in finished' : 'scale-out undone'})`);
      }
    }
    // The rate is measured afresh on the group as it is now.
    samples = [];
    return said.join('; ') || 'no instance named';
  }

  async function tick(now = Date.now()): Promise<string | null> {
    if (now - lastObservedAt < OBSERVE_EVERY_MS) return null;
    lastObservedAt = now;
    const stat = await backendStat(sock, BACKENDS.api);
    if (stat.requests !== null) {
      // A restarted HAProxy starts its counters from zero: start the window again.
      if (samples.length && stat.requests < samples[samples.length - 1]!.requests) samples = [];
      samples.push({ at: now, requests: stat.requests });
      samples = samples.filter((s) => now - s.at <= RATE_WINDOW_MS + OBSERVE_EVERY_MS);
    }
    const running = runningApi();
    const healthy = stat.servers.filter((s) => running.includes(s.name) && s.status.startsWith('UP')).length;
    const pids = ctx.processes().filter((p) => p.tier === 'api' && p.pid !== null).map((p) => p.pid!);
    const next = new Map<number, Sample[]>();
    for (const pid of pids) {
      const used = processCpuMs(pid);
      if (used === null) continue;
      next.set(pid, [...(cpuSamples.get(pid) ?? []), { at: now, requests: used }].filter((s) => now - s.at <= RATE_WINDOW_MS + OBSERVE_EVERY_MS));
    }
    cpuSamples = next;
    const cpuPercent = averageCpu(cpuSamples, pids, RATE_WINDOW_MS);
    const r = decide({ now, rps: rateOf(samples, RATE_WINDOW_MS), running: running.length, healthy, cpuPercent, pinned: readPin(ctx.paths) }, memory, policy);
    memory = r.memory;
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
    cpuSamples = new Map();
    lastObservedAt = 0;
    lastSaid = decision.sentence;
    return decision.sentence;
  }

  return { name: 'autoscaler', tick: () => tick(), resume };
}
