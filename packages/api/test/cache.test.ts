// Cache-aside behaviour against the real Redis: every kind of write invalidates what it changes,
// per-user fields never leak between users, instances sharing Redis see each other's writes,
// and a cold key is loaded once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { Cache } from '../src/cache/cache.js';
import { exec } from '../src/db/pool.js';
import { createArticle, json, makeApp, register, uid, type TestUser } from './helpers.js';

let app: FastifyInstance;
let app2: FastifyInstance;
let alice: TestUser;
let bob: TestUser;
beforeAll(async () => {
  // Redis database 1: no other test file bumps this generation between two GETs.
  const env = { REDIS_URL: `${inject('redisUrl')}/1` };
  [app, app2] = await Promise.all([makeApp(env), makeApp(env)]);
  [alice, bob] = await Promise.all([register(app, 'alice'), register(app, 'bob')]);
});
afterAll(async () => { await Promise.all([app.close(), app2.close()]); });

async function hits(a: FastifyInstance): Promise<number> {
  const m = await a.metrics.cacheOps.get();
  return m.values.find((v) => v.labels.result === 'hit')?.value ?? 0;
}

/** GETs url twice on app and checks the second came from the cache; returns the body. */
async function warm(url: string, headers: Record<string, string> = {}) {
  await app.inject({ url, headers });
  const before = await hits(app);
  const res = await app.inject({ url, headers });
  expect(await hits(app)).toBeGreaterThan(before);
  return json(res);
}

