// The `tier` CLI as the drill tests run it (a region of their own per config file), without blocking the
// test worker's event loop. Resolves with its output; rejects with the last of it when it fails. `testRegion`:
// a fixture's region brought up before a test file's tests and destroyed after them.
import { spawn } from 'node:child_process';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolve, type DefinitionInput } from '@conduit/definition';
import { afterAll, beforeAll } from 'vitest';
import { regionHandle, type RegionHandle } from '../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const tier = join(here, '../../cli/bin/tier.mjs');

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

export interface TestRegion {
  configFile: string;
  definition: ReturnType<typeof resolve>;
  stateDir: string;
  runTier: ReturnType<typeof tierFor>;
  /** Set once the region is up (inside the tests). */
  region: RegionHandle;
}

/**
 * The region of a fixture (test/fixtures/<file>, its `fixture` imported by the test), brought up from nothing
 * before the file's tests (`tier destroy`, `tier up`) and destroyed after them.
 */
export function testRegion(file: string, fixture: DefinitionInput): TestRegion {
  const configFile = join(here, 'fixtures', file);
  const definition = resolve(fixture);
  const stateDir = resolvePath(dirname(configFile), definition.local.stateDir);
  const t: TestRegion = { configFile, definition, stateDir, runTier: tierFor(configFile), region: undefined as unknown as RegionHandle };
  beforeAll(async () => {
    await t.runTier('destroy');
    await t.runTier('up');
    t.region = regionHandle(definition, stateDir);
  }, 300_000);
  afterAll(async () => {
    await t.runTier('destroy');
  }, 120_000);
  return t;
}
