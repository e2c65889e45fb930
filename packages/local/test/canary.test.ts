// The canary verdict from HAProxy counters at both ends of the bake window, against the `deploy` thresholds.
import { describe, expect, it } from 'vitest';
import { resolve } from '@conduit/definition';
import { judgeCanary, type ServerStat } from '../src/index.js';
import small from './fixtures/small.config.ts';

const d = resolve(small);
const stat = (name: string, total: number, http5xx = 0, rtimeMs = 10, retried = 0, up = true): ServerStat =>
  ({ name, status: up ? 'UP' : 'DOWN', up, maint: false, current: 0, total, http5xx, rtimeMs, retried, checksDown: 0 });
const before = [stat('api-3', 0), stat('api-2', 100, 1)];

describe('canary analysis', () => {
  it('passes a canary that fails no more than the old instances and is as fast', () => {
    const v = judgeCanary(d, ['api-3'], ['api-2'], before, [stat('api-3', 50, 0, 12), stat('api-2', 150, 1, 10)]);
    expect(v.ok).toBe(true);
    expect(v.canary).toMatchObject({ requests: 50, errors: 0, retried: 0 });
    expect(v.old).toMatchObject({ requests: 50, errors: 0 });
  });
  it('fails a canary whose 5xx, or requests retried elsewhere, exceed the old share by more than maxErrorRateIncrease', () => {
    expect(judgeCanary(d, ['api-3'], ['api-2'], before, [stat('api-3', 50, 5), stat('api-2', 150, 1)])).toMatchObject({ ok: false, canary: { errors: 5, errorRate: 0.1 } });
    const retried = judgeCanary(d, ['api-3'], ['api-2'], before, [stat('api-3', 50, 0, 10, 20), stat('api-2', 150, 1)]);
    expect(retried.ok).toBe(false);
    expect(retried.sentence).toContain('deploy.maxErrorRateIncrease');
  });
  it('judges latency only past minCanaryRequests, against maxLatencyRatio', () => {
    expect(judgeCanary(d, ['api-3'], ['api-2'], before, [stat('api-3', 50, 0, 25), stat('api-2', 150, 1, 10)]).ok).toBe(false);
    const few = judgeCanary(d, ['api-3'], ['api-2'], before, [stat('api-3', 5, 0, 500), stat('api-2', 150, 1, 10)]);
    expect(few.ok).toBe(true);
    expect(few.sentence).toContain('latency not judged');
  });
  it('compares response times below deploy.latencyFloorMs as the floor (whole-millisecond noise is not a slower release)', () => {
    expect(judgeCanary(d, ['api-3'], ['api-2'], before, [stat('api-3', 50, 0, 3), stat('api-2', 150, 1, 1)]).ok).toBe(true);
    const slow = judgeCanary(d, ['api-3'], ['api-2'], before, [stat('api-3', 50, 0, 21), stat('api-2', 150, 1, 1)]);
    expect(slow.ok).toBe(false);
    expect(slow.sentence).toContain('deploy.latencyFloorMs=10');
  });
  it('fails a canary HAProxy no longer sees up', () => {
    expect(judgeCanary(d, ['api-3'], ['api-2'], before, [stat('api-3', 5, 0, 10, 0, false), stat('api-2', 150, 1)]).ok).toBe(false);
  });
});
