// `tier down` (graceful, keeps data) and `tier destroy` (also wipes the state folder).
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot, statePaths, type StatePaths } from '../paths.js';
import { commandLineOf, isAlive, stopProcessGroup } from '../runner/spawn.js';
import { readJson, supervisorState } from '../state.js';
import { RegionError } from './errors.js';
import type { ProcessesFile, ProcessRecord } from '../types.js';

/**
 * Stops processes listed in processes.json that are still alive although no supervisor owns them
 * (it was killed). A pid counts as ours only if its command line still matches the record.
 */
export async function stopLeftovers(paths: StatePaths): Promise<number> {
  const file = readJson<ProcessesFile>(paths.processes);
  if (!file) return 0;
  const alive = file.processes.filter((p) => p.pid !== null && isAlive(p.pid) && isOurProcess(p));
  await Promise.all(alive.map((p) => stopProcessGroup(p.pid!, 10_000)));
  return alive.length;
}

/**
 * Pids are recycled quickly (pid_max is 32768 here): a recorded pid is ours only if its command line
 * still names the binary and either its last argument (a config or entry file) or its port
 * (Redis rewrites its title to "redis-server 127.0.0.1:PORT").
 */
export function isOurProcess(p: Pick<ProcessRecord, 'pid' | 'command' | 'port'>): boolean {
  if (p.pid === null) return false;
  const cmd = commandLineOf(p.pid) ?? '';
  const bin = (p.command[0] ?? '').split('/').pop() ?? '';
  const last = p.command.length > 1 ? p.command[p.command.length - 1]! : '';
  return bin !== '' && cmd.includes(bin) && ((last !== '' && cmd.includes(last)) || cmd.includes(`:${p.port}`));
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

/** What the region creates in its state folder; destroy removes exactly these. */
const ours = ['config', 'data', 'logs', 'run', 'secrets.json', 'db-topology.json', 'processes.json', 'up.lock'];

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
