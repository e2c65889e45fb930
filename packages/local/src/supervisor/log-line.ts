// The supervisor's own log (logs/supervisor.log) as JSON lines, like the API's: {"time","level","msg"}, so
// the console's log search reads its level, time and message like any other component's. No imports: the
// watchdog writes the same lines and stays free of the package.

export type SupervisorLevel = 'info' | 'warn' | 'error';

/** The level a supervisor sentence deserves: a failure is an error; a kill, replacement or promotion a warning. */
export function supervisorLevel(msg: string): SupervisorLevel {
  if (/failed|uncaught|unhandled|could not/i.test(msg)) return 'error';
  if (/killed|replac|unreachable|not restarted|promot|fenced/i.test(msg)) return 'warn';
  return 'info';
}

/** One line of logs/supervisor.log (with its newline). */
export function supervisorLogLine(msg: string, now = new Date()): string {
  return `${JSON.stringify({ time: now.toISOString(), level: supervisorLevel(msg), msg })}\n`;
}

/** Reads one line back: the JSON form, or the `ISO-time message` form older regions wrote. */
export function readSupervisorLine(line: string): { at: number; level: SupervisorLevel; msg: string } | null {
  if (line.startsWith('{')) {
    try {
      const o = JSON.parse(line) as { time?: unknown; level?: unknown; msg?: unknown };
      if (typeof o.time === 'string' && typeof o.msg === 'string') {
        const level = o.level === 'warn' || o.level === 'error' ? o.level : 'info';
        return { at: Date.parse(o.time), level, msg: o.msg };
      }
    } catch { /* not JSON after all */ }
    return null;
  }
  const m = /^(\d{4}-\d\d-\d\dT[\d:.]+Z) (.*)$/.exec(line);
  return m ? { at: Date.parse(m[1]!), level: supervisorLevel(m[2]!), msg: m[2]! } : null;
}
