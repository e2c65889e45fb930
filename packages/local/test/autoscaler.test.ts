// Integration: the API autoscaler on a real region (fixtures/autoscale.config.ts: API min 1, max 3,
// 20 rps per instance, cooldowns 2 s out / 4 s in), brought up with the real `tier` CLI. A bounded
// load on the API load balancer (127.0.0.1 only) makes it scale out; once the load stops it scales
// back in, one instance at a time, to min. Then the region is destroyed with nothing left behind.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolve } from '@conduit/definition';
import { tierFor } from './tier-cli.ts';
import { readRegion, isAlive, waitUntil, statePaths, repoRoot, readSupervisorLine } from '../src/index.js';
import autoscale from './fixtures/autoscale.config.ts';

const config = join(repoRoot, 'packages/local/test/fixtures/autoscale.config.ts');
const stateDir = join(repoRoot, '.test-state/autoscale');
const d = resolve(autoscale);
const apiLb = `http://127.0.0.1:${d.local.ports.api}`;

const tier = tierFor(config);

interface Status { healthy: boolean; processes: Array<{ name: string; tier: string; health: string }> }
const status = async (): Promise<Status> => {
  const r = await tier('status', '--json');
  return JSON.parse(r.stdout) as Status;
};
const healthyApi = (s: Status) => s.processes.filter((p) => p.tier === 'api' && p.health === 'healthy').map((p) => p.name).sort();
const supervisorLog = () => (existsSync(statePaths(stateDir).supervisorLog) ? readFileSync(statePaths(stateDir).supervisorLog, 'utf8') : '');
const autoscalerLines = () => supervisorLog().split('\n').map((l) => readSupervisorLine(l)?.msg ?? '').filter((l) => l.includes('autoscaler: scaled api'));

/** A bounded open-loop load: `rps` GETs per second on the API load balancer, until stopped. */
function startLoad(rps: number): { stop: () => Promise<{ sent: number; ok: number; failures: string }> } {
  let sent = 0;
  let ok = 0;
  const failures = new Map<string, number>();
  const fail = (why: string): void => void failures.set(why, (failures.get(why) ?? 0) + 1);
  const inflight = new Set<Promise<void>>();
  const everyMs = 50;
  const perTick = (rps * everyMs) / 1000;
  let owed = 0;
  const timer = setInterval(() => {
    owed += perTick;
    for (; owed >= 1; owed -= 1) {
      if (inflight.size >= 200) continue; // never more than 200 in flight: the load stays bounded
      sent += 1;
      const p: Promise<void> = fetch(`${apiLb}/api/tags`, { signal: AbortSignal.timeout(5_000) })
        .then(async (r) => { await r.arrayBuffer(); if (r.status === 200) ok += 1; else fail(`HTTP ${r.status}`); })
        .catch((e: Error) => fail(e.cause instanceof Error ? e.cause.message : e.message))
        .finally(() => inflight.delete(p));
      inflight.add(p);
    }
  }, everyMs);
  return {
    stop: async () => {
      clearInterval(timer);
      await Promise.all(inflight);
      return { sent, ok, failures: [...failures].map(([why, n]) => `${n} × ${why}`).join(', ') };
    },
  };
}

let everyPid: number[] = [];
const seenPids = () => readRegion(stateDir).processes.map((p) => p.pid).filter((p): p is number => p !== null);

beforeAll(async () => {
  await tier('destroy');
  const r = await tier('up');
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
  everyPid = seenPids();
}, 180_000);

afterAll(async () => {
  const seen = new Set([...everyPid, ...seenPids()]);
  const r = await tier('destroy');
  expect(r.code, r.stderr).toBe(0);
  expect([...seen].filter(isAlive), 'processes left behind').toEqual([]);
  expect(existsSync(stateDir)).toBe(false);
}, 180_000);

