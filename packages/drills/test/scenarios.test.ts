// The short version of every scenario (each well under 60 s) against one small region brought up once
// (test/fixtures/drill.config.ts: ports 22000-22999, state in .test-state/drills), in sequence.
// Given the running region and open-model traffic, when each fault hits, then its pass criteria hold.
import { spawn } from 'node:child_process';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolve } from '@conduit/definition';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatReport, regionHandle, runDrill, scenarios, shortTiming, writeReport, type RegionHandle } from '../src/index.js';
import fixture from './fixtures/drill.config.js';

const here = dirname(fileURLToPath(import.meta.url));
const configFile = join(here, 'fixtures', 'drill.config.ts');
const tier = join(here, '../../cli/bin/tier.mjs');
const definition = resolve(fixture);
const stateDir = resolvePath(dirname(configFile), definition.local.stateDir);

/** Runs the tier CLI without blocking the test worker's event loop. */
function runTier(...args: string[]): Promise<void> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [tier, ...args, '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b) => (out += b.toString()));
    child.stderr.on('data', (b) => (out += b.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), 240_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolveRun();
      else reject(new Error(`tier ${args.join(' ')} failed (${code}):\n${out.slice(-4000)}`));
    });
  });
}

let region: RegionHandle;

beforeAll(async () => {
  await runTier('destroy');
  await runTier('up');
  region = regionHandle(definition, stateDir);
}, 300_000);

afterAll(async () => {
  await runTier('destroy');
}, 120_000);

describe('drills against a small local region (short versions)', () => {
  for (const scenario of scenarios) {
    it(scenario.name, async () => {
      const report = await runDrill(region, scenario, { timing: shortTiming });
      writeReport(stateDir, report);
      const text = formatReport(report);
      console.log(text);
      expect(report.criteria.filter((c) => !c.pass).map((c) => `${c.name}: expected ${c.expected}, got ${c.actual}`), text).toEqual([]);
      expect(report.writes.lostCount).toBe(0);
      expect(report.writes.unexpectedCount).toBe(0);
    }, 120_000);
  }
});