describe('invalidation after each kind of write', () => {
  it('article update: no stale article, list or tag list', async () => {
    const tag = `old${uid()}`;
    const a = await createArticle(app, alice, { tagList: [tag] });
    const listUrl = `/api/articles?author=${alice.username}`;
    await warm(`/api/articles/${a.slug}`);
    await warm(listUrl);
    expect((await warm('/api/tags')).tags).toContain(tag);
    await warm(`/api/articles?tag=${tag}`);
    const newTag = `new${uid()}`;
    await app.inject({ method: 'PUT', url: `/api/articles/${a.slug}`, headers: alice.auth, payload: { article: { body: 'changed', description: 'new desc', tagList: [newTag] } } });
    expect(json(await app.inject({ url: `/api/articles/${a.slug}` })).article).toMatchObject({ body: 'changed', tagList: [newTag] });
    expect(json(await app.inject({ url: listUrl })).articles[0]).toMatchObject({ slug: a.slug, description: 'new desc', tagList: [newTag] });
    const tags = json(await app.inject({ url: '/api/tags' })).tags;
    expect(tags).toContain(newTag);
    expect(tags).not.toContain(tag);
    expect(json(await app.inject({ url: `/api/articles?tag=${tag}` })).articlesCount).toBe(0);
    expect(json(await app.inject({ url: `/api/articles?tag=${newTag}` })).articlesCount).toBe(1);
  });

  it('article create and delete: lists, counts, tags, article', async () => {
    const tag = `cd${uid()}`;
    const listUrl = `/api/articles?author=${alice.username}&limit=1`;
    const before = await warm(listUrl);
    await warm('/api/tags');
    const a = await createArticle(app, alice, { tagList: [tag] });
    const after = json(await app.inject({ url: listUrl }));
    expect(after.articlesCount).toBe(before.articlesCount + 1);
    expect(after.articles[0].slug).toBe(a.slug);
    expect(json(await app.inject({ url: '/api/tags' })).tags).toContain(tag);
    await warm(`/api/articles/${a.slug}`);
    await warm(listUrl);
    await app.inject({ method: 'DELETE', url: `/api/articles/${a.slug}`, headers: alice.auth });
    expect((await app.inject({ url: `/api/articles/${a.slug}` })).statusCode).toBe(404);
    expect(json(await app.inject({ url: listUrl })).articlesCount).toBe(before.articlesCount);
    expect(json(await app.inject({ url: '/api/tags' })).tags).not.toContain(tag);
  });

  it('a cached 404 does not hide a new article', async () => {
    const title = `Later ${uid()}`;
    const slug = title.toLowerCase().replace(' ', '-');
    expect((await app.inject({ url: `/api/articles/${slug}` })).statusCode).toBe(404);
    expect((await app.inject({ url: `/api/articles/${slug}` })).statusCode).toBe(404);
    await createArticle(app, alice, { title });
    expect((await app.inject({ url: `/api/articles/${slug}` })).statusCode).toBe(200);
  });

  it('favorite and unfavorite: counts in article, lists and the favorited filter', async () => {
    const a = await createArticle(app, alice);
    const listUrl = `/api/articles?author=${alice.username}&limit=1`;
    await warm(`/api/articles/${a.slug}`);
    await warm(listUrl);
    await warm(`/api/articles?favorited=${bob.username}`);
    await app.inject({ method: 'POST', url: `/api/articles/${a.slug}/favorite`, headers: bob.auth });
    expect(json(await app.inject({ url: `/api/articles/${a.slug}` })).article.favoritesCount).toBe(1);
    expect(json(await app.inject({ url: listUrl })).articles[0].favoritesCount).toBe(1);
    expect(json(await app.inject({ url: `/api/articles?favorited=${bob.username}` })).articles.map((x: { slug: string }) => x.slug)).toContain(a.slug);
    await warm(`/api/articles/${a.slug}`);
    await app.inject({ method: 'DELETE', url: `/api/articles/${a.slug}/favorite`, headers: bob.auth });
    expect(json(await app.inject({ url: `/api/articles/${a.slug}` })).article.favoritesCount).toBe(0);
    expect(json(await app.inject({ url: `/api/articles?favorited=${bob.username}` })).articles.map((x: { slug: string }) => x.slug)).not.toContain(a.slug);
  });

  it('profile update: profile, article author and list author', async () => {
    const carol = await register(app, 'carol');
    const a = await createArticle(app, carol);
    await warm(`/api/profiles/${carol.username}`);
    await warm(`/api/articles/${a.slug}`);
    await warm(`/api/articles?author=${carol.username}`);
    await app.inject({ method: 'PUT', url: '/api/user', headers: carol.auth, payload: { user: { bio: 'New bio', image: 'https://img.example/c.png' } } });
    expect(json(await app.inject({ url: `/api/profiles/${carol.username}` })).profile).toMatchObject({ bio: 'New bio', image: 'https://img.example/c.png' });
    expect(json(await app.inject({ url: `/api/articles/${a.slug}` })).article.author).toMatchObject({ bio: 'New bio' });
    expect(json(await app.inject({ url: `/api/articles?author=${carol.username}` })).articles[0].author).toMatchObject({ bio: 'New bio' });
    const renamed = `ren${uid()}`;
    await app.inject({ method: 'PUT', url: '/api/user', headers: carol.auth, payload: { user: { username: renamed } } });
    expect((await app.inject({ url: `/api/profiles/${carol.username}` })).statusCode).toBe(404);
    expect(json(await app.inject({ url: `/api/articles/${a.slug}` })).article.author.username).toBe(renamed);
    expect(json(await app.inject({ url: `/api/articles?author=${renamed}` })).articlesCount).toBe(1);
  });

  it('follow and unfollow: per-user following is fresh at once', async () => {
    const dave = await register(app, 'dave');
    await warm(`/api/profiles/${dave.username}`, bob.auth);
    await app.inject({ method: 'POST', url: `/api/profiles/${dave.username}/follow`, headers: bob.auth });
    expect(json(await app.inject({ url: `/api/profiles/${dave.username}`, headers: bob.auth })).profile.following).toBe(true);
    await app.inject({ method: 'DELETE', url: `/api/profiles/${dave.username}/follow`, headers: bob.auth });
    expect(json(await app.inject({ url: `/api/profiles/${dave.username}`, headers: bob.auth })).profile.following).toBe(false);
  });
});

