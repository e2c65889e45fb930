// The API autoscaler's brain: what an Auto Scaling group's target-tracking policy on
// ALBRequestCountPerTarget does on AWS, as a pure function from the observed state to one decision.
// No I/O here. Tests feed it observed states and assert on the decision and its sentence.
//
// Rules, one decision per observation:
//   0. pinned by an operator (`tier bench capacity` pins the tier to one instance): move to the pinned count,
//      one instance at a time when scaling in, whatever the metrics say;
//   1. fewer instances than api.instances.min (or more than max): back inside the bounds at once;
//   2. needed = ceil(total rps / scaling.targetRpsPerInstance), or, when the instances' average CPU asks for more,
//      ceil(running × CPU / scaling.targetCpuPercent) (two target-tracking policies on AWS: the larger wins out,
//      both must agree to scale in), clamped to [min, max];
//   3. needed above the current count: scale out to exactly `needed`, at most once per scaleOutCooldownSeconds;
//   4. needed below the current count: scale in by ONE instance, only once the metric has stayed below
//      target for a whole scaleInCooldownSeconds (restarted by every scaling action), so a dip or a
//      burst does not make the tier flap;
//   5. otherwise nothing (at max while above target is said, once, by the controller).

/** One reading of HAProxy's cumulative request counter for the API backend. */
export interface Sample {
  at: number;
  requests: number;
}

export interface Observed {
  now: number;
  /** Requests per second over the API backend, from counter deltas; null until two samples exist. */
  rps: number | null;
  /** API instances the supervisor runs now (the group's current capacity). */
  running: number;
  /** Of those, the ones HAProxy sees UP and in the pool. */
  healthy: number;
  /** Average CPU of the running API instances, percent of one core (/proc); null or absent while unknown. */
  cpuPercent?: number | null;
  /** Instances an operator pinned the tier to (the autoscaler paused); null or absent when not pinned. */
  pinned?: number | null;
}

export interface Policy {
  min: number;
  max: number;
  targetRps: number;
  /** scaling.targetCpuPercent; absent: CPU is not tracked. */
  targetCpuPercent?: number;
  scaleOutCooldownMs: number;
  scaleInCooldownMs: number;
}

/** What the autoscaler remembers between observations (timing only: the rest is re-observed). */
export interface Memory {
  /** When the last scale-out finished (null: none yet). */
  lastScaleOutAt: number | null;
  /** Since when the metric has been continuously below target (needed < running); null when it is not. */
  belowSince: number | null;
}

export const initialMemory = (): Memory => ({ lastScaleOutAt: null, belowSince: null });

export type Decision =
  | { kind: 'none'; why: string }
  | { kind: 'at-max'; running: number; needed: number; sentence: string }
  | { kind: 'scale-out'; from: number; to: number; sentence: string }
  | { kind: 'scale-in'; from: number; to: number; sentence: string };

/** Requests per second between the oldest sample within `windowMs` of the newest and the newest. */
export function rateOf(samples: readonly Sample[], windowMs: number): number | null {
  const last = samples[samples.length - 1];
  if (!last) return null;
  const first = samples.find((s) => last.at - s.at <= windowMs && s !== last);
  if (!first || last.at <= first.at || last.requests < first.requests) return null;
  return ((last.requests - first.requests) * 1000) / (last.at - first.at);
}

const secs = (ms: number) => `${Math.round(ms / 100) / 10} s`;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The instances the metric asks for, before clamping. */
export const neededFor = (rps: number, targetRps: number) => Math.ceil(Math.round(rps * 1000) / 1000 / targetRps);

/** The instances the CPU target asks for: the same total CPU spread so each instance runs at the target. */
export const neededForCpu = (cpuPercent: number, running: number, targetCpuPercent: number) =>
  Math.ceil(Math.round(cpuPercent * running * 1000) / 1000 / targetCpuPercent);

