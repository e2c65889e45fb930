// Rollout, per instance, the way an Auto Scaling group works behind an ALB (and Kamal's boot): an
// instance joins the pool only behind a health barrier, with a way back (on failure it leaves the pool,
// is stopped and forgotten, and the error is re-raised); an instance leaves the pool drained first, with
// a deadline. The autoscaler, the `tier` instance commands (region/instances.ts) and rolling deploys use
// these two functions; each returns one sentence saying what it did, and reports steps to `progress`.
import type { ResolvedDefinition } from '@conduit/definition';
import { BACKENDS } from './generators/haproxy.js';
import { backendStat, haproxyAct, haproxyServers, probe, waitUntil } from './runner/index.js';

export type PoolTier = 'api' | 'front';

/** One instance slot of a load-balanced tier (api-N, front-N up to the tier's max). */
export interface PoolInstance {
  tier: PoolTier;
  name: string;
  port: number;
}

/** What a rollout acts through: the supervisor, in-process (controllers) or over its control socket (tools). */
export interface RolloutTarget {
  definition: ResolvedDefinition;
  haproxySocket: string;
  start(name: string): Promise<unknown>;
  stop(name: string): Promise<unknown>;
  forget(name: string): Promise<unknown> | void;
  /** Each step as it happens ("api-3 healthy after 2.1 s"); default: silent. */
  progress?(line: string): void;
}

export interface AddOptions {
  /** The health barrier: the instance answers its health check within this. default: 60 s */
  healthyWithinMs?: number;
  /** HAProxy's own checks then see it UP within this. default: 30 s */
  upWithinMs?: number;
}

/** The slot named `name`, or null when no tier has such a slot. */
export function poolInstance(d: ResolvedDefinition, name: string): PoolInstance | null {
  for (const tier of ['api', 'front'] as const) {
    const slot = d[`${tier}Slots`].find((s) => s.name === name);
    if (slot) return { tier, name: slot.name, port: slot.port };
  }
  return null;
}

const secs = (t0: number) => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
const setState = (t: RolloutTarget, i: PoolInstance, state: 'ready' | 'drain' | 'maint') =>
  haproxyAct(t.haproxySocket, [`set server ${BACKENDS[i.tier]}/${i.name} state ${state}`]);

/** Starts the instance, waits until it is healthy (the barrier), then puts it in the pool; undoes it all on failure. */
export async function addToPool(t: RolloutTarget, i: PoolInstance, o: AddOptions = {}): Promise<string> {
  const t0 = Date.now();
  const say = (line: string) => t.progress?.(line);
  const backend = BACKENDS[i.tier];
  await t.start(i.name);
  say(`${i.name} started`);
  try {
    const path = t.definition[i.tier].healthCheck.path;
    await waitUntil(`${i.name} healthy`, () => probe({ kind: 'http', path }, i.port, 1_000, t.definition.address), o.healthyWithinMs ?? 60_000, 100);
    say(`${i.name} healthy after ${secs(t0)}`);
    await setState(t, i, 'ready');
    await waitUntil(`HAProxy sees ${i.name} up`, async () => (await haproxyServers(t.haproxySocket, backend)).some((s) => s.name === i.name && s.up && !s.maint), o.upWithinMs ?? 30_000, 100);
  } catch (e) {
    say(`${i.name} did not join ${backend}: ${(e as Error).message}; taking it back out`);
    await setState(t, i, 'maint').catch(() => undefined);
    await t.stop(i.name).catch(() => undefined);
    await Promise.resolve(t.forget(i.name)).catch(() => undefined);
    throw e;
  }
  const sentence = `${i.name} joined ${backend}: healthy, then in the pool, in ${secs(t0)}`;
  say(sentence);
  return sentence;
}

/**
 * Drains the instance (no new requests; in-flight ones finish, up to deadlineMs; past it they are cut,
 * as an ALB's deregistration delay does), takes it out of the pool, stops and forgets it.
 */
export async function drainFromPool(t: RolloutTarget, i: PoolInstance, deadlineMs: number): Promise<string> {
  const t0 = Date.now();
  const backend = BACKENDS[i.tier];
  await setState(t, i, 'drain');
  t.progress?.(`${i.name} draining (up to ${(deadlineMs / 1000).toFixed(1)} s)`);
  const sessions = async () => (await backendStat(t.haproxySocket, backend)).servers.find((s) => s.name === i.name)?.current ?? 0;
  const drained = await waitUntil(`${i.name} drained`, async () => (await sessions()) === 0, deadlineMs, 100).catch(() => false);
  const cut = drained ? 0 : await sessions().catch(() => 0);
  await setState(t, i, 'maint');
  await t.stop(i.name);
  await Promise.resolve(t.forget(i.name));
  const sentence = `${i.name} left ${backend}: drained in ${secs(t0)}${cut ? ` (${cut} session(s) cut at the deadline)` : ''}, stopped`;
  t.progress?.(sentence);
  return sentence;
}
