// The short version of every scenario (each well under 60 s) against one small region brought up once
// (test/fixtures/drill.config.ts: ports 22000-22999, state in .test-state/drills), in sequence.
// Given the running region and open-model traffic, when each fault hits, then its pass criteria hold.
import { describe, expect, it } from 'vitest';
import { readRegion } from '@conduit/local';
import { testRegion } from './tier-cli.js';
import {
  edgeHitRatio, formatHitRatio, formatProbe, formatReport, probeConsistency, runDrill, scenarios, shortTiming, writeReport,
} from '../src/index.js';
import fixture from './fixtures/drill.config.js';

const t = testRegion('drill.config.ts', fixture);

describe('no stale read after a write, through the edge, across instances', () => {
  it('300 write-then-read pairs of every kind: 0 stale; the edge still answers hot anonymous reads', async () => {
    const instances = readRegion(t.stateDir).processes.filter((p) => p.tier === 'api').map((p) => ({ name: p.name, url: `http://127.0.0.1:${p.port}` }));
    const report = await probeConsistency({ edge: t.region.edge, pairs: 300, instances, rateLimits: t.definition.api.rateLimits });
    console.log(formatProbe(report).join('\n'));
    // Read-your-writes holds without exception, and so does reading another client's write: cached
    // content refills from the writer after a write, uncached content (comments) is marked just written.
    // Before the edge purge: 707 stale of 1,000; before the comment mark: about 1 in 300 (replica apply lag).
    expect(report.staleForWriter, report.examples.join('\n')).toBe(0);
    expect(report.stale, report.examples.join('\n')).toBe(0);
    expect(report.errors, report.examples.join('\n')).toBe(0);
    expect(report.pairs).toBe(300);
    // Its writers are as many as keep each under api.rateLimits.writesPerUserPerMinute: nothing waited on a 429.
    expect(report.writers).toBeGreaterThan(1);
    expect(report.throttled, report.examples.join('\n')).toBe(0);
    // The writes and reads really were spread over the instances.
    expect(Object.values(report.perInstance).filter((c) => c.writes > 0 && c.reads > 0)).toHaveLength(instances.length);
    const hits = await edgeHitRatio({ edge: t.region.edge, durationMs: 5_000 });
    console.log(formatHitRatio(hits).join('\n'));
    expect(hits.readsOnly.ratio).toBeGreaterThan(0.9);
    expect(hits.withWrites!.ratio).toBeGreaterThan(0.8);
  }, 180_000);
});

describe('drills against a small local region (short versions)', () => {
  for (const scenario of scenarios) {
    it(scenario.name, async () => {
      const report = await runDrill(t.region, scenario, { timing: shortTiming });
      writeReport(t.stateDir, report);
      const text = formatReport(report);
      console.log(text);
      expect(report.criteria.filter((c) => !c.pass).map((c) => `${c.name}: expected ${c.expected}, got ${c.actual}`), text).toEqual([]);
      // The definition's own rate limits (the fixture keeps the defaults): the load's users stay under them.
      expect(report.statusCounts['429'] ?? 0, text).toBe(0);
      expect(report.writes.lostCount).toBe(0);
      expect(report.writes.unexpectedCount).toBe(0);
    }, 120_000);
  }
});
