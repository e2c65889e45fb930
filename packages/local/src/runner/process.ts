// Process identity: is a pid alive, is it still the process we recorded (pids are recycled quickly:
// pid_max is 32768 here), is it stopped (SIGSTOP). The one place these rules live.
import { readFileSync } from 'node:fs';
import type { ProcessRecord } from '../types.js';

/** True while the pid exists (EPERM: it exists but belongs to another user). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The command line of a live pid, or null. */
export function commandLineOf(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return null;
  }
}

/**
 * A recorded pid is ours only if it is alive and its command line still names the binary and either
 * its last argument (a config or entry file) or its port (Redis rewrites its title to
 * "redis-server 127.0.0.1:PORT"). Nothing is signalled or counted as running unless this holds.
 */
export function isOurProcess(p: Pick<ProcessRecord, 'pid' | 'command'> & { port?: number }): boolean {
  if (p.pid === null || !isAlive(p.pid)) return false;
  const cmd = commandLineOf(p.pid) ?? '';
  const bin = (p.command[0] ?? '').split('/').pop() ?? '';
  const last = p.command.length > 1 ? p.command[p.command.length - 1]! : '';
  return bin !== '' && cmd.includes(bin) && ((last !== '' && cmd.includes(last)) || (p.port !== undefined && cmd.includes(`:${p.port}`)));
}

/** The one-letter state of a process from /proc (R, S, T = stopped…), null when unknown. */
export function processState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) || null;
  } catch {
    return null;
  }
}

/**
 * The Linux clock tick /proc/<pid>/stat counts CPU time in (sysconf(_SC_CLK_TCK)): 100 on every
 * Linux architecture Node supports; Node has no binding for sysconf.
 */
const CLOCK_TICKS_PER_SECOND = 100;

/** CPU time a process has used so far (user + system), in ms, from /proc; null when it is gone. */
export function processCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]);
    return Number.isFinite(ticks) ? (ticks * 1000) / CLOCK_TICKS_PER_SECOND : null;
  } catch {
    return null;
  }
}

/** Resident memory of a process in MB (VmRSS), null when it is gone. */
export function processRssMb(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : null;
  } catch {
    return null;
  }
}
