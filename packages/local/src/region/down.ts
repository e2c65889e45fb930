// `tier down` (graceful, keeps data) and `tier destroy` (also wipes the state folder).
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot, statePaths, type StatePaths } from '../paths.js';
import { commandLineOf, isAlive, stopProcessGroup } from '../runner/spawn.js';
import { readJson, supervisorState } from '../state.js';
import { RegionError } from './errors.js';
import type { ProcessesFile } from '../types.js';

/**
 * Stops processes listed in processes.json that are still alive although no supervisor owns them
 * (it was killed). A pid counts as ours only if its command line still matches the record.
 */
export async function stopLeftovers(paths: StatePaths): Promise<number> {
  const file = readJson<ProcessesFile>(paths.processes);
  if (!file) return 0;
  const alive = file.processes.filter((p) => {
    if (p.pid === null || !isAlive(p.pid)) return false;
    const cmd = commandLineOf(p.pid) ?? '';
    const bin = (p.command[0] ?? '').split('/').pop() ?? '';
    return bin !== '' && cmd.includes(bin);
  });
  await Promise.all(alive.map((p) => stopProcessGroup(p.pid!, 10_000)));
  return alive.length;
}

export interface DownResult {
  /** A supervisor was running and was stopped. */
  wasRunning: boolean;
  leftovers: number;
  seconds: number;
}

export async function regionDown(stateDir: string, progress: (line: string) => void = () => undefined): Promise<DownResult> {
  const t0 = Date.now();
  const paths = statePaths(stateDir);
  const sup = supervisorState(paths);
  let wasRunning = false;
  if (sup?.running) {
    wasRunning = true;
    progress(`stopping the region (supervisor pid ${sup.pid}): entry points first, data last`);
    process.kill(sup.pid, 'SIGTERM');
    const deadline = Date.now() + 120_000;
    while (isAlive(sup.pid) && Date.now() < deadline) await sleep(50);
    if (isAlive(sup.pid)) {
      progress(`supervisor ${sup.pid} did not exit in 120 s: killing it`);
      try { process.kill(sup.pid, 'SIGKILL'); } catch { /* gone */ }
    }
  }
  const leftovers = await stopLeftovers(paths);
  rmSync(paths.supervisorPid, { force: true });
  rmSync(paths.supervisorSocket, { force: true });
  return { wasRunning, leftovers, seconds: (Date.now() - t0) / 1000 };
}

/** Names a state folder may contain; destroy refuses to wipe a folder holding anything else. */
const ours = new Set(['config', 'data', 'logs', 'run', 'secrets.json', 'db-topology.json', 'processes.json']);

export async function regionDestroy(stateDir: string, progress: (line: string) => void = () => undefined): Promise<DownResult> {
  const root = resolve(stateDir);
  if (root === '/' || root === repoRoot || root === homedir() || root === resolve(repoRoot, '..')) {
    throw new RegionError(`refusing to wipe ${root}: local.stateDir must be a folder of its own (default .state)`);
  }
  const result = await regionDown(root, progress);
  if (existsSync(root)) {
    const foreign = readdirSync(root).filter((n) => !ours.has(n) && !n.endsWith('.tmp'));
    if (foreign.length > 0) {
      throw new RegionError(`refusing to wipe ${root}: it holds ${foreign.slice(0, 3).join(', ')} which the region did not create; remove them or fix local.stateDir`);
    }
    rmSync(root, { recursive: true, force: true });
  }
  rmSync(statePaths(root, true).varnishWorkdir, { recursive: true, force: true });
  progress(`wiped ${root}`);
  return result;
}
