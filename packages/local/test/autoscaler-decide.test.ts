// The API autoscaler's pure decision: observed states in, one decision and its sentence out.
import { describe, expect, it } from 'vitest';
import { afterAction, decide, initialMemory, rateOf, type Memory, type Observed, type Policy } from '../src/controllers/autoscaler-decide.js';
import { averageCpu, pinApi, policyOf, readPin } from '../src/controllers/autoscaler.js';
import { parseShowStat } from '../src/runner/haproxy.js';
import { processCpuMs, processRssMb } from '../src/runner/process.js';
import { derivedTargetRps, measuredCapacity, resolve } from '@conduit/definition';
import small from './fixtures/small.config.ts';

const policy: Policy = { min: 1, max: 5, targetRps: 400, scaleOutCooldownMs: 60_000, scaleInCooldownMs: 300_000 };
const T = 1_000_000;
const obs = (rps: number | null, running: number, healthy = running, now = T): Observed => ({ now, rps, running, healthy });
const mem = (m: Partial<Memory> = {}): Memory => ({ ...initialMemory(), ...m });

describe('decide: table of observed states', () => {
  const rows: Array<{ what: string; o: Observed; m?: Partial<Memory>; p?: Partial<Policy>; kind: string; to?: number; sentence?: string; why?: RegExp }> = [
    { what: 'no rate yet', o: obs(null, 3), kind: 'none', why: /no request rate yet/ },
    { what: 'on target', o: obs(1100, 3), kind: 'none', why: /on target: 1100 rps over 3 instances, needs 3/ },
    {
      what: 'above target: out by exactly what is needed', o: obs(1840, 3), kind: 'scale-out', to: 5,
      sentence: 'scaled api out 3 → 5: 1840 rps over 3 instances is above the 400 rps target (needs 5)',
    },
    {
      what: 'far above target: clamped to max', o: obs(4000, 2), kind: 'scale-out', to: 5,
      sentence: 'scaled api out 2 → 5: 4000 rps over 2 instances is above the 400 rps target (needs 10, max 5)',
    },
    {
      what: 'at max and still above: said, no action', o: obs(4000, 5), kind: 'at-max',
      sentence: 'api stays at its max 5: 4000 rps over 5 instances is above the 400 rps target (needs 10, api.instances.max 5)',
    },
    {
      what: 'below min (an instance was removed by hand): back to min whatever the load', o: obs(0, 1), p: { min: 2 }, kind: 'scale-out', to: 2,
      sentence: 'scaled api out 1 → 2: the group runs 1 instance, below its min 2 (api.instances.min)',
    },
    {
      what: 'above max: in by one whatever the load', o: obs(9000, 6), kind: 'scale-in', to: 5,
      sentence: 'scaled api in 6 → 5: the group runs 6 instances, above its max 5 (api.instances.max)',
    },
    { what: 'scale-out cooldown not over', o: obs(1840, 3), m: { lastScaleOutAt: T - 59_000 }, kind: 'none', why: /scale-out cooldown: 1 s left/ },
    { what: 'scale-out cooldown over', o: obs(1840, 3), m: { lastScaleOutAt: T - 60_000 }, kind: 'scale-out', to: 5 },
    { what: 'below target, cooldown just started', o: obs(100, 3), kind: 'none', why: /below target for 0 s of the 300 s scale-in cooldown/ },
    { what: 'below target, not long enough', o: obs(100, 3), m: { belowSince: T - 299_000 }, kind: 'none', why: /below target for 299 s/ },
    {
      what: 'below target for the whole cooldown: in by ONE, not to what is needed', o: obs(100, 3), m: { belowSince: T - 300_000 }, kind: 'scale-in', to: 2,
      sentence: 'scaled api in 3 → 2: 100 rps over 3 instances has been below the 400 rps target for 300 s (needs 1)',
    },
    {
      what: 'no load at min: nothing below min', o: obs(0, 1), m: { belowSince: T - 900_000 }, kind: 'none', why: /on target: 0 rps over 1 instance, needs 0, min 1/,
    },
    {
      what: 'zero load above min: in towards min', o: obs(0, 2), m: { belowSince: T - 300_000 }, kind: 'scale-in', to: 1,
      sentence: 'scaled api in 2 → 1: 0 rps over 2 instances has been below the 400 rps target for 300 s (needs 0, min 1)',
    },
    {
      what: 'min clamps the need', o: obs(50, 4), p: { min: 2 }, m: { belowSince: T - 300_000 }, kind: 'scale-in', to: 3,
      sentence: 'scaled api in 4 → 3: 50 rps over 4 instances has been below the 400 rps target for 300 s (needs 1, min 2)',
    },
    {
      what: 'flapping: one instance fewer would be above target, so no scale-in', o: obs(1190, 3), m: { belowSince: T - 900_000 }, kind: 'none', why: /on target/,
    },
    { what: 'exactly on the boundary is on target (800 rps, 2 instances)', o: obs(800, 2), kind: 'none', why: /needs 2/ },
    { what: 'the rate counts per healthy instance in the sentence', o: obs(900, 2, 1), kind: 'scale-out', to: 3, sentence: 'scaled api out 2 → 3: 900 rps over 1 instance is above the 400 rps target (needs 3)' },
  ];
  for (const r of rows) {
    it(r.what, () => {
      const { decision } = decide(r.o, mem(r.m), { ...policy, ...r.p });
      expect(decision.kind).toBe(r.kind);
      if (r.to !== undefined) expect(decision).toMatchObject({ to: r.to });
      if (r.sentence) expect(decision).toMatchObject({ sentence: r.sentence });
      if (r.why) expect(decision.kind === 'none' && decision.why).toMatch(r.why);
    });
  }
});

