// `tier down` (graceful, keeps data) and `tier destroy` (also wipes the state folder).
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { repoRoot, statePaths, type StatePaths } from '../paths.js';
import { isAlive, isOurProcess } from '../runner/process.js';
import { stopProcessGroup } from '../runner/spawn.js';
import { waitUntil } from '../runner/probe.js';
import { readJson, supervisorState, watchdogState } from '../state.js';
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
  const wd = watchdogState(paths);
  let wasRunning = false;
  // The watchdog first: it stops restarting, then hands SIGTERM to the supervisor, which stops the region.
  // Without a watchdog (killed), the supervisor is signalled directly.
  const target = wd?.running ? { pid: wd.pid, what: 'watchdog' } : sup?.running ? { pid: sup.pid, what: 'supervisor' } : null;
  if (target) {
    wasRunning = true;
    progress(`stopping the region (${target.what} pid ${target.pid}${sup?.running && target.what === 'watchdog' ? `, supervisor pid ${sup.pid}` : ''}): entry points first, data last`);
    process.kill(target.pid, 'SIGTERM');
    const gone = () => !isAlive(target.pid) && !(sup?.running && isAlive(sup.pid));
    const exited = await waitUntil(`the ${target.what} exiting`, gone, 120_000).catch(() => false);
    if (!exited) {
      progress(`${target.what} ${target.pid} did not exit in 120 s: killing it`);
      for (const pid of [target.pid, sup?.pid]) {
        try { if (pid) process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      }
    }
  }
  const leftovers = await stopLeftovers(paths);
  for (const f of [paths.supervisorPid, paths.supervisorSocket, paths.watchdogPid, paths.watchdogState]) rmSync(f, { force: true });
  return { wasRunning, leftovers, seconds: (Date.now() - t0) / 1000 };
}

/** What the region creates in its state folder; destroy removes exactly these. */
const ours = ['config', 'data', 'logs', 'run', 'releases', 'secrets.json', 'tls', 'db-topology.json', 'db-redundancy.json', 'db-semisync.json', 'errant', 'processes.json', 'journal.jsonl', 'up.lock', 'restored.json', 'region.json', 'secondary', 'unreplicated'];

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
