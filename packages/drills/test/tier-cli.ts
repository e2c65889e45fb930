// The `tier` CLI as the drill tests run it (a region of their own per config file), without blocking the
// test worker's event loop. Resolves with its output; rejects with the last of it when it fails.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const tier = join(dirname(fileURLToPath(import.meta.url)), '../../cli/bin/tier.mjs');

export const tierFor = (configFile: string) => (...args: string[]): Promise<string> =>
  new Promise((resolveRun, reject) => {
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