describe('decide over time', () => {
  it('a dip below target restarts the scale-in clock: a burst in the middle of the cooldown prevents flapping', () => {
    let m = initialMemory();
    const step = (rps: number, running: number, now: number) => {
      const r = decide(obs(rps, running, running, now), m, policy);
      m = r.memory;
      return r.decision;
    };
    expect(step(100, 3, T).kind).toBe('none');
    expect(m.belowSince).toBe(T);
    expect(step(100, 3, T + 200_000).kind).toBe('none');
    expect(step(1100, 3, T + 250_000).kind).toBe('none'); // back on target: the clock stops
    expect(m.belowSince).toBeNull();
    expect(step(100, 3, T + 300_000).kind).toBe('none'); // below again: a new clock
    expect(step(100, 3, T + 599_000).kind).toBe('none');
    const d = step(100, 3, T + 600_000);
    expect(d).toMatchObject({ kind: 'scale-in', from: 3, to: 2 });
    m = afterAction(m, d, T + 605_000);
    // The next one needs another whole cooldown, counted from the end of the scale-in.
    expect(step(100, 2, T + 610_000).kind).toBe('none');
    expect(step(100, 2, T + 904_000).kind).toBe('none');
    expect(step(100, 2, T + 905_000)).toMatchObject({ kind: 'scale-in', from: 2, to: 1 });
  });

  it('after a scale-out, the next one waits the scale-out cooldown, counted from its end', () => {
    let m = initialMemory();
    const d = decide(obs(1000, 1), m, policy);
    expect(d.decision).toMatchObject({ kind: 'scale-out', to: 3 });
    m = afterAction(d.memory, d.decision, T + 5_000);
    expect(decide(obs(2000, 3, 3, T + 64_999), m, policy).decision.kind).toBe('none');
    expect(decide(obs(2000, 3, 3, T + 65_000), m, policy).decision).toMatchObject({ kind: 'scale-out', from: 3, to: 5 });
  });
});

describe('rateOf', () => {
  it('averages the counter delta over the window', () => {
    expect(rateOf([{ at: 0, requests: 100 }, { at: 1000, requests: 200 }, { at: 2000, requests: 400 }], 3000)).toBe(150);
    expect(rateOf([{ at: 0, requests: 100 }, { at: 1000, requests: 200 }, { at: 2000, requests: 400 }], 1000)).toBe(200);
  });
  it('is null with one sample or a counter that went back (HAProxy restarted)', () => {
    expect(rateOf([{ at: 0, requests: 100 }], 3000)).toBeNull();
    expect(rateOf([{ at: 0, requests: 100 }, { at: 1000, requests: 5 }], 3000)).toBeNull();
  });
});

describe('the definition and HAProxy stats it reads', () => {
  it('reads the same fields as the AWS target-tracking policy', () => {
    const d = resolve(small);
    expect(policyOf(d)).toEqual({
      min: d.api.instances.min, max: d.api.instances.max, targetRps: d.scaling.targetRpsPerInstance, targetCpuPercent: d.scaling.targetCpuPercent,
      scaleOutCooldownMs: d.scaling.scaleOutCooldownSeconds * 1000, scaleInCooldownMs: d.scaling.scaleInCooldownSeconds * 1000,
    });
  });
  it('uses the target derived from the capacity benchmark when the definition sets none (as the AWS policy does)', () => {
    const d = resolve({});
    expect(policyOf(d).targetRps).toBe(derivedTargetRps(measuredCapacity.knee.apiRpsPerInstance, d.scaling.targetUtilisation));
    expect(policyOf(d).targetCpuPercent).toBe(60);
  });
  it('parses the backend request counter and the servers from `show stat`', () => {
    const csv = [
      '# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,chkdown,req_tot',
      'be_api,api-1,0,0,2,5,,40,0,0,,0,,0,0,0,0,UP,0,120',
      'be_api,api-2,0,0,0,0,,0,0,0,,0,,0,0,0,0,MAINT,3,0',
      'be_api,BACKEND,0,0,2,5,,40,0,0,0,0,,0,0,0,0,UP,1,130',
      'be_front,BACKEND,0,0,0,0,,9,0,0,0,0,,0,0,0,0,UP,0,9',
    ].join('\n');
    const api = parseShowStat(csv).get('be_api')!;
    expect({ requests: api.requests, servers: api.servers.map(({ name, status, current, checksDown }) => ({ name, status, current, checksDown })) }).toEqual({
      requests: 130,
      servers: [{ name: 'api-1', status: 'UP', current: 2, checksDown: 0 }, { name: 'api-2', status: 'MAINT', current: 0, checksDown: 3 }],
    });
  });
});

