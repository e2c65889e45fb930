// The console process as the supervisor runs it: `node bin/console.mjs <stateDir>`. It runs the bundle
// (dist/main.mjs) with plain node, not the TypeScript sources through tsx (the loader and the compiled
// sources cost tens of MB of RSS). The bundle is rebuilt first, in a child (esbuild never loads here),
// when any of its inputs changed since it was built.
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const consoleDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = resolve(consoleDir, '../..');
const dist = join(consoleDir, 'dist');

function stale() {
  let inputs;
  try {
    inputs = JSON.parse(readFileSync(join(dist, 'inputs.json'), 'utf8'));
  } catch {
    return true;
  }
  for (const [file, stamp] of Object.entries(inputs)) {
    try {
      const st = statSync(join(repoRoot, file));
      if (`${st.size}:${st.mtimeMs}` !== stamp) return true;
    } catch {
      return true;
    }
  }
  return false;
}

if (stale()) execFileSync(process.execPath, [join(consoleDir, 'bin/build.mjs')], { stdio: ['ignore', 'inherit', 'inherit'] });
await import(pathToFileURL(join(dist, 'main.mjs')).href);
