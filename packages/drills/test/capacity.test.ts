// The capacity benchmark's pure parts: the stepped rates, the SLO judgement of a step, the knee, the search
// that stops at a confirmed breach and refines, the committed record, and its chart.
import { describe, expect, it } from 'vitest';
import { capacitySchema, type CapacityStep } from '@conduit/definition';
import { capacityChart, capacityResult, judgeStep, kneeOf, steppedRates, stepUntilBreach, type Sample } from '../src/index.js';

const sample = (latencyMs: number, ok = true): Sample => ({
  seq: 0, kind: 'read', label: 'GET', idempotent: true, dueAt: 0, sentAt: 0, endedAt: latencyMs, latencyMs,
  status: ok ? 200 : 503, outcome: ok ? 'ok' : 'http-error', errorKind: ok ? null : 'http 503', maybeSent: true,
});
const slo = { p99Ms: 100, errorRate: 0.01 };
const step = (rate: number, withinSlo: boolean, p99Ms = withinSlo ? 50 : 400): CapacityStep => ({
  rate, apiRps: rate * 0.8, p50Ms: 10, p99Ms, errorRate: withinSlo ? 0 : 0.02, cpuPercent: rate / 10, rssMb: 90, withinSlo,
});

describe('capacity benchmark', () => {
  it('steps the rate geometrically, bounded in count and by the load generator', () => {
    expect(steppedRates(20, 1.5, 5)).toEqual([20, 30, 45, 68, 101]);
    expect(steppedRates(3000, 2, 10)).toEqual([3000, 5000]);
    expect(steppedRates(20, 1.5, 2)).toEqual([20, 30]);
    expect(() => steppedRates(10, 1, 3)).toThrow('factor (1) > 1');
  });
  it('judges a step by its p99 and error rate', () => {
    const fast = Array.from({ length: 100 }, (_, i) => sample(i < 99 ? 20 : 90));
    expect(judgeStep(fast, slo)).toEqual({ p50Ms: 20, p99Ms: 20, errorRate: 0, withinSlo: true });
    const slowTail = [...Array.from({ length: 97 }, () => sample(20)), sample(150), sample(160), sample(170)];
    expect(judgeStep(slowTail, slo)).toMatchObject({ p99Ms: 160, withinSlo: false });
    const failing = [...Array.from({ length: 98 }, () => sample(20)), sample(20, false), sample(20, false)];
    expect(judgeStep(failing, slo)).toMatchObject({ errorRate: 0.02, withinSlo: false });
    expect(judgeStep([], slo).withinSlo).toBe(false);
  });
  it('takes the knee below the lowest breaking rate', () => {
    expect(kneeOf([step(10, true), step(20, true), step(40, false), step(30, true)])!.rate).toBe(30);
    // A lucky step above a breach does not count.
    expect(kneeOf([step(10, true), step(20, false), step(40, true)])!.rate).toBe(10);
    expect(kneeOf([step(10, false)])).toBeNull();
  });
  it('stops at a breach seen twice, shrugs off a single noisy step, then refines between good and bad', async () => {
    const seen: number[] = [];
    let noisy = true;
    const steps = await stepUntilBreach([10, 20, 40, 80, 160], 2, async (rate) => {
      seen.push(rate);
      if (rate === 20 && noisy) { noisy = false; return step(rate, false); }
      return step(rate, rate < 60);
    });
    // 20 breaks once (noise) and passes on the retry; 80 breaks twice; then 57 (√(40·80)) passes, 68 breaks.
    expect(seen).toEqual([10, 20, 20, 40, 80, 80, 57, 68]);
    expect(kneeOf(steps)!.rate).toBe(57);
  });
  it('writes a record the definition accepts, and draws it with the knee and the SLO marked', () => {
    const steps = [step(10, true), step(20, true), step(40, false), step(40, false)];
    const r = capacityResult(steps, [{ rate: 1000, p50Ms: 1, p99Ms: 3, errorRate: 0, withinSlo: true }, { rate: 1500, p50Ms: 50, p99Ms: 900, errorRate: 0, withinSlo: false }], slo, 0.5, new Date('2026-11-29T00:00:00Z'));
    expect(capacitySchema.safeParse(r).success).toBe(true);
    expect(r.knee).toEqual({ edgeRps: 20, apiRpsPerInstance: 16, p50Ms: 10, p99Ms: 50, cpuPercent: 2, rssMb: 90 });
    expect(r.ceiling).toEqual({ rps: 1000, kneePercent: 2 });
    const svg = capacityChart(r);
    expect(svg).toMatch(/^<svg /);
    expect(svg).toContain('knee 20 rps');
    expect(svg).toContain('SLO p99 100 ms');
    expect(svg).toContain('2 % of the same-run ceiling (same load generator, bare node:http): 1000 rps');
    // The rate axis reaches past the last step.
    expect(svg).toContain('>50</text>');
    expect(() => capacityResult([step(10, false)], [], slo, 0)).toThrow('no step was within the SLO');
  });
});