describe('decide: CPU target tracking (scaling.targetCpuPercent), beside the request rate', () => {
  const p: Policy = { ...policy, targetCpuPercent: 60 };
  const cpu = (rps: number, running: number, cpuPercent: number | null): Observed => ({ ...obs(rps, running), cpuPercent });
  it('scales out on CPU when the request rate alone is on target, and the sentence names the CPU target', () => {
    const r = decide(cpu(800, 2, 90), mem(), p);
    expect(r.decision).toEqual({ kind: 'scale-out', from: 2, to: 3, sentence: 'scaled api out 2 → 3: 800 rps, CPU 90 % over 2 instances is above the 60 % CPU target (needs 3)' });
  });
  it('the larger of the two wins out: the rate asks for more than CPU', () => {
    const r = decide(cpu(1600, 2, 61), mem(), p);
    expect(r.decision).toMatchObject({ kind: 'scale-out', to: 4, sentence: expect.stringContaining('above the 400 rps target (needs 4)') });
  });
  it('scales in only when both are below target', () => {
    const belowSince = T - 300_000;
    expect(decide(cpu(100, 3, 55), mem({ belowSince }), p).decision).toMatchObject({ kind: 'none', why: expect.stringContaining('on target') });
    expect(decide(cpu(100, 3, 20), mem({ belowSince }), p).decision).toMatchObject({
      kind: 'scale-in', to: 2, sentence: 'scaled api in 3 → 2: 100 rps, CPU 20 % over 3 instances has been below the 400 rps and 60 % CPU targets for 300 s (needs 1)',
    });
  });
  it('ignores CPU while unknown, or when the policy does not track it', () => {
    expect(decide(cpu(800, 2, null), mem(), p).decision.kind).toBe('none');
    expect(decide(cpu(800, 2, 95), mem(), policy).decision.kind).toBe('none');
  });
  it('averages CPU from /proc time samples, and waits until every instance has a measure', () => {
    const samples = new Map([[10, [{ at: 0, requests: 0 }, { at: 2000, requests: 1000 }]], [11, [{ at: 0, requests: 500 }, { at: 2000, requests: 2100 }]]]);
    expect(averageCpu(samples, [10, 11], 3000)).toBe(65); // 500 and 800 CPU ms per second
    expect(averageCpu(samples, [10, 11, 12], 3000)).toBeNull();
  });
});

describe('decide: pinned by an operator (the capacity benchmark)', () => {
  const pinned = (running: number, pin: number, rps = 5000): Observed => ({ ...obs(rps, running), pinned: pin, cpuPercent: 99 });
  it('moves to the pinned count whatever the metrics say, one instance at a time inward, below min too', () => {
    expect(decide(pinned(3, 1), mem(), { ...policy, min: 3 }).decision).toEqual({ kind: 'scale-in', from: 3, to: 2, sentence: 'scaled api in 3 → 2: pinned to 1 instance by an operator (autoscaler paused)' });
    expect(decide(pinned(1, 3), mem(), policy).decision).toMatchObject({ kind: 'scale-out', to: 3 });
    expect(decide(pinned(1, 1), mem(), policy).decision).toMatchObject({ kind: 'none', why: 'pinned to 1 instance by an operator (autoscaler paused)' });
  });
  it('keeps the pin in the state folder; refuses a count outside 1..max', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'pin-'));
    const paths = { autoscalerPin: join(dir, 'pin.json') } as Parameters<typeof readPin>[0];
    const d = resolve(small);
    expect(readPin(paths)).toBeNull();
    expect(pinApi(paths, d, 1)).toEqual({ pinned: 1 });
    expect(readPin(paths)).toBe(1);
    expect(() => pinApi(paths, d, d.api.instances.max + 1)).toThrow(`must be an integer from 1 to api.instances.max (${d.api.instances.max})`);
    expect(pinApi(paths, d, null)).toEqual({ pinned: null });
    expect(readPin(paths)).toBeNull();
  });
});

describe('CPU time and memory of a process, from /proc', () => {
  it('counts CPU time as it is used, and reads the resident memory; null for a process that is gone', () => {
    const before = processCpuMs(process.pid)!;
    const until = Date.now() + 300;
    let spin = 0;
    while (Date.now() < until) spin += 1;
    expect(spin).toBeGreaterThan(0);
    expect(processCpuMs(process.pid)!).toBeGreaterThan(before);
    expect(processRssMb(process.pid)!).toBeGreaterThan(10);
    expect(processCpuMs(2 ** 22 + 1)).toBeNull();
    expect(processRssMb(2 ** 22 + 1)).toBeNull();
  });
});