describe('a lost generation key (Redis restarted or the key evicted)', () => {
  it('never makes entries of an older generation readable again', async () => {
    const redis = new Redis(`${inject('redisUrl')}/1`);
    try {
      const a = await createArticle(app, alice);
      await redis.del('conduit:gen');
      await warm(`/api/articles/${a.slug}`); // cached under a fresh generation
      await app.inject({ method: 'PUT', url: `/api/articles/${a.slug}`, headers: alice.auth, payload: { article: { body: 'after eviction' } } });
      await redis.del('conduit:gen');
      expect(json(await app.inject({ url: `/api/articles/${a.slug}` })).article.body).toBe('after eviction');
    } finally {
      redis.disconnect();
    }
  });
});

describe('a reconnect (a Sentinel failover lands on another primary)', () => {
  it('starts a new generation before any entry is trusted again', async () => {
    const url = `${inject('redisUrl')}/2`;
    const admin = new Redis(url);
    const client = new Redis(url, { enableOfflineQueue: false, retryStrategy: () => 20 });
    try {
      await new Promise((r) => client.once('ready', r));
      const c = new Cache(client, { timeoutMs: 200, nearEntries: 0 });
      const key = `k-${uid()}`;
      await c.getOrLoad(key, 60, async () => 'old');
      const gen = await admin.get('conduit:gen');
      // As after a failover: the connection drops and comes back (here to the same server, holding the same generation).
      await admin.client('KILL', 'ID', String(await client.client('ID')));
      await new Promise((r) => client.once('ready', r));
      expect((await c.getOrLoad(key, 60, async () => 'new')).value).toBe('new');
      expect(await admin.get('conduit:gen')).not.toBe(gen);
    } finally {
      client.disconnect();
      admin.disconnect();
    }
  });
});

describe('per-user fields', () => {
  it('never come from another user\'s request', async () => {
    const a = await createArticle(app, alice);
    await app.inject({ method: 'POST', url: `/api/articles/${a.slug}/favorite`, headers: bob.auth });
    await app.inject({ method: 'POST', url: `/api/profiles/${alice.username}/follow`, headers: bob.auth });
    const eve = await register(app, 'eve');
    for (let i = 0; i < 2; i++) {
      const asBob = json(await app.inject({ url: `/api/articles/${a.slug}`, headers: bob.auth })).article;
      expect(asBob).toMatchObject({ favorited: true, author: { following: true } });
      const asEve = json(await app.inject({ url: `/api/articles/${a.slug}`, headers: eve.auth })).article;
      expect(asEve).toMatchObject({ favorited: false, author: { following: false } });
      const anon = json(await app.inject({ url: `/api/articles/${a.slug}` })).article;
      expect(anon).toMatchObject({ favorited: false, author: { following: false } });
      const listBob = json(await app.inject({ url: `/api/articles?author=${alice.username}&limit=1`, headers: bob.auth })).articles[0];
      expect(listBob).toMatchObject({ favorited: true, author: { following: true } });
      const listEve = json(await app.inject({ url: `/api/articles?author=${alice.username}&limit=1`, headers: eve.auth })).articles[0];
      expect(listEve).toMatchObject({ favorited: false, author: { following: false } });
      expect(json(await app.inject({ url: `/api/profiles/${alice.username}`, headers: eve.auth })).profile.following).toBe(false);
      expect(json(await app.inject({ url: `/api/profiles/${alice.username}`, headers: bob.auth })).profile.following).toBe(true);
    }
  });
});

