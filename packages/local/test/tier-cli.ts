// Runs the real `tier` CLI against one test definition, the way a user would, and never throws:
// tests assert on the exit code and output.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../src/index.js';

const execFileP = promisify(execFile);

export type TierRun = (...args: string[]) => Promise<{ code: number; stdout: string; stderr: string }>;

export function tierFor(config: string): TierRun {
  return async (...args) => {
    try {
      const r = await execFileP(process.execPath, [join(repoRoot, 'packages/cli/bin/tier.mjs'), ...args, '--config', config], {
        cwd: repoRoot, timeout: 150_000,
      });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (e) {
      const err = e as { code: number; stdout: string; stderr: string };
      return { code: err.code, stdout: err.stdout, stderr: err.stderr };
    }
  };
}
