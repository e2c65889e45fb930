// The API with its own Redis, which is stopped, frozen and restarted mid-test: the API keeps answering
// correctly from MariaDB (no 5xx, no stale data, bounded latency) and uses the cache again afterwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { startRedis, type ServerHandle } from '@conduit/testkit';
import { createArticle, freeze, json, makeApp, register, type TestUser } from './helpers.js';

const PORT = 29380;
let redis: ServerHandle;
let app: FastifyInstance;
let alice: TestUser;
let bob: TestUser;

beforeAll(async () => {
  redis = await startRedis({ port: PORT, dir: join(inject('stateDir'), 'redis-down') });
  app = await makeApp({ REDIS_URL: `redis://127.0.0.1:${PORT}`, CACHE_TIMEOUT_MS: '50' });
  [alice, bob] = await Promise.all([register(app, 'alice'), register(app, 'bob')]);
});
afterAll(async () => {
  await app.close();
  try { process.kill(redis.pid, 'SIGCONT'); } catch { /* gone */ }
  await redis.stop();
});

const counter = async (result: string) => (await app.metrics.cacheOps.get()).values.find((v) => v.labels.result === result)?.value ?? 0;

/** Runs a read/write scenario and checks every answer is right and fast. */
async function scenario(label: string): Promise<void> {
  const a = await createArticle(app, alice, { tagList: [`${label}-tag`] });
  const t0 = Date.now();
  for (let i = 0; i < 3; i++) {
    const got = await app.inject({ url: `/api/articles/${a.slug}`, headers: i === 2 ? bob.auth : {} });
    expect(got.statusCode).toBe(200);
  }
  const upd = await app.inject({ method: 'PUT', url: `/api/articles/${a.slug}`, headers: alice.auth, payload: { article: { body: `${label} body` } } });
  expect(upd.statusCode).toBe(200);
  expect(json(await app.inject({ url: `/api/articles/${a.slug}` })).article.body).toBe(`${label} body`);
  const fav = await app.inject({ method: 'POST', url: `/api/articles/${a.slug}/favorite`, headers: bob.auth });
  expect(json(fav).article.favoritesCount).toBe(1);
  const list = json(await app.inject({ url: `/api/articles?author=${alice.username}&limit=1` }));
  expect(list.articles[0]).toMatchObject({ slug: a.slug, favoritesCount: 1 });
  expect(json(await app.inject({ url: `/api/articles?author=${alice.username}&limit=1`, headers: bob.auth })).articles[0].favorited).toBe(true);
  expect(json(await app.inject({ url: '/api/tags' })).tags).toContain(`${label}-tag`);
  expect((await app.inject({ url: `/api/profiles/${alice.username}` })).statusCode).toBe(200);
  const c = await app.inject({ method: 'POST', url: `/api/articles/${a.slug}/comments`, headers: bob.auth, payload: { comment: { body: 'still here' } } });
  expect(c.statusCode).toBe(201);
  // 13 requests; a cache outage costs at most a few timeouts of 50 ms (a hang would be 30 s); the bound is loose for a loaded machine
  expect(Date.now() - t0).toBeLessThan(6_000);
}

describe('Redis stopped, frozen and restarted mid-test', () => {
  it('uses the cache while Redis runs', async () => {
    await scenario('up');
    expect(await counter('hit')).toBeGreaterThan(0);
    expect(json(await app.inject({ url: '/health/ready' }))).toMatchObject({ db: 'up', cache: 'up' });
  });

  it('answers from MariaDB when Redis is stopped, and stays ready', async () => {
    await redis.stop();
    const errorsBefore = await counter('error');
    await scenario('stopped');
    expect(await counter('error')).toBeGreaterThan(errorsBefore);
    const ready = await app.inject({ url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
    expect(json(ready)).toMatchObject({ db: 'up', cache: 'down' });
  });

  it('uses the cache again after Redis restarts, with no stale entry', async () => {
    redis = await startRedis({ port: PORT, dir: join(inject('stateDir'), 'redis-down') });
    const a = await createArticle(app, alice);
    // the breaker probes again within ~1 s
    const deadline = Date.now() + 5_000;
    let hitsBefore = await counter('hit');
    for (;;) {
      await app.inject({ url: `/api/articles/${a.slug}` });
      await app.inject({ url: `/api/articles/${a.slug}` });
      if ((await counter('hit')) > hitsBefore) break;
      if (Date.now() > deadline) throw new Error('cache not used again 5 s after Redis restarted');
      await new Promise((r) => setTimeout(r, 200));
    }
    hitsBefore = await counter('hit');
    await scenario('restarted');
    expect(await counter('hit')).toBeGreaterThan(hitsBefore);
  });

  it('answers within the time budget while Redis is frozen (SIGSTOP), then serves no stale data after SIGCONT', async () => {
    const a = await createArticle(app, alice);
    await app.inject({ url: `/api/articles/${a.slug}` });
    await app.inject({ url: `/api/articles/${a.slug}` }); // cached now
    await freeze(redis.pid);
    try {
      const t0 = Date.now();
      await scenario('frozen');
      // written while Redis could not be told: the cached copy of `a` is now stale in Redis
      const upd = await app.inject({ method: 'PUT', url: `/api/articles/${a.slug}`, headers: alice.auth, payload: { article: { body: 'written while frozen' } } });
      expect(upd.statusCode).toBe(200);
      expect(Date.now() - t0).toBeLessThan(8_000);
    } finally {
      process.kill(redis.pid, 'SIGCONT');
    }
    // after Redis is back, the old cached copy must not be served
    for (let i = 0; i < 10; i++) {
      expect(json(await app.inject({ url: `/api/articles/${a.slug}` })).article.body).toBe('written while frozen');
      await new Promise((r) => setTimeout(r, 150));
    }
  });
});
