// The drill's client population: the pool is sized so that no user passes the API's per-user write limit in
// any minute, and the mix really spreads writes and signed-in reads over every user of the pool.
import { describe, expect, it } from 'vitest';
import { WriteLedger } from '../src/ledger.js';
import { WRITE_HEADROOM, conduitMix, drillUsersFor, type ConduitTarget } from '../src/workload.js';

const target = (users: number): ConduitTarget => ({
  baseUrl: 'http://127.0.0.1:1/', token: 't0', username: 'u0', slugs: ['a', 'b', 'c'], runId: 'r',
  users: Array.from({ length: users }, (_, i) => ({ username: `u${i}`, token: `t${i}` })),
});

/** Writes each token sends among the first `requests` requests of the mix. */
function writesPerUser(t: ConduitTarget, requests: number): Map<string, number> {
  const next = conduitMix(t, new WriteLedger());
  const per = new Map<string, number>();
  for (let seq = 0; seq < requests; seq++) {
    const r = next(seq);
    if (r.kind !== 'write') continue;
    const token = r.headers!.authorization!.replace('Token ', '');
    per.set(token, (per.get(token) ?? 0) + 1);
  }
  return per;
}

describe('drill users', () => {
  it('sizes the pool from the writes of a minute and the per-user limit, with headroom', () => {
    expect(WRITE_HEADROOM).toBeLessThan(1);
    // The full drill: 60 req/s, 30 % writes, 24 s: 432 writes (+ the articles) within a minute.
    expect(drillUsersFor(442, 60)).toBe(Math.ceil(442 / (60 * WRITE_HEADROOM)));
    expect(drillUsersFor(48, 60)).toBe(1);
    expect(drillUsersFor(49, 60)).toBe(2);
    expect(drillUsersFor(0, 60)).toBe(1);
    expect(drillUsersFor(1080, 1_000_000)).toBe(1);
    expect(() => drillUsersFor(10, 0)).toThrow(/writesPerUserPerMinute \(0\) must be >= 1/);
  });

  it('a minute of the mix at 60 req/s over the sized pool keeps every user under the limit, spread evenly', () => {
    const limit = 60;
    const requests = 60 * 60;
    const users = drillUsersFor(requests * 0.3, limit);
    const per = writesPerUser(target(users), requests);
    expect(per.size).toBe(users);
    const counts = [...per.values()];
    expect(counts.reduce((a, b) => a + b, 0)).toBe(requests * 0.3);
    expect(Math.max(...counts)).toBeLessThanOrEqual(limit * WRITE_HEADROOM);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    // One user alone would have written 1080 times: 18 times the limit.
    expect(writesPerUser(target(1), requests).get('t0')).toBe(1080);
  });

  it('rotates the signed-in reads over the pool too, and picks up users added to it', () => {
    const t = target(2);
    const readers = (next = conduitMix(t, new WriteLedger())) => new Set(Array.from({ length: 200 }, (_, seq) => next(seq)).filter((r) => r.kind === 'read' && r.headers?.authorization).map((r) => r.headers!.authorization));
    expect(readers()).toEqual(new Set(['Token t0', 'Token t1']));
    t.users.push({ username: 'u2', token: 't2' });
    expect(readers()).toEqual(new Set(['Token t0', 'Token t1', 'Token t2']));
  });
});