describe('two instances sharing Redis', () => {
  it('a write on one instance is seen by the other at once', async () => {
    const a = await createArticle(app, alice);
    await app2.inject({ url: `/api/articles/${a.slug}` });
    await app2.inject({ url: `/api/articles/${a.slug}` });
    await app.inject({ method: 'PUT', url: `/api/articles/${a.slug}`, headers: alice.auth, payload: { article: { body: 'seen everywhere' } } });
    expect(json(await app2.inject({ url: `/api/articles/${a.slug}` })).article.body).toBe('seen everywhere');
  });

  it('a viewer\'s own favorite or follow is in their next list, feed, article and profile, on either instance', async () => {
    const author = await register(app, 'auth');
    const a = await createArticle(app, author);
    const viewer = await register(app, 'viewer');
    const byAuthor = `/api/articles?author=${author.username}&limit=1`;
    const mine = async (on: FastifyInstance) => {
      const [list, article, feed, profile] = await Promise.all([
        on.inject({ url: byAuthor, headers: viewer.auth }), on.inject({ url: `/api/articles/${a.slug}`, headers: viewer.auth }),
        on.inject({ url: '/api/articles/feed', headers: viewer.auth }), on.inject({ url: `/api/profiles/${author.username}`, headers: viewer.auth }),
      ]);
      const [item, art] = [json(list).articles[0], json(article).article];
      expect([art.favorited, art.author.following]).toEqual([item.favorited, item.author.following]);
      expect(json(profile).profile.following).toBe(item.author.following);
      expect(json(feed).articles.map((x: { slug: string; favorited: boolean }) => [x.slug, x.favorited])).toEqual(item.author.following ? [[a.slug, item.favorited]] : []);
      return { favorited: item.favorited as boolean, following: item.author.following as boolean, count: item.favoritesCount as number };
    };
    // Both instances have read (and kept) the viewer's sets before each write; the write goes to one, the read to the other.
    const steps: [FastifyInstance, FastifyInstance, 'POST' | 'DELETE', string, { favorited: boolean; following: boolean; count: number }][] = [
      [app, app2, 'POST', `/api/articles/${a.slug}/favorite`, { favorited: true, following: false, count: 1 }],
      [app2, app, 'POST', `/api/profiles/${author.username}/follow`, { favorited: true, following: true, count: 1 }],
      [app, app2, 'DELETE', `/api/articles/${a.slug}/favorite`, { favorited: false, following: true, count: 0 }],
      [app2, app, 'DELETE', `/api/profiles/${author.username}/follow`, { favorited: false, following: false, count: 0 }],
    ];
    let before = { favorited: false, following: false, count: 0 };
    for (const [writeOn, readOn, method, url, after] of steps) {
      for (const on of [app, app, app2, app2]) expect(await mine(on)).toEqual(before);
      expect((await writeOn.inject({ method, url, headers: viewer.auth })).statusCode).toBe(200);
      expect(await mine(readOn)).toEqual(after);
      expect(await mine(writeOn)).toEqual(after);
      before = after;
    }
  });
});

describe('a viewer who follows more users than an instance keeps in memory (1,000)', () => {
  it('gets following per page from the database, as fresh after their own write on the other instance', async () => {
    const author = await register(app, 'auth');
    await createArticle(app, author);
    const viewer = await register(app, 'many');
    const many = `f${uid()}`;
    await exec(app.db.writer, 'INSERT INTO users (username, email, password_hash) VALUES ?', [Array.from({ length: 1_001 }, (_, i) => [`${many}n${i}`, `${many}n${i}@example.test`, '-'])]);
    await exec(app.db.writer, 'INSERT INTO follows (follower_id, followee_id) SELECT v.id, u.id FROM users v JOIN users u ON u.username LIKE ? WHERE v.username = ?', [`${many}n%`, viewer.username]);
    const following = async (on: FastifyInstance) => {
      const [list, profile] = await Promise.all([
        on.inject({ url: `/api/articles?author=${author.username}&limit=1`, headers: viewer.auth }), on.inject({ url: `/api/profiles/${author.username}`, headers: viewer.auth }),
      ]);
      return [json(list).articles[0].author.following, json(profile).profile.following];
    };
    for (const on of [app, app2]) expect(await following(on)).toEqual([false, false]);
    expect((await app.inject({ method: 'POST', url: `/api/profiles/${author.username}/follow`, headers: viewer.auth })).statusCode).toBe(200);
    for (const on of [app2, app]) expect(await following(on)).toEqual([true, true]);
    expect((await app2.inject({ method: 'DELETE', url: `/api/profiles/${author.username}/follow`, headers: viewer.auth })).statusCode).toBe(200);
    for (const on of [app, app2]) expect(await following(on)).toEqual([false, false]);
  });
});

