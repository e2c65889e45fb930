// REDIS_SENTINELS + REDIS_MASTER_NAME: the API finds the primary through Sentinel and follows a
// failover without restart. A primary, a replica and one Sentinel (quorum 1); the primary is killed
// while requests flow: no request fails, and the cache is used again once the replica is promoted.
// With credentials everywhere, as in the local region: the nodes have no open default user, the API
// logs in as its own ACL user (REDIS_USERNAME/REDIS_PASSWORD) and the Sentinel requires a password
// (REDIS_SENTINEL_PASSWORD); replication and Sentinel authenticate to the nodes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { stopProcess, waitForPort } from '@conduit/testkit';
import { createArticle, makeApp, register } from './helpers.js';

const PRIMARY = 29381;
const REPLICA = 29382;
const SENTINEL = 29390;
const dir = join(inject('stateDir'), 'sentinel');
const procs: ChildProcess[] = [];
let app: FastifyInstance;

function start(args: string[], log: string): ChildProcess {
  const out = openSync(join(dir, log), 'a');
  const child = spawn('redis-server', args, { detached: true, stdio: ['ignore', out, out] });
  child.unref();
  procs.push(child);
  return child;
}

const ADMIN = 'admin-pw';
const API_PASSWORD = 'api-pw';
const SENTINEL_PASSWORD = 'sentinel-pw';
const redisArgs = (port: number) => [
  '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--repl-diskless-sync-delay', '0',
  '--user', 'default', 'on', `>${ADMIN}`, '~*', '&*', '+@all',
  '--user', 'conduit-api', 'on', `>${API_PASSWORD}`, '~conduit:*', '-@all', '+@read', '+@write', '+@scripting', '+@connection', '+info', '+role',
  '--masteruser', 'default', '--masterauth', ADMIN,
];

let primary: ChildProcess;
beforeAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  primary = start(redisArgs(PRIMARY), 'primary.log');
  start([...redisArgs(REPLICA), '--replicaof', '127.0.0.1', String(PRIMARY)], 'replica.log');
  const conf = join(dir, 'sentinel.conf');
  writeFileSync(conf, [
    `port ${SENTINEL}`, 'bind 127.0.0.1', `dir ${dir}`,
    `sentinel monitor conduit 127.0.0.1 ${PRIMARY} 1`,
    'sentinel down-after-milliseconds conduit 1000',
    'sentinel failover-timeout conduit 5000',
    `sentinel auth-pass conduit ${ADMIN}`,
    `requirepass ${SENTINEL_PASSWORD}`,
    '',
  ].join('\n'));
  start([conf, '--sentinel'], 'sentinel.log');
  await Promise.all([waitForPort(PRIMARY), waitForPort(REPLICA), waitForPort(SENTINEL)]);
  // wait until the replica is in sync, so that the promotion has something to promote
  const r = new Redis({ port: REPLICA, host: '127.0.0.1', password: ADMIN });
  for (let i = 0; i < 100 && !/master_link_status:up/.test(await r.info('replication')); i++) await new Promise((res) => setTimeout(res, 100));
  r.disconnect();
  // and until Sentinel knows the replica (it learns it from the primary's INFO): only then can it fail over
  const s = new Redis({ port: SENTINEL, host: '127.0.0.1', password: SENTINEL_PASSWORD });
  for (let i = 0; i < 200; i++) {
    const replicas = (await s.call('SENTINEL', 'replicas', 'conduit')) as unknown[];
    if (replicas.length > 0) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  s.disconnect();
  app = await makeApp({ REDIS_URL: '', REDIS_SENTINELS: `127.0.0.1:${SENTINEL}`, REDIS_MASTER_NAME: 'conduit', CACHE_TIMEOUT_MS: '50',
    REDIS_USERNAME: 'conduit-api', REDIS_PASSWORD: API_PASSWORD, REDIS_SENTINEL_PASSWORD: SENTINEL_PASSWORD });
}, 40_000);

afterAll(async () => {
  await app?.close();
  await Promise.all(procs.map((p) => stopProcess(p, 2_000)));
});

const hits = async () => (await app.metrics.cacheOps.get()).values.find((v) => v.labels.result === 'hit')?.value ?? 0;

describe('Redis through Sentinel', () => {
  it('logs in as its ACL user: a wrong password leaves the cache down, the API serving from the database', async () => {
    const wrong = await makeApp({ REDIS_URL: '', REDIS_SENTINELS: `127.0.0.1:${SENTINEL}`, REDIS_MASTER_NAME: 'conduit', CACHE_TIMEOUT_MS: '50',
      REDIS_USERNAME: 'conduit-api', REDIS_PASSWORD: 'not-the-password', REDIS_SENTINEL_PASSWORD: SENTINEL_PASSWORD });
    const pings = async (a: FastifyInstance) => {
      for (let i = 0; i < 30; i++) {
        if (await a.cache.ping()) return true;
        await new Promise((r) => setTimeout(r, 100));
      }
      return false;
    };
    try {
      // The right credentials reach the primary within the same time the wrong ones are given.
      expect(await pings(app)).toBe(true);
      expect(await pings(wrong)).toBe(false);
      expect((await wrong.inject({ url: '/api/tags' })).statusCode).toBe(200);
    } finally {
      await wrong.close();
    }
  }, 15_000);
  it('uses the primary found by Sentinel, then follows a failover without restart and without failed requests', async () => {
    const u = await register(app);
    const a = await createArticle(app, u);
    await app.inject({ url: `/api/articles/${a.slug}` });
    const h0 = await hits();
    expect((await app.inject({ url: `/api/articles/${a.slug}` })).statusCode).toBe(200);
    expect(await hits()).toBeGreaterThan(h0);

    await stopProcess(primary, 1_000);
    const sentinel = new Redis({ port: SENTINEL, host: '127.0.0.1', password: SENTINEL_PASSWORD });
    const masterPort = async () => Number(((await sentinel.call('SENTINEL', 'get-master-addr-by-name', 'conduit')) as [string, string])[1]);
    const statuses = new Map<number, number>();
    const deadline = Date.now() + 20_000;
    let body = 'initial';
    let promoted = false;
    for (let i = 0; Date.now() < deadline; i++) {
      // reads and writes keep flowing during the failover, and reads always see the last write
      if (i % 5 === 0) {
        const res = await app.inject({ method: 'PUT', url: `/api/articles/${a.slug}`, headers: u.auth, payload: { article: { body: `body ${i}` } } });
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        if (res.statusCode === 200) body = `body ${i}`;
      } else {
        const res = await app.inject({ url: `/api/articles/${a.slug}` });
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        if (res.statusCode === 200) expect(res.json().article.body).toBe(body);
      }
      if ((await masterPort()) === REPLICA && app.cache.status() === 'up' && (await app.cache.ping())) {
        promoted = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    sentinel.disconnect();
    expect(promoted).toBe(true);
    expect([...statuses.keys()]).toEqual([200]);
    // the cache works again on the promoted replica, without restarting the API
    await app.inject({ url: `/api/articles/${a.slug}` });
    const h1 = await hits();
    expect((await app.inject({ url: `/api/articles/${a.slug}` })).json().article.body).toBe(body);
    expect(await hits()).toBeGreaterThan(h1);
  }, 30_000);
});
