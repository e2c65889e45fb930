// `tier down` (graceful, keeps data) and `tier destroy` (also wipes the state folder).
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { repoRoot, statePaths, type StatePaths } from '../paths.js';
import { isAlive, isOurProcess } from '../runner/process.js';
import { stopProcessGroup } from '../runner/spawn.js';
import { waitUntil } from '../runner/probe.js';
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
  const alive = file.processes.filter(isOurProcess);
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
    const exited = await waitUntil('the supervisor exiting', () => !isAlive(sup.pid), 120_000).catch(() => false);
    if (!exited) {
      progress(`supervisor ${sup.pid} did not exit in 120 s: killing it`);
      try { process.kill(sup.pid, 'SIGKILL'); } catch { /* gone */ }
    }
  }
  const leftovers = await stopLeftovers(paths);
  rmSync(paths.supervisorPid, { force: true });
  rmSync(paths.supervisorSocket, { force: true });
  return { wasRunning, leftovers, seconds: (Date.now() - t0) / 1000 };
}

/** What the region creates in its state folder; destroy removes exactly these. */
const ours = ['config', 'data', 'logs', 'run', 'releases', 'secrets.json', 'db-topology.json', 'processes.json', 'up.lock'];

export async function regionDestroy(stateDir: string, progress: (line: string) => void = () => undefined): Promise<DownResult> {
  const root = resolve(stateDir);
  if (root === '/' || root === repoRoot || root === homedir() || root === resolve(repoRoot, '..')) {
    throw new RegionError(`refusing to wipe ${root}: local.stateDir must be a folder of its own (default .state)`);
  }
  const result = await regionDown(root, progress);
  if (existsSync(root)) {
    for (const name of ours) rmSync(join(root, name), { recursive: true, force: true });
    // Other tools may keep their own output next to ours (e.g. .state/aws): it is left alone.
    const others = readdirSync(root).filter((n) => !n.endsWith('.tmp'));
    if (others.length === 0) rmSync(root, { recursive: true, force: true });
    else progress(`kept ${others.join(', ')} in ${root} (not the region's)`);
  }
  rmSync(statePaths(root, true).varnishWorkdir, { recursive: true, force: true });
  progress(`wiped the region's state in ${root}`);
  return result;
}