describe('the API autoscaler', () => {
  it('scales out under load above target, then back in to min one instance at a time once the load stops', async () => {
    expect(healthyApi(await status())).toEqual(['api-1']);
    expect(supervisorLog()).toContain('controller autoscaler loaded');

    // ---- 120 rps for at least 10 s, on a target of 20 rps per instance: needs 6, max 3 ----
    const t0 = Date.now();
    const at = (ms: number) => `${((ms - t0) / 1000).toFixed(1)} s`;
    const timeline: string[] = [`${at(t0)} load starts: 120 rps on ${apiLb}/api/tags`];
    const load = startLoad(120);
    let out = '';
    try {
      await waitUntil('the autoscaler scales api out', async () => {
        out = autoscalerLines().find((l) => l.includes('scaled api out')) ?? '';
        return out !== '';
      }, 30_000, 200);
      timeline.push(`${at(Date.now())} ${out.slice(out.indexOf('autoscaler:'))}`);
      everyPid = [...new Set([...everyPid, ...seenPids()])];
      const s = await status();
      timeline.push(`${at(Date.now())} status: healthy api ${healthyApi(s).join(', ')}`);
      expect(healthyApi(s).length).toBeGreaterThan(1);
      // The rate is averaged over 3 s: measured while the load ramps up it may ask for 2 first, then 3.
      expect(out).toMatch(/scaled api out 1 → [23]: \d+ rps(, CPU \d+ %)? over 1 instance is above the 20 rps target \(needs \d+(, max 3)?\)$/);
      await waitUntil('3 healthy api instances', async () => healthyApi(await status()).length === 3, 15_000, 250);
      timeline.push(`${at(Date.now())} status: healthy api ${healthyApi(await status()).join(', ')}`);
      // Keep the load on for ~10 s: the group stays at its max, no scale-in while above target.
      await new Promise((r) => setTimeout(r, Math.max(10_000 - (Date.now() - t0), 0)));
      expect(autoscalerLines().filter((l) => l.includes('scaled api in'))).toEqual([]);
      expect(healthyApi(await status())).toEqual(['api-1', 'api-2', 'api-3']);
      for (const l of autoscalerLines()) timeline.push(`(logged) ${l}`);
    } finally {
      const r = await load.stop();
      timeline.push(`${at(Date.now())} load stops: ${r.ok}/${r.sent} requests answered 200${r.failures ? ` (${r.failures})` : ''}`);
      // Instances join the pool only once healthy: a scale-out fails no request (1260/1260 in quiet runs).
      // The 1 % allowance is for the 5 s client timeout on this 2-core machine while Node processes boot.
      expect(r.ok / r.sent, r.failures).toBeGreaterThanOrEqual(0.99);
    }

    // ---- no load: one instance at a time, each after 4 s below target, down to min ----
    const tStop = Date.now();
    await waitUntil('the autoscaler scales api back in to 1', async () => autoscalerLines().some((l) => l.includes('scaled api in 2 → 1')), 40_000, 200);
    const ins = autoscalerLines().filter((l) => l.includes('scaled api in'));
    for (const l of ins) timeline.push(`(logged) ${l}`);
    timeline.push(`${at(Date.now())} back at min, ${((Date.now() - tStop) / 1000).toFixed(1)} s after the load stopped`);
    expect(ins.map((l) => l.match(/scaled api in \d → \d/)![0])).toEqual(['scaled api in 3 → 2', 'scaled api in 2 → 1']);
    expect(ins[0]).toMatch(/: \d+ rps(, CPU \d+ % over 3 instances has been below the 20 rps and 60 % CPU targets| over 3 instances has been below the 20 rps target) for \d+(\.\d)? s \(needs \d(, min 1)?\)$/);
    const s = await status();
    expect(healthyApi(s)).toEqual(['api-1']);
    // Removed instances are forgotten, not listed as down: the region is healthy at min.
    expect(s.processes.filter((p) => p.tier === 'api').map((p) => p.name)).toEqual(['api-1']);
    expect(s.healthy).toBe(true);
    console.log(`autoscaler timeline:\n  ${timeline.join('\n  ')}`);
  }, 90_000);
});
