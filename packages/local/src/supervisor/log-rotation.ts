// Bounds the region's log files when the ops console is off (test regions): the console rotates each file
// once it has indexed it (packages/console/src/logs/tailer.ts); without it nobody would, and one run of the
// tests and drills left 124 MB of logs. Same scheme, so the two never disagree: a file of logs/ that reached
// observability.logFileMaxMb is copied to <name>.1 (replacing the previous copy) and truncated. Every
// writer opened its file with O_APPEND (runner/spawn.ts), so it goes on at the new start. A file thus
// holds at most maxBytes plus what is written between two checks, its copy the same: bounded.
import { copyFileSync, readdirSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';

export const LOG_ROTATION_EVERY_MS = 10_000;

/** Rotates every file of `dir` (not the copies) at or over `maxBytes`; returns the names it rotated. */
export function rotateLogs(dir: string, maxBytes: number): string[] {
  const rotated: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return rotated; // no logs folder yet
  }
  for (const name of names) {
    if (name.endsWith('.1')) continue;
    const path = join(dir, name);
    try {
      const st = statSync(path);
      if (!st.isFile() || st.size < maxBytes) continue;
      copyFileSync(path, `${path}.1`);
      truncateSync(path, 0);
      rotated.push(name);
    } catch {
      // removed meanwhile (a process forgotten, `tier destroy`): nothing to bound
    }
  }
  return rotated;
}
