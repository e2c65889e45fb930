// The drill's client population: the pool is sized so that no user passes the API's per-user write limit in
// any minute, and the mix really spreads writes and signed-in reads over every user of the pool.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WriteLedger } from '../src/ledger.js';
import { CLIENT_ADDRESSES, WRITE_HEADROOM, addDrillUsers, clientAddress, conduitMix, drillUsersFor, prepareConduit, type ConduitTarget } from '../src/workload.js';

// A stand-in for the API's sign-up and article routes: the first sign-up is refused with 429 + Retry-After 1
// (the address's window used by another client), the others succeed; every article is created.
let server: Server;
let base = '';
const signUps: string[] = [];
const signUpFrom: string[] = [];
const authors: string[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (b) => (body += b));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/api/users') {
        const name = JSON.parse(body).user.username as string;
        signUps.push(name);
        signUpFrom.push(req.socket.remoteAddress ?? '');
        if (signUps.length === 1) return void res.writeHead(429, { 'retry-after': '1' }).end('{"errors":{"rate":["limited"]}}');
        return void res.writeHead(201).end(JSON.stringify({ user: { username: name, token: `tok-${name}` } }));
      }
      authors.push(req.headers.authorization ?? '');
      res.writeHead(201).end(JSON.stringify({ article: { slug: `s-${authors.length}` } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

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

  it('registers the pool up front, waits out a 429 on a sign-up, and spreads the articles over the users', async () => {
    const lines: string[] = [];
    const started = Date.now();
    // 1,000 writes in the run, at most 3 a second: 180 + 3 articles a minute over 48 per user = 4 users.
    const t = await prepareConduit(base, 1000, { peakWritesPerSecond: 3, rateLimits: { writesPerUserPerMinute: 60, authPerIpPerMinute: 30 }, log: (l) => lines.push(l) });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(t.users.map((u) => u.token)).toEqual(t.users.map((u) => `tok-${u.username}`));
    expect(t.users).toHaveLength(4);
    expect(signUps).toHaveLength(5);
    expect(signUps[0]).toBe(signUps[1]);
    expect(t.token).toBe(t.users[0]!.token);
    expect(t.slugs).toEqual(['s-1', 's-2', 's-3']);
    expect(authors).toEqual(t.users.slice(0, 3).map((u) => `Token ${u.token}`));
    expect(lines.some((l) => /answered 429 .* retrying in 1 s/.test(l))).toBe(true);
    expect(lines.some((l) => /^drill users: 4 registered in [\d.]+ s \(183 writes a minute at most, 60 per user allowed\)$/.test(l))).toBe(true);
  });

  it('signs up from many loopback addresses, none past the per-address limit in a minute, without waiting', async () => {
    expect(new Set(Array.from({ length: CLIENT_ADDRESSES }, (_, k) => clientAddress(k))).size).toBe(CLIENT_ADDRESSES);
    expect(clientAddress(CLIENT_ADDRESSES - 1)).toMatch(/^127\.77\.\d+\.\d+$/);
    const lines: string[] = [];
    const [before, t] = [signUpFrom.length, { ...target(0), baseUrl: base, runId: `m${Date.now()}` }];
    // 70 sign-ups at 30 per address a minute: three addresses, no wait (from one address: two minutes).
    await addDrillUsers(t, 70, { rateLimits: { writesPerUserPerMinute: 60, authPerIpPerMinute: 30 }, log: (l) => lines.push(l) });
    expect(t.users).toHaveLength(70);
    const per = new Map<string, number>();
    for (const a of signUpFrom.slice(before)) per.set(a, (per.get(a) ?? 0) + 1);
    expect([...per.keys()].every((a) => a.startsWith('127.77.'))).toBe(true);
    // The first address may have sent the earlier test's sign-ups within this minute.
    expect(Math.max(...per.values())).toBeLessThanOrEqual(30);
    expect(per.size).toBeGreaterThanOrEqual(3);
    expect(lines.filter((l) => /waiting/.test(l))).toEqual([]);
  });

  it('setup that keeps failing stops with one line naming the call and the answer', async () => {
    const down = createServer((_req, res) => void res.writeHead(503, { 'content-type': 'application/json' }).end('{"errors":{"database":["unavailable"]}}'));
    await new Promise<void>((r) => down.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(down.address() as AddressInfo).port}/`;
      await expect(prepareConduit(url, 10, { deadlineMs: 700 })).rejects.toThrow(/^drill setup: POST \/api\/users kept failing \(503 \{"errors".*\): is the region up and healthy\?$/);
    } finally {
      await new Promise<void>((r) => down.close(() => r()));
    }
  });
});
