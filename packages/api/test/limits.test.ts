// Abuse limits as an attacker meets them: a forged X-Forwarded-For, the same client spread over several
// instances, Redis down, password guessing on one account from many IPs, a signed-in user flooding writes.
// Counters live in the project's Redis (shared by every app here, as by every instance of a region):
// each test uses client IPs and accounts of its own.
import { randomInt } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import mysql from 'mysql2/promise';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { createArticle, json, makeApp, register, uid } from './helpers.js';

const apps: FastifyInstance[] = [];
const app = async (env: Record<string, string>) => {
  const a = await makeApp(env);
  apps.push(a);
  return a;
};
afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
});

/** An address of this run only (Redis keeps the counters of earlier runs for their window). */
const ip = () => `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;
const login = (a: FastifyInstance, headers: Record<string, string> = {}, email = `nobody-${uid()}@example.test`, remoteAddress = '127.0.0.1') =>
  a.inject({ method: 'POST', url: '/api/users/login', headers, remoteAddress, payload: { user: { email, password: 'wrong-password' } } });
const codes = (rs: LightMyRequestResponse[]) => rs.map((r) => r.statusCode);

describe('the client IP: exactly the topology\'s proxy hops are trusted', () => {
  it('a forged leftmost X-Forwarded-For entry does not reset the per-IP limit (edge → LB → API: 2 hops)', async () => {
    const a = await app({ TRUSTED_PROXY_HOPS: '2', RATE_LIMIT_AUTH_PER_MIN: '5' });
    const client = ip();
    const out: LightMyRequestResponse[] = [];
    // What reaches the API: the client's own header, then the address the edge saw, then the edge as the LB saw it.
    for (let i = 0; i < 7; i++) out.push(await login(a, { 'x-forwarded-for': `198.51.100.${i}, ${client}, 127.0.0.1` }));
    expect(codes(out)).toEqual([401, 401, 401, 401, 401, 429, 429]);
    expect(json(out[5]!)).toEqual({ errors: { body: [expect.stringMatching(/rate limit/i)] } });
    // Another client behind the same proxies has its own budget.
    expect((await login(a, { 'x-forwarded-for': `${ip()}, 127.0.0.1` })).statusCode).toBe(401);
  });

  it('without proxies configured, X-Forwarded-For is ignored: the peer address is the client', async () => {
    const a = await app({ RATE_LIMIT_AUTH_PER_MIN: '3' });
    const peer = ip();
    const out: LightMyRequestResponse[] = [];
    for (let i = 0; i < 4; i++) out.push(await login(a, { 'x-forwarded-for': ip() }, undefined, peer));
    expect(codes(out)).toEqual([401, 401, 401, 429]);
  });
});

describe('limits hold across instances (Redis) and still hold when Redis is down', () => {
  it('two instances share one budget per client', async () => {
    const env = { TRUSTED_PROXY_HOPS: '1', RATE_LIMIT_AUTH_PER_MIN: '4' };
    const [a, b] = [await app(env), await app(env)];
    const client = ip();
    const h = { 'x-forwarded-for': client };
    const out = [await login(a, h), await login(b, h), await login(a, h), await login(b, h), await login(a, h), await login(b, h)];
    expect(codes(out)).toEqual([401, 401, 401, 401, 429, 429]);
  });

  it('with Redis unreachable each instance counts on its own: limited, never a 5xx', async () => {
    const a = await app({ REDIS_URL: 'redis://127.0.0.1:1', CACHE_TIMEOUT_MS: '50', TRUSTED_PROXY_HOPS: '1', RATE_LIMIT_AUTH_PER_MIN: '3' });
    const h = { 'x-forwarded-for': ip() };
    const out: LightMyRequestResponse[] = [];
    for (let i = 0; i < 5; i++) out.push(await login(a, h));
    expect(codes(out)).toEqual([401, 401, 401, 429, 429]);
  });
});

describe('per-account sign-in throttling', () => {
  it('guesses at one account from many IPs are throttled; other accounts are not', async () => {
    const a = await app({ TRUSTED_PROXY_HOPS: '1', RATE_LIMIT_LOGIN_PER_ACCOUNT: '3' });
    const victim = await register(a, 'victim');
    const out: LightMyRequestResponse[] = [];
    // Case and surrounding spaces do not make a new account.
    for (const email of [victim.email, victim.email.toUpperCase(), ` ${victim.email}`, victim.email]) out.push(await login(a, { 'x-forwarded-for': ip() }, email));
    expect(codes(out)).toEqual([401, 401, 401, 429]);
    expect(json(out[3]!)).toEqual({ errors: { email: [expect.stringMatching(/^too many sign-in attempts for this account, retry in \d+ s$/)] } });
    expect(Number(out[3]!.headers['retry-after'])).toBeGreaterThan(0);
    // Even the right password waits: the guesser must not learn it from a different answer.
    const right = await a.inject({ method: 'POST', url: '/api/users/login', headers: { 'x-forwarded-for': ip() }, payload: { user: { email: victim.email, password: victim.password } } });
    expect(right.statusCode).toBe(429);
    expect((await login(a, { 'x-forwarded-for': ip() })).statusCode).toBe(401);
  });
});

describe('per-user write limits', () => {
  it('a signed-in user gets N writes a minute across all write routes; reads and other users go on', async () => {
    const a = await app({ RATE_LIMIT_WRITES_PER_MIN: '3' });
    const [spammer, other] = [await register(a, 'spam'), await register(a, 'other')];
    const article = await createArticle(a, spammer);
    const comment = await a.inject({ method: 'POST', url: `/api/articles/${article.slug}/comments`, headers: spammer.auth, payload: { comment: { body: 'x' } } });
    const fav = await a.inject({ method: 'POST', url: `/api/articles/${article.slug}/favorite`, headers: spammer.auth });
    expect([comment.statusCode, fav.statusCode]).toEqual([201, 200]);
    const follow = await a.inject({ method: 'POST', url: `/api/profiles/${other.username}/follow`, headers: spammer.auth });
    expect(follow.statusCode).toBe(429);
    expect(json(follow)).toEqual({ errors: { body: [expect.stringMatching(/rate limit/i)] } });
    expect((await a.inject({ url: `/api/articles/${article.slug}/comments`, headers: spammer.auth })).statusCode).toBe(200);
    expect((await a.inject({ method: 'POST', url: `/api/articles/${article.slug}/favorite`, headers: other.auth })).statusCode).toBe(200);
  });
});

describe('database values', () => {
  it('an object among the query values is a string, not an SQL fragment (stringifyObjects)', async () => {
    const a = await app({});
    // mysql2 expands an object after SET into `column` = value pairs unless stringifyObjects is on: here it
    // stays one string, which is not a valid SET list (no row of users can be rewritten by a crafted value).
    await expect(a.db.writer.query('UPDATE users SET ? WHERE id = 0', [{ bio: 'x' }])).rejects.toMatchObject({ code: 'ER_PARSE_ERROR' });
  });
});

describe('bounded answers', () => {
  it('a comment list holds the newest 500 comments, oldest first; a comment body is at most 10,000 characters', async () => {
    const a = await app({});
    const u = await register(a, 'talk');
    const article = await createArticle(a, u);
    // 501 comments written straight into the table (through the API the write limit would take minutes).
    const c = await mysql.createConnection({ uri: inject('mysqlUrl') });
    try {
      await c.query(
        "INSERT INTO comments (article_id, author_id, body) SELECT a.id, u.id, CONCAT('c', s.seq) FROM articles a JOIN users u ON u.username = ? JOIN seq_1_to_501 s WHERE a.slug = ? ORDER BY s.seq",
        [u.username, article.slug],
      );
    } finally {
      await c.end();
    }
    const list = json(await a.inject({ url: `/api/articles/${article.slug}/comments` })).comments as { body: string }[];
    expect(list).toHaveLength(500);
    expect([list[0]!.body, list.at(-1)!.body]).toEqual(['c2', 'c501']);
    const long = await a.inject({ method: 'POST', url: `/api/articles/${article.slug}/comments`, headers: u.auth, payload: { comment: { body: 'x'.repeat(10_001) } } });
    expect(long.statusCode).toBe(422);
    expect(Object.keys(json(long).errors)).toContain('body');
  });
});
