// Operations: health, metrics, docs, headers, request ids, error shapes, an unavailable database,
// real sockets, and the server process (config errors, graceful shutdown).
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { inject } from 'vitest';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createSigner } from 'fast-jwt';
import { JWT_SECRET, createArticle, json, makeApp, register } from './helpers.js';

const root = resolve(import.meta.dirname, '..', '..', '..');
let app: FastifyInstance;
// Redis database 2: no other test file bumps this generation (the hit counter below stays predictable).
beforeAll(async () => { app = await makeApp({ INSTANCE_ID: 'api-test-1', ZONE: 'zone-a', REDIS_URL: `${inject('redisUrl')}/2` }); });
afterAll(async () => { await app.close(); });

describe('health', () => {
  it('live and ready (db and cache status)', async () => {
    const live = await app.inject({ url: '/health/live' });
    expect(live.statusCode).toBe(200);
    expect(json(live)).toEqual({ status: 'ok' });
    const ready = await app.inject({ url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
    expect(json(ready)).toEqual({ status: 'ok', db: 'up', cache: 'up' });
    expect(ready.headers['cache-control']).toBe('no-store');
  });

  it('ready is 503 when the database is unreachable; API answers 503 in the RealWorld shape; cache disabled is reported', async () => {
    const down = await makeApp({ DATABASE_WRITER_URL: 'mysql://root@127.0.0.1:1/conduit', REDIS_URL: '' });
    try {
      const ready = await down.inject({ url: '/health/ready' });
      expect(ready.statusCode).toBe(503);
      expect(json(ready)).toEqual({ status: 'unavailable', db: 'down', cache: 'disabled' });
      expect((await down.inject({ url: '/health/live' })).statusCode).toBe(200);
      for (const url of ['/api/articles', '/api/tags', '/api/articles/x', '/api/profiles/x']) {
        const res = await down.inject({ url });
        expect(res.statusCode, url).toBe(503);
        expect(json(res)).toEqual({ errors: { database: ['is unavailable, retry shortly'] } });
        expect(res.headers['retry-after']).toBe('1');
      }
      const login = await down.inject({ method: 'POST', url: '/api/users/login', payload: { user: { email: 'a@b.c', password: 'whatever1' } } });
      expect(login.statusCode).toBe(503);
    } finally {
      await down.close();
    }
  });
});

describe('metrics', () => {
  it('exposes request counts/latency by route template, pool gauges, cache counters, default metrics, labels', async () => {
    const u = await register(app);
    const a = await createArticle(app, u);
    await app.inject({ url: `/api/articles/${a.slug}` });
    await app.inject({ url: `/api/articles/${a.slug}` });
    await app.inject({ url: '/api/nope' });
    const res = await app.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const m = res.body;
    expect(m).toMatch(/http_requests_total\{method="GET",route="\/api\/articles\/:slug",status_code="200",instance_id="api-test-1",zone="zone-a"\} 2/);
    expect(m).toMatch(/http_requests_total\{method="GET",route="unmatched",status_code="404"/);
    expect(m).toMatch(/http_request_duration_seconds_bucket\{le="0.005",instance_id="api-test-1",zone="zone-a",method="GET",route="\/api\/articles\/:slug",status_code="200"\}/);
    expect(m).toMatch(/db_pool_connections\{pool="writer",state="total",instance_id="api-test-1",zone="zone-a"\} \d+/);
    expect(m).toMatch(/cache_operations_total\{result="hit",instance_id="api-test-1",zone="zone-a"\} [1-9]/);
    expect(m).toMatch(/cache_operations_total\{result="miss"/);
    expect(m).toMatch(/cache_operations_total\{result="error"/);
    expect(m).toMatch(/cache_circuit_open/);
    expect(m).toMatch(/process_cpu_user_seconds_total/);
    expect(m).toMatch(/nodejs_eventloop_lag_seconds/);
  });
});

describe('docs', () => {
  it('serves the OpenAPI document and a browsable UI at /api/docs', async () => {
    const ui = await app.inject({ url: '/api/docs/' });
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toMatch(/text\/html/);
    const spec = json(await app.inject({ url: '/api/docs/json' }));
    expect(spec.openapi).toMatch(/^3\.1/);
    const ops = Object.entries(spec.paths as Record<string, Record<string, unknown>>).flatMap(([p, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${p}`));
    for (const op of [
      'POST /api/users/login', 'POST /api/users', 'GET /api/user', 'PUT /api/user', 'GET /api/profiles/{username}', 'POST /api/profiles/{username}/follow',
      'DELETE /api/profiles/{username}/follow', 'GET /api/articles/feed', 'GET /api/articles', 'POST /api/articles', 'GET /api/articles/{slug}',
      'PUT /api/articles/{slug}', 'DELETE /api/articles/{slug}', 'GET /api/articles/{slug}/comments', 'POST /api/articles/{slug}/comments',
      'DELETE /api/articles/{slug}/comments/{id}', 'POST /api/articles/{slug}/favorite', 'DELETE /api/articles/{slug}/favorite', 'GET /api/tags',
    ]) expect(ops).toContain(op);
    const js = await app.inject({ url: '/api/docs/static/swagger-initializer.js' });
    expect(js.statusCode).toBe(200);
  });
});

describe('headers and error shapes', () => {
  it('security headers on every response; cache headers by kind of response; request id', async () => {
    const u = await register(app);
    const pub = await app.inject({ url: '/api/tags' });
    expect(pub.headers).toMatchObject({ 'cache-control': 'public, max-age=5', vary: 'Authorization', 'x-content-type-options': 'nosniff', 'x-frame-options': 'SAMEORIGIN' });
    expect(pub.headers['strict-transport-security']).toBeDefined();
    expect(pub.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    const authed = await app.inject({ url: '/api/articles', headers: u.auth });
    expect(authed.headers['cache-control']).toBe('no-store');
    const notFound = await app.inject({ url: `/api/articles/nope-${Date.now()}` });
    expect(notFound.headers['cache-control']).toBe('no-store');
    expect(notFound.headers['x-content-type-options']).toBe('nosniff');
    const rid = await app.inject({ url: '/health/live', headers: { 'x-request-id': 'trace-abc_123' } });
    expect(rid.headers['x-request-id']).toBe('trace-abc_123');
    const genId = await app.inject({ url: '/health/live', headers: { 'x-request-id': 'bad id with spaces <>' } });
    expect(genId.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('unknown route 404, broken JSON 400, too large 413, wrong content type 415: all RealWorld-shaped', async () => {
    const u = await register(app);
    const nf = await app.inject({ url: '/api/nothing-here' });
    expect(nf.statusCode).toBe(404);
    expect(json(nf)).toEqual({ errors: { route: ['not found'] } });
    const broken = await app.inject({ method: 'POST', url: '/api/articles', headers: { ...u.auth, 'content-type': 'application/json' }, payload: '{"article": {' });
    expect(broken.statusCode).toBe(400);
    expect(json(broken)).toEqual({ errors: { body: ['is not valid JSON'] } });
    const big = await app.inject({ method: 'POST', url: '/api/articles', headers: u.auth, payload: { article: { title: 't', description: 'd', body: 'x'.repeat(600_000) } } });
    expect(big.statusCode).toBe(413);
    expect(json(big).errors.body).toBeDefined();
    const bodyTooLong = await app.inject({ method: 'POST', url: '/api/articles', headers: u.auth, payload: { article: { title: 't', description: 'd', body: 'x'.repeat(100_001) } } });
    expect(bodyTooLong.statusCode).toBe(422);
    const text = await app.inject({ method: 'POST', url: '/api/users/login', headers: { 'content-type': 'text/plain' }, payload: 'hello' });
    expect(text.statusCode).toBe(415);
    expect(json(text).errors.body).toBeDefined();
  });

  it('a token of a user that no longer exists is a 401, never a 500', async () => {
    const ghost = `Token ${createSigner({ key: JWT_SECRET, algorithm: 'HS256', iss: 'conduit' })({ sub: '987654321' })}`;
    const res = await app.inject({ method: 'POST', url: '/api/articles', headers: { authorization: ghost }, payload: { article: { title: 't', description: 'd', body: 'b' } } });
    expect(res.statusCode).toBe(401);
    expect((await app.inject({ url: '/api/user', headers: { authorization: ghost } })).statusCode).toBe(401);
    // Every authenticated route: the token's version check finds no such user (before: the feed answered 200, empty).
    expect((await app.inject({ url: '/api/articles/feed', headers: { authorization: ghost } })).statusCode).toBe(401);
  });
});

describe('over real sockets', () => {
  let base: string;
  let port: number;
  beforeAll(async () => {
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as { port: number }).port;
    base = `http://127.0.0.1:${port}`;
  });

  it('serves the API over HTTP with keep-alive', async () => {
    const u = await register(app);
    const a = await createArticle(app, u);
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${base}/api/articles/${a.slug}`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { article: { slug: string } }).article.slug).toBe(a.slug);
    }
    const login = await fetch(`${base}/api/users/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: { email: u.email, password: u.password } }) });
    expect(login.status).toBe(200);
  });

  it('answers garbage on the wire with 400 and does not hang', async () => {
    for (const garbage of ['GARBAGE\r\n\r\n', 'GET / HTTP/9.9\r\n\r\n', 'GET /api/tags HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n', '\u0000\u0001\u0002\r\n\r\n']) {
      const reply = await new Promise<string>((res, rej) => {
        const s = connect(port, '127.0.0.1');
        let data = '';
        const t = setTimeout(() => { s.destroy(); rej(new Error(`hang on ${JSON.stringify(garbage)}`)); }, 3_000);
        s.on('data', (d) => { data += d.toString(); });
        s.on('close', () => { clearTimeout(t); res(data); });
        s.on('error', () => undefined);
        s.write(garbage);
      });
      expect(reply).toMatch(/^HTTP\/1\.1 4\d\d/);
    }
  });
});

describe('the server process', () => {
  const run = (env: Record<string, string>) =>
    spawn(process.execPath, ['--import', 'tsx', 'packages/api/src/server.ts'], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });

  it('exits 1 with one line naming a missing or malformed variable', async () => {
    for (const [env, expected] of [
      [{ JWT_SECRET }, /^conduit-api: DATABASE_WRITER_URL: missing, expected a URL like mysql:/],
      [{ JWT_SECRET, DATABASE_WRITER_URL: inject('mysqlUrl'), PORT: 'eighty' }, /^conduit-api: PORT: malformed/],
    ] as const) {
      const child = run(env);
      let err = '';
      child.stderr.on('data', (d) => { err += d.toString(); });
      const code = await new Promise<number | null>((r) => child.on('exit', r));
      expect(code).toBe(1);
      expect(err.trim().split('\n')).toHaveLength(1);
      expect(err).toMatch(expected);
    }
  });

  it('serves, logs JSON with request ids and labels, and shuts down gracefully on SIGTERM (in-flight request finishes, exit 0)', async () => {
    // The sign-in limit is counted in the shared Redis, where the other test files' sign-ins from 127.0.0.1 count too.
    const child = run({ DATABASE_WRITER_URL: inject('mysqlUrl'), REDIS_URL: inject('redisUrl'), JWT_SECRET, PORT: '0', INSTANCE_ID: 'api-proc', ZONE: 'zone-b', RATE_LIMIT_AUTH_PER_MIN: '100000' });
    // A failed assertion before the SIGTERM must not leave the instance running (one was found alive an hour later).
    onTestFinished(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
    let out = '';
    child.stdout.on('data', (d) => { out += d.toString(); });
    child.stderr.on('data', (d) => { out += d.toString(); });
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    const deadline = Date.now() + 15_000;
    let port = 0;
    while (!port) {
      const m = /listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) port = Number(m[1]);
      else if (Date.now() > deadline) throw new Error(`server did not start: ${out}`);
      else await new Promise((r) => setTimeout(r, 50));
    }
    expect((await fetch(`http://127.0.0.1:${port}/health/ready`)).status).toBe(200);
    await fetch(`http://127.0.0.1:${port}/api/tags`, { headers: { 'x-request-id': 'req-from-test' } });

    // an in-flight request: headers and half of the body sent before SIGTERM, the rest after
    const body = JSON.stringify({ user: { email: 'nobody@example.test', password: 'whatever1' } });
    const response = new Promise<string>((res) => {
      const s = connect(port, '127.0.0.1');
      let data = '';
      s.on('data', (d) => { data += d.toString(); });
      s.on('close', () => res(data));
      s.on('error', () => res(data));
      s.write(`POST /api/users/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body.slice(0, 10)}`);
      setTimeout(() => child.kill('SIGTERM'), 200);
      setTimeout(() => s.write(body.slice(10)), 600);
    });
    expect(await response).toMatch(/^HTTP\/1\.1 401/);
    expect(await exited).toBe(0);
    const lines = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.some((l) => l.reqId === 'req-from-test' && l.instance_id === 'api-proc' && l.zone === 'zone-b')).toBe(true);
    expect(lines.some((l) => l.msg === 'shut down cleanly')).toBe(true);
    expect(out).not.toContain('correct-horse');
  });
});
