// A writer failover as the API sees it through a writer endpoint (HAProxy frontend, Aurora cluster
// endpoint): the old primary is demoted (read-only) but stays up, the endpoint now leads to the new
// primary, and the pooled connections still point at the old one. Writes must resume on the new
// primary after at most a few 503s, without restarting the API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import type { FastifyInstance } from 'fastify';
import type { ServerHandle } from '@conduit/testkit';
import { startMariaDbReliably as startMariaDb } from './mariadb.js';
import { migrate } from '../src/db/migrate.js';
import { Db, retryDelayMs, surelyNotRun } from '../src/db/pool.js';
import { json, makeApp, register } from './helpers.js';

const A = 28308;
const B = 28309;
let dbs: ServerHandle[] = [];
let proxy: Server;
let proxyPort = 0;
let target = A;
const sockets = new Set<Socket>();
let app: FastifyInstance;

async function prepare(port: number): Promise<void> {
  const url = `mysql://root@127.0.0.1:${port}/conduit_failover`;
  await migrate(url);
  const c = await mysql.createConnection({ uri: url });
  // an application user without SUPER: read_only applies to it (as to the app user on Aurora)
  await c.query("CREATE USER 'app'@'127.0.0.1' IDENTIFIED BY 'app-password'");
  await c.query("GRANT SELECT, INSERT, UPDATE, DELETE ON conduit_failover.* TO 'app'@'127.0.0.1'");
  await c.end();
}

beforeAll(async () => {
  for (const port of [A, B]) dbs.push(await startMariaDb({ port, dir: join(inject('stateDir'), `mariadb-${port}`), database: 'conduit_failover' }));
  await Promise.all([prepare(A), prepare(B)]);
  // the "writer endpoint": a TCP proxy whose target changes at failover; open sessions are kept
  proxy = createServer((client) => {
    const upstream = connect(target, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const end = () => { client.destroy(); upstream.destroy(); };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  proxyPort = (proxy.address() as { port: number }).port;
  app = await makeApp({ DATABASE_WRITER_URL: `mysql://app:app-password@127.0.0.1:${proxyPort}/conduit_failover`, REDIS_URL: '', DB_POOL_SIZE: '4' });
}, 60_000);

afterAll(async () => {
  await app?.close();
  for (const s of sockets) s.destroy();
  if (proxy) await new Promise((r) => proxy.close(r));
  await Promise.all(dbs.map((d) => d.stop()));
});

describe('writer failover behind an endpoint', () => {
  it('a few 503s at most, then writes go to the new primary, without a restart', async () => {
    const before = await register(app, 'pre'); // a user on A only
    // warm the pool: several connections open to A
    await Promise.all(Array.from({ length: 8 }, () => app.inject({ url: '/api/articles' })));

    // failover: A is demoted (read-only, still running), the endpoint now leads to B
    const a = await mysql.createConnection({ uri: `mysql://root@127.0.0.1:${A}/conduit_failover` });
    await a.query('SET GLOBAL read_only = 1');
    await a.end();
    target = B;

    const codes: number[] = [];
    let registered: string | null = null;
    for (let i = 0; i < 10 && registered === null; i++) {
      const name = `post${i}${Date.now() % 100000}`;
      const res = await app.inject({ method: 'POST', url: '/api/users', payload: { user: { username: name, email: `${name}@example.test`, password: 'long-enough' } } });
      codes.push(res.statusCode);
      if (res.statusCode === 201) registered = name;
    }
    // the read-only refusal means the INSERT did not run: retried on a new connection through the endpoint
    expect(codes).toEqual([201]);
    // the write landed on B, and the API reads it back
    const b = await mysql.createConnection({ uri: `mysql://root@127.0.0.1:${B}/conduit_failover` });
    const [rows] = await b.query('SELECT username FROM users WHERE username = ?', [registered]);
    await b.end();
    expect(rows).toHaveLength(1);
    expect(json(await app.inject({ url: `/api/profiles/${registered}` })).profile.username).toBe(registered);
    // a user that existed only on the demoted primary is gone from this (test) new primary: the point is that the API follows the endpoint
    expect((await app.inject({ url: `/api/profiles/${before.username}` })).statusCode).toBe(404);
  }, 60_000);

  it('while the endpoint leads nowhere, a write waits and lands on the writer that comes back: no 503', async () => {
    const author = await register(app, 'gap');
    const created = await app.inject({ method: 'POST', url: '/api/articles', headers: author.auth, payload: { article: { title: `gap ${Date.now()}`, description: 'd', body: 'b' } } });
    expect(created.statusCode).toBe(201);
    const slug = json(created).article.slug as string;
    // the primary is gone and nothing is promoted yet: connections to the endpoint fail (as through HAProxy
    // with no writer), open sessions are cut
    target = 1; // nothing listens there
    for (const s of sockets) s.destroy();
    const t0 = Date.now();
    setTimeout(() => { target = B; }, 1_000).unref();
    // (a statement already sent when its session is cut may have run: that one stays indeterminate, below)
    await new Promise((r) => setTimeout(r, 50));
    const [comment, read] = await Promise.all([
      app.inject({ method: 'POST', url: `/api/articles/${slug}/comments`, headers: author.auth, payload: { comment: { body: 'written during the gap' } } }),
      app.inject({ url: `/api/articles/${slug}/comments`, headers: author.auth }),
    ]);
    expect(comment.statusCode).toBe(201);
    expect(read.statusCode).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900); // it waited for the writer, it did not fail
    expect(app.db.retries.recovered).toBeGreaterThan(0);
  }, 30_000);

  it('a write cut after it was sent is not retried (it may have run); a read is', async () => {
    const db = new Db({ writerUrl: `mysql://app:app-password@127.0.0.1:${proxyPort}/conduit_failover`, readerUrl: `mysql://app:app-password@127.0.0.1:${proxyPort}/conduit_failover`, poolSize: 2, retryBudgetMs: 3_000 });
    try {
      await db.writer.query('SELECT 1'); // a connection is open
      setTimeout(() => { for (const s of sockets) s.destroy(); }, 300).unref();
      // DO is not a read: cut mid-statement, it is indeterminate and its error reaches the caller
      await expect(db.writer.query('DO SLEEP(1)')).rejects.toMatchObject({ fatal: true });
      setTimeout(() => { for (const s of sockets) s.destroy(); }, 300).unref();
      const [r] = await db.writer.query<import('mysql2').RowDataPacket[]>('SELECT SLEEP(1) AS s');
      expect(r[0]!.s).toBe(0);
    } finally {
      await db.close();
    }
  }, 30_000);

  it('classifies what surely did not run', () => {
    const lost = { code: 'PROTOCOL_CONNECTION_LOST', fatal: true };
    expect(surelyNotRun(lost, 'connecting', false)).toBe(true);
    expect(surelyNotRun(lost, 'sent', false)).toBe(false);
    expect(surelyNotRun(lost, 'sent', true)).toBe(true);
    expect(surelyNotRun({ code: 'ER_OPTION_PREVENTS_STATEMENT' }, 'sent', false)).toBe(true);
    expect(surelyNotRun({ code: 'EPIPE', fatal: true, message: 'This socket has been ended by the other party' }, 'sent', false)).toBe(true);
    expect(surelyNotRun({ code: 'ER_DUP_ENTRY' }, 'connecting', true)).toBe(false);
    expect([1, 2, 3, 4, 10].map(retryDelayMs)).toEqual([50, 100, 200, 250, 250]);
  });
});
