import { describe, expect, it } from 'vitest';
import type { Sample } from '../src/load.js';
import { percentile, recoveryMs, splitPhases } from '../src/stats.js';

const sample = (dueAt: number, latencyMs: number, outcome: Sample['outcome'] = 'ok', kind: Sample['kind'] = 'read'): Sample => ({
  seq: dueAt, kind, label: 'x', idempotent: kind !== 'write', dueAt, sentAt: dueAt, endedAt: dueAt + latencyMs, latencyMs,
  status: outcome === 'ok' ? 200 : 503, outcome, errorKind: outcome === 'ok' ? null : 'http 503', maybeSent: true,
});

describe('stats', () => {
  it('computes nearest-rank percentiles', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile([], 50)).toBeNull();
    expect(percentile([7], 99)).toBe(7);
  });

  it('splits samples into before, during and after the fault', () => {
    const s = [sample(0, 5), sample(100, 5), sample(1000, 50, 'http-error'), sample(2000, 5), sample(2500, 6)];
    const [before, during, after, all] = splitPhases(s, 1000, 2000);
    expect(before).toMatchObject({ requests: 2, ok: 2, failed: 0 });
    expect(during).toMatchObject({ requests: 1, ok: 0, failed: 1, p50Ms: 50 });
    expect(after).toMatchObject({ requests: 2, ok: 2 });
    expect(all!.requests).toBe(5);
  });

  it('measures recovery as the end of the last bad request after the fault', () => {
    const s = [sample(900, 200, 'timeout'), sample(1500, 10, 'http-error', 'write'), sample(2200, 2500), sample(3000, 5)];
    expect(recoveryMs(s, 1000, 2000)).toBe(3700);
    expect(recoveryMs(s, 1000, 2000, (x) => x.kind === 'write')).toBe(510);
    expect(recoveryMs([sample(1200, 3)], 1000)).toBe(0);
  });
});