describe('cold keys (stampede protection)', () => {
  const mk = () => new Cache(new Redis(inject('redisUrl'), { enableOfflineQueue: true, commandTimeout: 500 }), { timeoutMs: 500, prefix: `stampede${uid()}:` });

  it('concurrent misses in one process load once', async () => {
    const c = mk();
    try {
      let loads = 0;
      const loader = async () => { loads++; await new Promise((r) => setTimeout(r, 30)); return 'v'; };
      const results = await Promise.all(Array.from({ length: 50 }, () => c.getOrLoad('k', 10, loader)));
      expect(results.every((r) => r.value === 'v')).toBe(true);
      expect(loads).toBe(1);
      expect((await c.getOrLoad('k', 10, loader)).hit).toBe(true);
    } finally {
      await c.close();
    }
  });

  it('concurrent misses in two processes (two clients) load once: the lock holder fills, the other waits', async () => {
    const prefix = `stampede${uid()}:`;
    const clients = [0, 1].map(() => new Cache(new Redis(inject('redisUrl'), { enableOfflineQueue: true, commandTimeout: 500 }), { timeoutMs: 500, prefix }));
    try {
      let loads = 0;
      const loader = async () => { loads++; await new Promise((r) => setTimeout(r, 30)); return 'v'; };
      await Promise.all(clients.map((c) => c.ping()));
      const results = await Promise.all(clients.flatMap((c) => Array.from({ length: 10 }, () => c.getOrLoad('k', 10, loader))));
      expect(results.every((r) => r.value === 'v')).toBe(true);
      expect(loads).toBe(1);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });

  it('keeps hot entries in process memory, trusted only while Redis confirms their generation', async () => {
    const c = mk();
    try {
      let loads = 0;
      const loader = async () => `v${++loads}`;
      expect((await c.getOrLoad('k', 10, loader)).value).toBe('v1');
      expect(await c.getOrLoad('k', 10, loader)).toEqual({ value: 'v1', hit: true });
      await c.bump();
      expect(await c.getOrLoad('k', 10, loader)).toEqual({ value: 'v2', hit: false });
      expect(await c.getOrLoad('k', 10, loader)).toEqual({ value: 'v2', hit: true });
      // another process bumps the generation: this process's memory copy is not used any more
      const other = new Cache(new Redis(inject('redisUrl'), { enableOfflineQueue: true }), { timeoutMs: 500, prefix: (c as unknown as { prefix: string }).prefix });
      await other.bump();
      await other.close();
      expect(await c.getOrLoad('k', 10, loader)).toEqual({ value: 'v3', hit: false });
    } finally {
      await c.close();
    }
  });

  it('checks the generation of the near-cache hits and the versions of the versioned reads of one event-loop turn with one Redis command, and still sees a bump made before them', async () => {
    const c = mk();
    const other = new Cache(new Redis(inject('redisUrl'), { enableOfflineQueue: true }), { timeoutMs: 500, prefix: (c as unknown as { prefix: string }).prefix });
    try {
      let loads = 0;
      const loader = async () => `v${++loads}`;
      const viewers = ['a', 'b', 'c'];
      const versionLoads: string[] = [];
      const viewer = (name: string) => c.getVersioned(`viewer:${name}`, 60_000, async () => { versionLoads.push(name); return name; });
      expect((await c.getOrLoad('k', 10, loader)).value).toBe('v1');
      await Promise.all(viewers.map(viewer));
      // Count the checks this cache sends (the real command, counted on its way out).
      const client = (c as unknown as { client: { checkTurn: (...a: unknown[]) => Promise<string[]> } }).client;
      const send = client.checkTurn.bind(client);
      let checks = 0;
      client.checkTurn = (...a: unknown[]) => { checks++; return send(...a); };
      const turn = () => Promise.all([
        Promise.all(Array.from({ length: 20 }, () => c.getOrLoad('k', 10, loader))),
        Promise.all(Array.from({ length: 12 }, (_, i) => viewer(viewers[i % 3]!))),
      ]);
      const [hits, seen] = await turn();
      expect(hits.every((h) => h.value === 'v1' && h.hit)).toBe(true);
      expect(seen.every((v) => v.hit)).toBe(true);
      expect(checks).toBe(1);
      // Another process bumps the generation and one viewer's version; reads started after its acknowledgement
      // all see them (one load each), in one command again.
      await Promise.all([other.bump(), other.bumpVersion('viewer:b')]);
      const [after, seenAfter] = await turn();
      expect(after.every((h) => h.value === 'v2')).toBe(true);
      expect(loads).toBe(2);
      expect(seenAfter.filter((v) => !v.hit).map((v) => v.value)).toEqual(['b', 'b', 'b', 'b']);
      expect(versionLoads).toEqual(['a', 'b', 'c', 'b']);
      expect(checks).toBe(2);
    } finally {
      await Promise.all([c.close(), other.close()]);
    }
  });

  it('versioned values: kept in memory while their version holds; a bump (any process), a lost key or a reconnect reloads', async () => {
    const prefix = `versioned${uid()}:`;
    const redisUrl = inject('redisUrl');
    const client = new Redis(redisUrl, { enableOfflineQueue: false, retryStrategy: () => 20 });
    const admin = new Redis(redisUrl);
    const c = new Cache(client, { timeoutMs: 500, prefix });
    const other = new Cache(new Redis(redisUrl, { enableOfflineQueue: true }), { timeoutMs: 500, prefix });
    try {
      await new Promise((r) => client.once('ready', r));
      let loads = 0;
      const fromWriter: boolean[] = [];
      const loader = async (w: boolean) => { fromWriter.push(w); return `v${++loads}`; };
      const get = () => c.getVersioned('k', 60_000, loader);
      expect(await get()).toEqual({ value: 'v1', hit: false });
      expect(await get()).toEqual({ value: 'v1', hit: true });
      // concurrent reads of one version load once
      await other.bumpVersion('k');
      expect((await Promise.all(Array.from({ length: 10 }, get))).map((r) => r.value)).toEqual(Array(10).fill('v2'));
      expect(loads).toBe(2);
      // right after a bump the load reads the writer (a replica may not have the write yet)
      expect(fromWriter.at(-1)).toBe(true);
      await c.bumpVersion('k');
      expect(await get()).toEqual({ value: 'v3', hit: false });
      // the version key is lost (evicted, Redis restarted): a fresh version, never the remembered one
      await admin.del(`${prefix}v:k`);
      expect(await get()).toEqual({ value: 'v4', hit: false });
      expect(await get()).toEqual({ value: 'v4', hit: true });
      // a reconnect (maybe a failover to a primary that missed a bump): nothing remembered is trusted
      await admin.client('KILL', 'ID', String(await client.client('ID')));
      await new Promise((r) => client.once('ready', r));
      expect(await get()).toEqual({ value: 'v5', hit: false });
      expect(await get()).toEqual({ value: 'v5', hit: true });
    } finally {
      await Promise.all([c.close(), other.close()]);
      admin.disconnect();
    }
  });

  it('versioned values stay within their memory budget (the oldest leave first; one heavier than it is not kept)', async () => {
    const c = new Cache(new Redis(inject('redisUrl'), { enableOfflineQueue: true }), { timeoutMs: 500, prefix: `versioned${uid()}:`, versionedBudget: 5 });
    try {
      const get = (key: string, value: string) => c.getVersioned(key, 60_000, async () => value, (v) => v.length);
      expect((await get('a', 'aa')).hit).toBe(false);
      expect((await get('b', 'bbb')).hit).toBe(false);
      expect([(await get('a', 'aa')).hit, (await get('b', 'bbb')).hit]).toEqual([true, true]);
      expect((await get('c', 'cc')).hit).toBe(false);
      expect([(await get('b', 'bbb')).hit, (await get('c', 'cc')).hit, (await get('a', 'aa')).hit]).toEqual([true, true, false]);
      expect((await get('x', 'xxxxxx')).hit).toBe(false);
      expect((await get('x', 'xxxxxx')).hit).toBe(false);
    } finally {
      await c.close();
    }
  });

  it('versioned values without Redis: read from the writer every time, a failed bump is sent again once Redis answers', async () => {
    const prefix = `versioned${uid()}:`;
    const redisUrl = inject('redisUrl');
    // Reconnects 300 ms after a disconnect: its commands fail meanwhile (no offline queue), as with Redis out of reach.
    const client = new Redis(redisUrl, { enableOfflineQueue: false, commandTimeout: 200, retryStrategy: () => 300 });
    const c = new Cache(client, { timeoutMs: 200, prefix, failureThreshold: 1, openMs: 100 });
    const other = new Cache(new Redis(redisUrl, { enableOfflineQueue: true }), { timeoutMs: 500, prefix });
    const admin = new Redis(redisUrl);
    try {
      await new Promise((r) => client.once('ready', r));
      let loads = 0;
      const fromWriter: boolean[] = [];
      const loader = async (w: boolean) => { fromWriter.push(w); return `v${++loads}`; };
      expect((await other.getVersioned('k', 60_000, loader)).value).toBe('v1');
      expect(await other.getVersioned('k', 60_000, loader)).toEqual({ value: 'v1', hit: true });
      const version = await admin.get(`${prefix}v:k`);
      // c cannot reach Redis: its bump fails, its reads go to the loader (the writer) and keep nothing
      client.disconnect(true);
      const back = new Promise((r) => client.once('ready', r));
      await c.bumpVersion('k');
      expect(await c.getVersioned('k', 60_000, loader)).toEqual({ value: 'v2', hit: false });
      expect(await c.getVersioned('k', 60_000, loader)).toEqual({ value: 'v3', hit: false });
      expect(fromWriter.slice(-2)).toEqual([true, true]);
      expect(await admin.get(`${prefix}v:k`)).toBe(version);
      // back: the pending bump goes out with c's next versioned read, and the other process reloads
      await back;
      for (let i = 0; i < 20 && (await admin.get(`${prefix}v:k`)) === version; i++) {
        await c.getVersioned('k', 60_000, loader);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(await admin.get(`${prefix}v:k`)).not.toBe(version);
      expect((await other.getVersioned('k', 60_000, loader)).hit).toBe(false);
    } finally {
      await Promise.all([c.close(), other.close()]);
      admin.disconnect();
    }
  });

  it('a cache that cannot reach Redis still answers from the loader, quickly', async () => {
    const c = new Cache(new Redis('redis://127.0.0.1:1', { enableOfflineQueue: false, commandTimeout: 50, retryStrategy: () => 200 }), { timeoutMs: 50 });
    try {
      const t0 = Date.now();
      for (let i = 0; i < 20; i++) expect((await c.getOrLoad('k', 10, async () => 'db')).value).toBe('db');
      expect(Date.now() - t0).toBeLessThan(1_000);
      expect(c.status()).toBe('down');
    } finally {
      await c.close();
    }
  });
});
