// A frozen database (SIGSTOP: connections stay open, nothing answers) must not hang requests:
// they end with a 503 in the RealWorld shape within the statement budget, readiness reports it,
// liveness does not, and everything works again once the database is back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mysql from 'mysql2/promise';
import { inject } from 'vitest';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { ServerHandle } from '@conduit/testkit';
import { startMariaDbReliably as startMariaDb } from './mariadb.js';
import { migrate } from '../src/db/migrate.js';
import { QUERY_TIMEOUT_MS } from '../src/db/pool.js';
import { freeze, json, makeApp, register } from './helpers.js';

let db: ServerHandle;
let app: FastifyInstance;
beforeAll(async () => {
  db = await startMariaDb({ port: 28307, dir: join(inject('stateDir'), 'mariadb-frozen'), database: 'conduit_frozen' });
  const url = `mysql://root@127.0.0.1:${db.port}/conduit_frozen`;
  await migrate(url);
  app = await makeApp({ DATABASE_WRITER_URL: url, REDIS_URL: '' });
});
afterAll(async () => {
  await app.close();
  try { process.kill(db.pid, 'SIGCONT'); } catch { /* gone */ }
  await db.stop();
});

describe('region health (the DNS failover check)', () => {
  it('is 200 while the writer accepts writes, 503 once it is read-only, after the grace when there is one', async () => {
    const root = await mysql.createConnection({ host: '127.0.0.1', port: db.port, user: 'root' });
    const graced = await makeApp({ DATABASE_WRITER_URL: `mysql://root@127.0.0.1:${db.port}/conduit_frozen`, REDIS_URL: '', REGION_HEALTH_GRACE_MS: '1500' });
    try {
      expect((await app.inject({ url: '/health/region' })).statusCode).toBe(200);
      expect((await graced.inject({ url: '/health/region' })).statusCode).toBe(200);
      await root.query('SET GLOBAL read_only = 1');
      const standby = await app.inject({ url: '/health/region' });
      expect(standby.statusCode).toBe(503);
      expect(json(standby)).toMatchObject({ writer: 'read-only or down' });
      // Within the grace a writer failover does not fail the region; past it, it does.
      expect((await graced.inject({ url: '/health/region' })).statusCode).toBe(200);
      await new Promise((r) => setTimeout(r, 1_600));
      expect((await graced.inject({ url: '/health/region' })).statusCode).toBe(503);
    } finally {
      await root.query('SET GLOBAL read_only = 0');
      await root.end();
      await graced.close();
    }
    expect((await app.inject({ url: '/health/region' })).statusCode).toBe(200);
  });
});

describe('a frozen database', () => {
  it('503 within the statement budget, ready 503, live 200, then recovery', async () => {
    const u = await register(app);
    expect((await app.inject({ url: '/api/articles' })).statusCode).toBe(200);
    await freeze(db.pid);
    try {
      const t0 = Date.now();
      const ready = await app.inject({ url: '/health/ready' });
      expect(ready.statusCode, ready.body).toBe(503);
      expect(Date.now() - t0).toBeLessThan(2_000);
      expect((await app.inject({ url: '/health/live' })).statusCode).toBe(200);
      const t1 = Date.now();
      const [list, write] = await Promise.all([
        app.inject({ url: '/api/articles' }),
        app.inject({ method: 'POST', url: '/api/articles', headers: u.auth, payload: { article: { title: 't', description: 'd', body: 'b' } } }),
      ]);
      expect(list.statusCode, list.body).toBe(503);
      expect(json(list)).toEqual({ errors: { database: ['is unavailable, retry shortly'] } });
      expect(write.statusCode, write.body).toBe(503);
      expect(Date.now() - t1).toBeLessThan(QUERY_TIMEOUT_MS + 3_000);
    } finally {
      process.kill(db.pid, 'SIGCONT');
    }
    const deadline = Date.now() + 10_000;
    for (;;) {
      const res = await app.inject({ url: '/api/articles' });
      if (res.statusCode === 200) break;
      if (Date.now() > deadline) throw new Error(`not recovered: ${res.statusCode}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect((await app.inject({ method: 'POST', url: '/api/articles', headers: u.auth, payload: { article: { title: 'after', description: 'd', body: 'b' } } })).statusCode).toBe(201);
    expect((await app.inject({ url: '/health/ready' })).statusCode).toBe(200);
  });
});
