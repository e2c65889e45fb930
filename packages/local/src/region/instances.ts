// Adding and removing an instance of a running region's front or API tier, live, through the supervisor's
// control socket and the rollout (rollout.ts): a new instance joins the pool behind its health barrier
// (and is stopped again on failure); a removed one is drained first.
import type { ResolvedDefinition } from '@conduit/definition';
import { statePaths } from '../paths.js';
import { supervisorRequest } from '../runner/index.js';
import { addToPool, drainFromPool, poolInstance, type PoolTier, type RolloutTarget } from '../rollout.js';
import { readRegion } from '../state.js';
import { RegionError } from './errors.js';

function target(d: ResolvedDefinition, stateDir: string, progress?: (line: string) => void): RolloutTarget {
  return {
    definition: d,
    haproxySocket: statePaths(stateDir).haproxySocket,
    start: (name) => supervisorRequest(stateDir, { op: 'start', name }),
    stop: (name) => supervisorRequest(stateDir, { op: 'stop', name }),
    forget: (name) => supervisorRequest(stateDir, { op: 'forget', name }),
    progress,
  };
}

/** Starts the first free slot of a tier (up to its max) and adds it to the pool; returns its name. */
export async function addInstance(d: ResolvedDefinition, stateDir: string, tier: PoolTier, progress?: (line: string) => void): Promise<string> {
  const running = new Set(readRegion(stateDir).processes.filter((p) => p.tier === tier && p.pid !== null).map((p) => p.name));
  const slot = d[`${tier}Slots`].find((s) => !running.has(s.name));
  if (!slot) throw new RegionError(`${tier} already runs ${running.size} instances, its max (${tier}.instances.max)`);
  await addToPool(target(d, stateDir, progress), { tier, name: slot.name, port: slot.port });
  return slot.name;
}

/** Drains an instance (in-flight requests finish, up to drainMs), takes it out of the pool, stops it. */
export async function removeInstance(d: ResolvedDefinition, stateDir: string, name: string, drainMs = d.api.drainSeconds * 1000, progress?: (line: string) => void): Promise<string> {
  const rec = readRegion(stateDir).processes.find((p) => p.name === name);
  const instance = rec ? poolInstance(d, name) : null;
  if (!instance) throw new RegionError(`no API or front instance named ${name}`);
  return drainFromPool(target(d, stateDir, progress), instance, drainMs);
}
