// The only place that starts processes: each in its own process group, output appended to its log.
import { spawn, execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive } from './process.js';
import type { ProcessSpec } from '../types.js';

/** Starts a command detached (its own process group), stdout and stderr appended to logFile; `ipc` adds a channel. */
function spawnLogged(command: string, args: string[], o: { logFile: string; cwd: string; env?: Record<string, string>; ipc?: boolean }): ChildProcess {
  mkdirSync(dirname(o.logFile), { recursive: true });
  const fd = openSync(o.logFile, 'a');
  try {
    return spawn(command, args, { cwd: o.cwd, detached: true, env: { ...process.env, ...o.env }, stdio: o.ipc ? ['ignore', fd, fd, 'ipc'] : ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
}

/** Starts a spec detached (its own process group), stdout and stderr appended to spec.logFile. */
export function spawnProcess(spec: ProcessSpec): ChildProcess {
  for (const [from, to] of spec.copyBeforeStart) {
    if (existsSync(to)) continue;
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(from, to);
  }
  return spawnLogged(spec.command, spec.args, spec);
}

/**
 * Starts a long-lived daemon detached (its own session and process group, output appended to
 * logFile) with an IPC channel, so the starter can follow its progress and then let go.
 */
export const spawnDaemon = (command: string, args: string[], o: { logFile: string; cwd: string; env?: Record<string, string> }): ChildProcess =>
  spawnLogged(command, args, { ...o, ipc: true });

/** A process group is alive while its leader's negative pid answers signal 0. */
const groupAlive = (pgid: number) => isAlive(-pgid);

/**
 * Stops a process group: SIGTERM, wait up to graceMs, then SIGKILL. Resolves with how it ended.
 * The group id is the leader's pid (every spec is spawned detached).
 */
export async function stopProcessGroup(pgid: number, graceMs: number): Promise<'gone' | 'terminated' | 'killed'> {
  if (!groupAlive(pgid)) return 'gone';
  try { process.kill(-pgid, 'SIGTERM'); } catch { return 'gone'; }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    await sleep(50);
    if (!groupAlive(pgid)) return 'terminated';
  }
  try { process.kill(-pgid, 'SIGKILL'); } catch { /* gone */ }
  const hard = Date.now() + 5_000;
  while (groupAlive(pgid) && Date.now() < hard) await sleep(25);
  return 'killed';
}

/** Runs a one-shot command to completion; rejects with the tail of its output. */
/**
 * Runs a short command to completion synchronously and returns its stdout (git and tar for release
 * installs, where nothing else may happen meanwhile). Throws with the command and its stderr's tail.
 */
export function runOnceSync(command: string, args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): string {
  try {
    return execFileSync(command, args, { cwd: opts.cwd, encoding: 'utf8', timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as Error & { stderr?: string; status?: number | null };
    const tail = String(err.stderr ?? '').trim().split('\n').slice(-15).join('\n');
    throw new Error(`${command} ${args.join(' ')} failed (${err.status ?? err.message})${tail ? `:\n${tail}` : ''}`);
  }
}

export function runOnce(command: string, args: string[], opts: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { env: { ...process.env, ...opts.env }, cwd: opts.cwd, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 20 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        const tail = `${stdout}\n${stderr}`.trim().split('\n').slice(-15).join('\n');
        reject(new Error(`${command} ${args.join(' ')} failed (${err.code ?? err.signal ?? err.message}):\n${tail}`));
      } else resolve(stdout);
    });
  });
}
