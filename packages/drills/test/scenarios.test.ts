// The short version of every scenario (each well under 60 s) against one small region brought up once
// (test/fixtures/drill.config.ts: ports 22000-22999, state in .test-state/drills), in sequence.
// Given the running region and open-model traffic, when each fault hits, then its pass criteria hold.
import { dirname, join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolve } from '@conduit/definition';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRegion } from '@conduit/local';
import {
  edgeHitRatio, formatHitRatio, formatProbe, formatReport, probeConsistency, regionHandle, runDrill, scenarios, shortTiming, writeReport, type RegionHandle,
} from '../src/index.js';
import { tierWith } from './tier.js';
import fixture from './fixtures/drill.config.js';

const here = dirname(fileURLToPath(import.meta.url));
const configFile = join(here, 'fixtures', 'drill.config.ts');
const definition = resolve(fixture);
const stateDir = resolvePath(dirname(configFile), definition.local.stateDir);

const runTier = tierWith(configFile);

let region: RegionHandle;

beforeAll(async () => {
  await runTier('destroy');
  await runTier('up');
  region = regionHandle(definition, stateDir);
}, 300_000);

afterAll(async () => {
  await runTier('destroy');
}, 120_000);

describe('no stale read after a write, through the edge, across instances', () => {
  it('300 write-then-read pairs of every kind: 0 stale; the edge still answers hot anonymous reads', async () => {
    const instances = readRegion(stateDir).processes.filter((p) => p.tier === 'api').map((p) => ({ name: p.name, url: `http://127.0.0.1:${p.port}` }));
    const report = await probeConsistency({ edge: region.edge, pairs: 300, instances });
    console.log(formatProbe(report).join('\n'));
    // Read-your-writes holds without exception. Anonymous reads right after another client's write may
    // still, rarely, come from a replica that has not applied it yet (milliseconds of apply lag; seen once
    // in 300 pairs on a loaded machine): reported, bounded at 1 %. A broken edge purge makes whole kinds
    // stale (before the purge: 707 of 1,000), far above that bound.
    expect(report.staleForWriter, report.examples.join('\n')).toBe(0);
    expect(report.stale, report.examples.join('\n')).toBeLessThanOrEqual(3);
    expect(report.errors, report.examples.join('\n')).toBe(0);
    expect(report.pairs).toBe(300);
    // The writes and reads really were spread over the instances.
    expect(Object.values(report.perInstance).filter((c) => c.writes > 0 && c.reads > 0)).toHaveLength(instances.length);
    const hits = await edgeHitRatio({ edge: region.edge, durationMs: 5_000 });
    console.log(formatHitRatio(hits).join('\n'));
    expect(hits.readsOnly.ratio).toBeGreaterThan(0.9);
    expect(hits.withWrites!.ratio).toBeGreaterThan(0.8);
  }, 180_000);
});

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
