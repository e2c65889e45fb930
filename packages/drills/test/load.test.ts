import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertLoopback, runLoad } from '../src/load.js';

// A tiny server on a port of the drills range (22000-22999): 200 on GET, 201 on POST, stalls on /slow, 503 on /down.
const port = 22990;
let server: Server;
const seen: string[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    if (req.url === '/slow') return void setTimeout(() => res.end('late'), 1500);
    if (req.url === '/down') { res.writeHead(503, { 'x-request-id': 'edge-1-42' }); return void res.end('{"errors":{"database":["is unavailable,\n retry shortly"]}}'); }
    res.statusCode = req.method === 'POST' ? 201 : 200;
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('open-model load', () => {
  it('refuses anything but loopback', () => {
    expect(() => assertLoopback('http://example.com')).toThrow(/not on loopback/);
    expect(() => assertLoopback('https://127.0.0.1:1')).toThrow(/not on loopback/);
    expect(() => assertLoopback('nope')).toThrow(/not a URL/);
    expect(assertLoopback('http://127.0.0.1:8080').port).toBe('8080');
  });

  it('keeps a constant arrival rate, bounded by time and by count', async () => {
    const r = await runLoad({
      baseUrl: `http://127.0.0.1:${port}`, ratePerSecond: 100, durationMs: 1000, maxRequests: 1000,
      next: (i) => ({ kind: i % 4 === 0 ? 'write' : 'read', label: 'x', method: i % 4 === 0 ? 'POST' : 'GET', path: `/r/${i}`, idempotent: i % 4 !== 0 }),
    });
    expect(r.samples.length).toBeGreaterThanOrEqual(98);
    expect(r.samples.length).toBeLessThanOrEqual(100);
    expect(r.samples.every((s) => s.outcome === 'ok')).toBe(true);
    // Due times are 10 ms apart whatever the server does.
    expect(r.samples[50]!.dueAt - r.samples[0]!.dueAt).toBeCloseTo(500, -1);
    const capped = await runLoad({ baseUrl: `http://127.0.0.1:${port}`, ratePerSecond: 200, durationMs: 5000, maxRequests: 20, next: () => ({ kind: 'read', label: 'x', method: 'GET', path: '/', idempotent: true }) });
    expect(capped.samples.length).toBe(20);
    expect(capped.endedAt - capped.startedAt).toBeLessThan(1000);
  });

  it('does not slow down when the server stalls (open model), and classifies errors', async () => {
    const r = await runLoad({
      baseUrl: `http://127.0.0.1:${port}`, ratePerSecond: 50, durationMs: 600, maxRequests: 100, timeoutMs: 800,
      next: (i) => ({ kind: 'read', label: 'x', method: 'GET', path: i % 3 === 0 ? '/slow' : i % 3 === 1 ? '/down' : '/', idempotent: true }),
    });
    const by = (o: string) => r.samples.filter((s) => s.outcome === o).length;
    expect(r.samples.length).toBeGreaterThanOrEqual(29);
    expect(by('timeout')).toBe(r.samples.filter((s) => s.seq % 3 === 0).length);
    expect(r.samples.find((s) => s.seq % 3 === 1)).toMatchObject({ status: 503, outcome: 'http-error', errorKind: 'http 503' });
    // Who answered and why, for the report: the request id and the body on one line.
    expect(r.samples.find((s) => s.seq % 3 === 1)!.detail).toBe('request edge-1-42: {"errors":{"database":["is unavailable, retry shortly"]}}');
    expect(r.samples.find((s) => s.outcome === 'ok')!.detail).toBeUndefined();
    // Arrivals kept their pace while a third of the requests hung.
    const last = r.samples[r.samples.length - 1]!;
    expect(last.dueAt - r.startedAt).toBeLessThan(650);
  });

  it('reports a refused connection as not sent', async () => {
    const r = await runLoad({ baseUrl: 'http://127.0.0.1:22991', ratePerSecond: 20, durationMs: 100, maxRequests: 2, next: () => ({ kind: 'write', label: 'x', method: 'POST', path: '/', idempotent: false }) });
    expect(r.samples[0]).toMatchObject({ outcome: 'network-error', errorKind: 'ECONNREFUSED', maybeSent: false });
  });
});
