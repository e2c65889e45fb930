// The tier CLI as the drill tests run it: a child process, so the test worker's event loop keeps going.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const tier = join(dirname(fileURLToPath(import.meta.url)), '../../cli/bin/tier.mjs');

/** `tier <args> --config configFile`; resolves with its output, rejects with the tail of it on a non-zero exit. */
export function tierWith(configFile: string): (...args: string[]) => Promise<string> {
  return (...args) => new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [tier, ...args, '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b) => (out += b.toString()));
    child.stderr.on('data', (b) => (out += b.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), 240_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolveRun(out);
      else reject(new Error(`tier ${args.join(' ')} failed (${code}):\n${out.slice(-4000)}`));
    });
  });
}
