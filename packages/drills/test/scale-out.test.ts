// The short scale-out drill on a region of its own (fixtures/scale-out.config.ts: API 1..3 instances, 15 rps
// per instance, cooldowns 2 s out / 4 s in, ports 31000-31999): given one instance and the mix at 30 % of its
// capacity, when the traffic steps to 150 %, then added capacity serves within 10 s with no failed request,
// and after the drop the tier is back at one instance without a failed request; no acknowledged write lost.
import { existsSync } from 'node:fs';
import { capacitySchema } from '@conduit/definition';
import { statePaths } from '@conduit/local';
import { describe, expect, it } from 'vitest';
import { testRegion } from './tier-cli.js';
import { formatScaleOut, runCapacity, runScaleOut, shortScaleOutTiming } from '../src/index.js';
import fixture from './fixtures/scale-out.config.js';

const t = testRegion('scale-out.config.ts', fixture);

describe('scale-out drill (short)', () => {
  it('steps from 30 % to 150 % of capacity: added capacity serves within 10 s, 0 failed; scales back in after the drop, 0 failed', async () => {
    const report = await runScaleOut(t.region, shortScaleOutTiming);
    console.log(formatScaleOut(report));
    expect(report.instancesBefore).toBe(1);
    expect(report.instancesPeak).toBeGreaterThanOrEqual(2);
    expect(report.events.some((e) => e.source === 'supervisor' && /autoscaler: scaled api out 1 → [23]/.test(e.sentence))).toBe(true);
    // The scale-in is judged by its criterion and instancesAfter: the autoscaler's own sentence may be written
    // just after the drill saw the tier back at 1 and closed its event window.
    expect(report.criteria.filter((c) => !c.pass)).toEqual([]);
    expect(report.instancesAfter).toBe(1);
  });

  it('tier drill scale-out refuses extra arguments with a one-line usage', async () => {
    await expect(t.runTier('drill', 'scale-out', 'extra')).rejects.toThrow(/usage: tier drill <scenario>\|all\|.*scale-out/);
  });
});

describe('capacity benchmark on a live region (a few short steps)', () => {
  it('pins the API tier to one instance, steps the mix, measures the instance and the ceiling, then unpins', async () => {
    const lines: string[] = [];
    const r = await runCapacity(t.region, { startRate: 5, factor: 2, stepMs: 2000, maxSteps: 2, refineSteps: 0, ceilingStepMs: 1000, ceilingMaxSteps: 2, log: (l) => lines.push(l) });
    console.log(lines.join('\n'));
    expect(capacitySchema.safeParse(r).success).toBe(true);
    expect([...new Set(r.steps.map((s) => s.rate))]).toEqual([5, 10]);
    expect(r.knee.apiRpsPerInstance).toBeGreaterThan(0);
    expect(r.knee.cpuPercent).not.toBeNull();
    expect(r.knee.rssMb).toBeGreaterThan(20);
    expect([...new Set(r.ceilingSteps.map((s) => s.rate))]).toEqual([100, 150]);
    expect(r.ceiling.rps).toBeGreaterThan(0);
    expect(lines.some((l) => l.includes('api tier pinned to 1 instance'))).toBe(true);
    expect(existsSync(statePaths(t.stateDir).autoscalerPin)).toBe(false);
  });
});
