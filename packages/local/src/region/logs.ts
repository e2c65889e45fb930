// `tier logs [component]`: the tail of one component's log, or of every log.
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { statePaths } from '../paths.js';
import { RegionError } from './errors.js';

function tail(file: string, lines: number): string {
  const text = readFileSync(file, 'utf8').trimEnd();
  return text.split('\n').slice(-lines).join('\n');
}

export function regionLogs(stateDir: string, component?: string, lines = 100): string {
  const paths = statePaths(stateDir);
  if (!existsSync(paths.logs)) throw new RegionError(`no logs in ${paths.logs}: the region has not been started (tier up)`);
  const names = readdirSync(paths.logs).filter((f) => f.endsWith('.log')).map((f) => f.slice(0, -4)).sort();
  if (component) {
    if (!names.includes(component)) throw new RegionError(`no log for "${component}": known components are ${names.join(', ')}`);
    return tail(join(paths.logs, `${component}.log`), lines);
  }
  return names.map((n) => `==> ${n} <==\n${tail(join(paths.logs, `${n}.log`), Math.min(lines, 20))}`).join('\n\n');
}

/**
 * Follows one component's log (like tail -f): calls onText with what is appended, polling every
 * 250 ms; also survives the file being recreated. Returns a function that stops following.
 */
export function followLog(stateDir: string, component: string, onText: (text: string) => void): () => void {
  const file = join(statePaths(stateDir).logs, `${component}.log`);
  if (!existsSync(file)) throw new RegionError(`no log for "${component}" in ${statePaths(stateDir).logs}`);
  let offset = statSync(file).size;
  const timer = setInterval(() => {
    let size: number;
    try {
      size = statSync(file).size;
    } catch {
      return;
    }
    if (size < offset) offset = 0;
    if (size === offset) return;
    const fd = openSync(file, 'r');
    try {
      const buf = Buffer.alloc(size - offset);
      readSync(fd, buf, 0, buf.length, offset);
      offset = size;
      onText(buf.toString('utf8'));
    } finally {
      closeSync(fd);
    }
  }, 250);
  return () => clearInterval(timer);
}