/** Pure: the observed state and the memory in, one decision out, with the memory for the next observation. */
export function decide(o: Observed, memory: Memory, p: Policy): { decision: Decision; memory: Memory } {
  const { running } = o;
  // 0. An operator's pin wins over bounds and metrics (the pin itself is checked against [1, max] when set).
  if (o.pinned !== undefined && o.pinned !== null) {
    const why = `pinned to ${plural(o.pinned, 'instance')} by an operator (autoscaler paused)`;
    if (running < o.pinned) return { decision: { kind: 'scale-out', from: running, to: o.pinned, sentence: `scaled api out ${running} → ${o.pinned}: ${why}` }, memory: { ...memory, belowSince: null } };
    if (running > o.pinned) return { decision: { kind: 'scale-in', from: running, to: running - 1, sentence: `scaled api in ${running} → ${running - 1}: ${why}` }, memory: { ...memory, belowSince: null } };
    return { decision: { kind: 'none', why }, memory: { ...memory, belowSince: null } };
  }
  // 1. Bounds first: never below min nor above max, whatever the metric says.
  if (running < p.min) {
    return {
      decision: { kind: 'scale-out', from: running, to: p.min, sentence: `scaled api out ${running} → ${p.min}: the group runs ${plural(running, 'instance')}, below its min ${p.min} (api.instances.min)` },
      memory: { ...memory, belowSince: null },
    };
  }
  if (running > p.max) {
    return {
      decision: { kind: 'scale-in', from: running, to: running - 1, sentence: `scaled api in ${running} → ${running - 1}: the group runs ${plural(running, 'instance')}, above its max ${p.max} (api.instances.max)` },
      memory: { ...memory, belowSince: null },
    };
  }
  if (o.rps === null) return { decision: { kind: 'none', why: 'no request rate yet (needs two samples)' }, memory };

  const rps = Math.round(o.rps);
  const cpu = o.cpuPercent ?? null;
  const byRps = neededFor(o.rps, p.targetRps);
  const byCpu = cpu !== null && p.targetCpuPercent !== undefined ? neededForCpu(cpu, running, p.targetCpuPercent) : 0;
  const raw = Math.max(byRps, byCpu);
  const needed = Math.min(Math.max(raw, p.min), p.max);
  const cpuSaid = cpu === null ? '' : `, CPU ${Math.round(cpu)} %`;
  const over = `${rps} rps${cpuSaid} over ${plural(o.healthy, 'instance')}`;
  // Out: the sentence names the target that asks for more. In: both must be below, so it names both.
  const target = byCpu > byRps ? `${p.targetCpuPercent} % CPU target` : `${p.targetRps} rps target`;
  const targets = cpu !== null && p.targetCpuPercent !== undefined ? `${p.targetRps} rps and ${p.targetCpuPercent} % CPU targets` : `${p.targetRps} rps target`;
  const needs = raw === needed ? `needs ${needed}` : raw > p.max ? `needs ${raw}, max ${p.max}` : `needs ${raw}, min ${p.min}`;

  // 2. Above target: scale out by what is needed, once per scale-out cooldown.
  if (needed > running) {
    const next = { ...memory, belowSince: null };
    const since = memory.lastScaleOutAt === null ? Infinity : o.now - memory.lastScaleOutAt;
    if (since < p.scaleOutCooldownMs) {
      return { decision: { kind: 'none', why: `scale-out cooldown: ${secs(p.scaleOutCooldownMs - since)} left (${over}, ${needs})` }, memory: next };
    }
    return {
      decision: { kind: 'scale-out', from: running, to: needed, sentence: `scaled api out ${running} → ${needed}: ${over} is above the ${target} (${needs})` },
      memory: next,
    };
  }
  if (raw > running && running === p.max) {
    return {
      decision: { kind: 'at-max', running, needed: raw, sentence: `api stays at its max ${p.max}: ${over} is above the ${target} (needs ${raw}, api.instances.max ${p.max})` },
      memory: { ...memory, belowSince: null },
    };
  }

  // 3. Below target: one instance at a time, once the metric has stayed below for a whole scale-in cooldown.
  if (needed < running) {
    const belowSince = memory.belowSince ?? o.now;
    const below = o.now - belowSince;
    const next = { ...memory, belowSince };
    if (below < p.scaleInCooldownMs) {
      return { decision: { kind: 'none', why: `below target for ${secs(below)} of the ${secs(p.scaleInCooldownMs)} scale-in cooldown (${over}, ${needs})` }, memory: next };
    }
    return {
      decision: {
        kind: 'scale-in', from: running, to: running - 1,
        sentence: `scaled api in ${running} → ${running - 1}: ${over} has been below the ${targets} for ${secs(below)} (${needs})`,
      },
      memory: next,
    };
  }
  return { decision: { kind: 'none', why: `on target: ${over}, ${needs}` }, memory: { ...memory, belowSince: null } };
}

/** The memory once an action has finished at `at`: cooldowns count from the end of the action. */
export function afterAction(memory: Memory, decision: Decision, at: number): Memory {
  if (decision.kind === 'scale-out') return { lastScaleOutAt: at, belowSince: null };
  // The next scale-in needs another whole cooldown below target, measured on the smaller group.
  if (decision.kind === 'scale-in') return { ...memory, belowSince: at };
  return memory;
}
