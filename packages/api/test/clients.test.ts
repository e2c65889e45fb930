// What third-party RealWorld clients do, and the edge contract: empty JSON bodies, CORS, empty password on
// settings, validation message conventions, Token and Bearer, surrogate keys and purge on write (against a
// real HTTP server standing in for the edge's purge listener), and "not found" caching.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createArticle, json, makeApp, register, uid, type TestUser } from './helpers.js';

/** An HTTP server that records PURGE requests and answers with `status` (the edge's purge listener). */
async function purgeListener(status = 200) {
  const purges: string[] = [];
  const server = http.createServer((req, res) => {
    if (req.method === 'PURGE') purges.push(String(req.headers['xkey-purge']));
    res.statusCode = req.method === 'PURGE' ? status : 405;
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, purges, close: () => new Promise<void>((r) => server.close(() => r())) };
}

let app: FastifyInstance;
let edge: Awaited<ReturnType<typeof purgeListener>>;
let u: TestUser;

beforeAll(async () => {
  edge = await purgeListener();
  app = await makeApp({ EDGE_PURGE_URLS: edge.url });
  u = await register(app);
});
afterAll(async () => {
  await app.close();
  await edge.close();
});

const jsonHeaders = () => ({ ...u.auth, 'content-type': 'application/json' });

describe('clients that send Content-Type: application/json on every request', () => {
  it('favorite, follow and delete with an empty body work', async () => {
    const other = await register(app);
    const a = await createArticle(app, other);
    const fav = await app.inject({ method: 'POST', url: `/api/articles/${a.slug}/favorite`, headers: jsonHeaders(), payload: '' });
    expect(fav.statusCode).toBe(200);
    expect(json(fav).article.favorited).toBe(true);
    expect((await app.inject({ method: 'DELETE', url: `/api/articles/${a.slug}/favorite`, headers: jsonHeaders(), payload: '' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'POST', url: `/api/profiles/${other.username}/follow`, headers: jsonHeaders(), payload: '' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'DELETE', url: `/api/profiles/${other.username}/follow`, headers: jsonHeaders(), payload: '' })).statusCode).toBe(200);
    const mine = await createArticle(app, u);
    const c = json(await app.inject({ method: 'POST', url: `/api/articles/${mine.slug}/comments`, headers: u.auth, payload: { comment: { body: 'x' } } })).comment;
    expect((await app.inject({ method: 'DELETE', url: `/api/articles/${mine.slug}/comments/${c.id}`, headers: jsonHeaders(), payload: '' })).statusCode).toBe(204);
    expect((await app.inject({ method: 'DELETE', url: `/api/articles/${mine.slug}`, headers: jsonHeaders(), payload: '' })).statusCode).toBe(204);
  });
  it('an operation that needs a body answers 422 "body can\'t be blank" to an empty one', async () => {
    const r = await app.inject({ method: 'POST', url: '/api/articles', headers: jsonHeaders(), payload: '' });
    expect(r.statusCode).toBe(422);
    expect(json(r)).toEqual({ errors: { body: ["can't be blank"] } });
  });
});

describe('CORS', () => {
  it('answers a preflight from any origin, briefly cacheable', async () => {
    const r = await app.inject({
      method: 'OPTIONS', url: '/api/articles/x/favorite',
      headers: { origin: 'https://client.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    expect(r.statusCode).toBe(204);
    expect(r.headers['access-control-allow-origin']).toBe('*');
    expect(String(r.headers['access-control-allow-methods'])).toContain('DELETE');
    expect(String(r.headers['access-control-allow-headers'])).toBe('authorization,content-type');
    expect(r.headers['access-control-max-age']).toBe('600');
    expect(r.headers['cache-control']).toBe('public, max-age=5');
  });
  it('every answer, errors included, carries Access-Control-Allow-Origin', async () => {
    const ok = await app.inject({ url: '/api/tags', headers: { origin: 'https://client.example' } });
    expect(ok.headers['access-control-allow-origin']).toBe('*');
    const denied = await app.inject({ url: '/api/user', headers: { origin: 'https://client.example' } });
    expect(denied.statusCode).toBe(401);
    expect(denied.headers['access-control-allow-origin']).toBe('*');
  });
  it('CORS_ALLOWED_ORIGINS narrows the origins', async () => {
    const narrow = await makeApp({ CORS_ALLOWED_ORIGINS: 'https://app.example' });
    try {
      const yes = await narrow.inject({ method: 'OPTIONS', url: '/api/tags', headers: { origin: 'https://app.example', 'access-control-request-method': 'GET' } });
      expect(yes.headers['access-control-allow-origin']).toBe('https://app.example');
      expect(String(yes.headers.vary)).toContain('Origin');
      const no = await narrow.inject({ method: 'OPTIONS', url: '/api/tags', headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' } });
      expect(no.headers['access-control-allow-origin']).toBeUndefined();
      // A cacheable GET varies on both: an edge must not serve one origin's answer to another, nor a signed-in one.
      for (const origin of ['https://app.example', 'https://evil.example']) {
        const get = await narrow.inject({ url: '/api/tags', headers: { origin } });
        expect(get.headers['cache-control']).toMatch(/^public/);
        expect(String(get.headers.vary).split(/,\s*/).sort()).toEqual(['Authorization', 'Origin']);
      }
    } finally {
      await narrow.close();
    }
  });
});

describe('PUT /api/user from a settings form that sends every field', () => {
  it('an empty password leaves the password unchanged; empty bio and image are cleared to null', async () => {
    const me = await register(app);
    const r = await app.inject({
      method: 'PUT', url: '/api/user', headers: me.auth,
      payload: { user: { email: me.email, username: me.username, password: '', bio: 'New bio', image: '' } },
    });
    expect(r.statusCode).toBe(200);
    expect(json(r).user).toMatchObject({ bio: 'New bio', image: null });
    const login = await app.inject({ method: 'POST', url: '/api/users/login', payload: { user: { email: me.email, password: me.password } } });
    expect(login.statusCode).toBe(200);
    const cleared = await app.inject({ method: 'PUT', url: '/api/user', headers: me.auth, payload: { user: { bio: '', password: '' } } });
    expect(json(cleared).user.bio).toBeNull();
    // a blank username or email is refused: those are never "unchanged" by being empty
    const blank = await app.inject({ method: 'PUT', url: '/api/user', headers: me.auth, payload: { user: { username: '', email: ' ' } } });
    expect(json(blank)).toEqual({ errors: { username: ["can't be blank"], email: ["can't be blank"] } });
  });
});

describe('validation messages follow the RealWorld conventions', () => {
  it("missing, null or empty required fields are \"can't be blank\", before any format or length rule", async () => {
    const reg = await app.inject({ method: 'POST', url: '/api/users', payload: { user: { username: '', email: '', password: '' } } });
    expect(reg.statusCode).toBe(422);
    expect(json(reg)).toEqual({ errors: { username: ["can't be blank"], email: ["can't be blank"], password: ["can't be blank"] } });
    const missing = await app.inject({ method: 'POST', url: '/api/users', payload: { user: { email: null } } });
    expect(json(missing)).toEqual({ errors: { username: ["can't be blank"], email: ["can't be blank"], password: ["can't be blank"] } });
    expect(json(await app.inject({ method: 'POST', url: '/api/users', payload: {} }))).toEqual({ errors: { user: ["can't be blank"] } });
    const article = await app.inject({ method: 'POST', url: '/api/articles', headers: u.auth, payload: { article: { title: '   ', description: '', body: null } } });
    expect(json(article)).toEqual({ errors: { title: ["can't be blank"], description: ["can't be blank"], body: ["can't be blank"] } });
    const login = await app.inject({ method: 'POST', url: '/api/users/login', payload: { user: { email: '', password: '' } } });
    expect(json(login)).toEqual({ errors: { email: ["can't be blank"], password: ["can't be blank"] } });
  });
  it('formats, lengths, types and numbers', async () => {
    const reg = await app.inject({ method: 'POST', url: '/api/users', payload: { user: { username: 'a b', email: 'nope', password: 'short' } } });
    expect(json(reg)).toEqual({
      errors: { username: ['is invalid (letters, digits, "_", "." and "-" only)'], email: ['is invalid'], password: ['is too short (minimum is 8 characters)'] },
    });
    const typed = await app.inject({ method: 'POST', url: '/api/users', payload: { user: { username: 5, email: 'a@b.example', password: 'long enough' } } });
    expect(json(typed)).toEqual({ errors: { username: ['is invalid'] } });
    const q = await app.inject({ url: '/api/articles?limit=0&offset=x' });
    expect(json(q)).toEqual({ errors: { limit: ['must be greater than or equal to 1'], offset: ['is not a number'] } });
  });
});

describe('authentication schemes', () => {
  it('accepts Token and Bearer (any case), refuses others', async () => {
    for (const scheme of ['Token', 'Bearer', 'bearer', 'TOKEN']) {
      const r = await app.inject({ url: '/api/user', headers: { authorization: `${scheme} ${u.token}` } });
      expect(r.statusCode, scheme).toBe(200);
    }
    expect((await app.inject({ url: '/api/user', headers: { authorization: `Basic ${u.token}` } })).statusCode).toBe(401);
  });
});

describe('the edge contract: surrogate keys and purge on write', () => {
  it('tags anonymous reads with the keys a write purges, and purges them before answering the write', async () => {
    const a = await createArticle(app, u, { tagList: [`t${uid()}`] });
    const page = await app.inject({ url: `/api/articles/${a.slug}` });
    const keys = String(page.headers['surrogate-key']).split(' ');
    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatch(/^article-\d+$/);
    expect(keys[1]).toMatch(/^profile-\d+$/);
    const list = await app.inject({ url: `/api/articles?author=${u.username}&limit=5` });
    expect(String(list.headers['surrogate-key'])).toMatch(/^list lauthor-\d+ article-\d+ profile-\d+/);
    expect(String((await app.inject({ url: '/api/articles?limit=1' })).headers['surrogate-key'])).toMatch(/^list lall /);
    expect(String((await app.inject({ url: `/api/articles?author=nobody${uid()}` })).headers['surrogate-key'])).toBe('list lunresolved');
    expect((await app.inject({ url: '/api/tags' })).headers['surrogate-key']).toBe('tags');
    // signed-in reads are never shared: no keys
    expect((await app.inject({ url: `/api/articles/${a.slug}`, headers: u.auth })).headers['surrogate-key']).toBeUndefined();

    const other = await register(app);
    edge.purges.length = 0;
    await app.inject({ method: 'POST', url: `/api/articles/${a.slug}/favorite`, headers: other.auth });
    await app.inject({ method: 'PUT', url: `/api/articles/${a.slug}`, headers: u.auth, payload: { article: { description: 'new' } } });
    await app.inject({ method: 'PUT', url: '/api/user', headers: u.auth, payload: { user: { bio: `bio ${uid()}` } } });
    await app.inject({ method: 'DELETE', url: `/api/articles/${a.slug}`, headers: u.auth });
    expect(edge.purges).toEqual([
      expect.stringMatching(new RegExp(`^${keys[0]} lfav-\\d+$`)),
      keys[0],
      keys[1],
      `${keys[0]} list tags`,
    ]);
    // a write that failed purges nothing
    edge.purges.length = 0;
    expect((await app.inject({ method: 'DELETE', url: `/api/articles/${a.slug}`, headers: u.auth })).statusCode).toBe(404);
    expect(edge.purges).toEqual([]);
  });

  it('when the edge cannot be told, the write waits out the edge TTL before it is acknowledged', async () => {
    const broken = await purgeListener(500);
    const slow = await makeApp({ EDGE_PURGE_URLS: broken.url });
    try {
      const t0 = Date.now();
      const r = await slow.inject({ method: 'POST', url: '/api/articles', headers: u.auth, payload: { article: { title: `T ${uid()}`, description: 'd', body: 'b' } } });
      expect(r.statusCode).toBe(201);
      expect(broken.purges).toEqual(['list tags']);
      // max-age the API gives shared caches (5 s) + 1 s for a racing fill
      expect(Date.now() - t0).toBeGreaterThanOrEqual(6_000);
      expect(await slow.metrics.registry.getSingleMetricAsString('edge_purges_total')).toContain('edge_purges_total{result="failed"} 1');
    } finally {
      await slow.close();
      await broken.close();
    }
  });
});

describe('"not found" is not kept for long', () => {
  it('a profile asked for before its sign-up is found right after it', async () => {
    const name = `late${uid()}`;
    expect((await app.inject({ url: `/api/profiles/${name}` })).statusCode).toBe(404);
    expect((await app.inject({ url: `/api/profiles/${name}` })).statusCode).toBe(404);
    await app.inject({ method: 'POST', url: '/api/users', payload: { user: { username: name, email: `${name}@example.test`, password: 'correct-horse' } } });
    expect((await app.inject({ url: `/api/profiles/${name}` })).statusCode).toBe(200);
  });
});
