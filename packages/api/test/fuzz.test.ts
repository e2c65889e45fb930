// At least 1,000 generated malformed or hostile requests: wrong types, huge strings, broken JSON,
// SQL/HTML injection attempts, unknown fields, bad tokens, odd paths and query strings.
// Expected: zero 5xx, zero hangs, every error in the RealWorld shape, and the data unharmed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { createSigner } from 'fast-jwt';
import { JWT_SECRET, createArticle, json, makeApp, register, type TestUser } from './helpers.js';

let app: FastifyInstance;
let user: TestUser;
let other: TestUser;
let slug: string;
let commentId: number;

/** Small deterministic PRNG (mulberry32) so a failure can be replayed. */
function rng(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOSTILE_STRINGS = [
  "' OR '1'='1", "'; DROP TABLE articles; --", '" OR 1=1 --', "1; SELECT SLEEP(10)", "admin'--", '\\', "\\'", '%', '_',
  '<script>alert(1)</script>', '<img src=x onerror=alert(1)>', 'javascript:alert(1)', '{{7*7}}', '${7*7}', '../../../../etc/passwd',
  '\u0000', '\u202e', '😀'.repeat(50), 'ｆｕｌｌｗｉｄｔｈ', ' ', '', '\n\r\t', 'a'.repeat(300), 'b'.repeat(70_000), 'null', 'undefined', 'NaN',
  '__proto__', 'constructor', '0x41', '-1', '1e309', '𝕏'.repeat(1000),
];
const WEIRD_VALUES: unknown[] = [null, true, false, 0, -1, 1.5, 1e308, -0, [], [1, 2], {}, { a: 1 }, [[[]]], 'x', ...HOSTILE_STRINGS.slice(0, 12)];
const BROKEN_JSON = ['{', '{"user":', '{]', '[}', '{"user": {"email": "a@b.c", }', 'nul', '"unterminated', '{"a":1}{"b":2}', '\u0000', '{"user":{"email":"\\ud800"}}',
  '{"__proto__":{"isAdmin":true},"user":{}}', '{"constructor":{"prototype":{"x":1}}}', ' ', '[]', '"string"', '123', 'true', 'null', '{"user":' + '['.repeat(5000) + ']'.repeat(5000) + '}'];

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

const routes: { method: InjectOptions['method']; url: () => string; wrap?: string; fields?: string[]; auth: boolean }[] = [
  { method: 'POST', url: () => '/api/users', wrap: 'user', fields: ['username', 'email', 'password'], auth: false },
  { method: 'POST', url: () => '/api/users/login', wrap: 'user', fields: ['email', 'password'], auth: false },
  { method: 'GET', url: () => '/api/user', auth: true },
  { method: 'PUT', url: () => '/api/user', wrap: 'user', fields: ['email', 'username', 'password', 'bio', 'image'], auth: true },
  { method: 'GET', url: () => `/api/profiles/${encodeURIComponent(slug)}`, auth: false },
  { method: 'POST', url: () => `/api/profiles/${encodeURIComponent(other.username)}/follow`, auth: true },
  { method: 'DELETE', url: () => `/api/profiles/${encodeURIComponent(other.username)}/follow`, auth: true },
  { method: 'GET', url: () => '/api/articles', auth: false },
  { method: 'GET', url: () => '/api/articles/feed', auth: true },
  { method: 'POST', url: () => '/api/articles', wrap: 'article', fields: ['title', 'description', 'body', 'tagList'], auth: true },
  { method: 'GET', url: () => `/api/articles/${slug}`, auth: false },
  { method: 'PUT', url: () => `/api/articles/${slug}`, wrap: 'article', fields: ['title', 'description', 'body', 'tagList'], auth: true },
  { method: 'DELETE', url: () => `/api/articles/${slug}`, auth: true },
  { method: 'POST', url: () => `/api/articles/${slug}/favorite`, auth: true },
  { method: 'DELETE', url: () => `/api/articles/${slug}/favorite`, auth: true },
  { method: 'GET', url: () => `/api/articles/${slug}/comments`, auth: false },
  { method: 'POST', url: () => `/api/articles/${slug}/comments`, wrap: 'comment', fields: ['body'], auth: true },
  { method: 'DELETE', url: () => `/api/articles/${slug}/comments/${commentId}`, auth: true },
  { method: 'GET', url: () => '/api/tags', auth: false },
];

function badTokens(): string[] {
  const sign = (opts: Record<string, unknown>, payload: Record<string, unknown>) => createSigner({ key: JWT_SECRET, algorithm: 'HS256', ...opts })(payload);
  return [
    'Token ', 'Token x', 'Token a.b.c', 'Bearer', 'Token ' + 'A'.repeat(8000), 'token ' + user.token, user.token, `Token ${user.token}x`,
    `Token ${user.token.split('.').slice(0, 2).join('.')}.`, 'Token eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.',
    // valid signature, wrong claims: no issuer, expired, non-numeric subject, a user that does not exist
    `Token ${sign({}, { sub: '1' })}`,
    `Token ${sign({ iss: 'conduit', expiresIn: 1 }, { sub: '1', exp: 1 })}`,
    `Token ${sign({ iss: 'conduit' }, { sub: 'admin' })}`,
    `Token ${sign({ iss: 'conduit' }, { sub: '-5' })}`,
    `Token ${sign({ iss: 'conduit' }, { sub: '999999999' })}`,
    `Token ${createSigner({ key: 'another-secret-another-secret-another', algorithm: 'HS256', iss: 'conduit' })({ sub: '1' })}`,
  ];
}

function generate(count: number): InjectOptions[] {
  const r = rng(20_261_128);
  const tokens = badTokens();
  const out: InjectOptions[] = [];
  while (out.length < count) {
    const route = pick(r, routes);
    const kind = Math.floor(r() * 8);
    const headers: Record<string, string> = {};
    if (route.auth || r() < 0.3) headers.authorization = r() < 0.6 ? pick(r, tokens) : `Token ${user.token}`;
    let url = route.url();
    let payload: string | undefined;
    switch (kind) {
      case 0: { // wrong types in each field
        const inner: Record<string, unknown> = {};
        for (const f of route.fields ?? ['x']) inner[f] = pick(r, WEIRD_VALUES);
        payload = JSON.stringify(route.wrap ? { [route.wrap]: inner } : inner);
        break;
      }
      case 1: // broken JSON
        payload = pick(r, BROKEN_JSON);
        break;
      case 2: { // hostile strings in string fields, plus unknown fields
        const inner: Record<string, unknown> = { isAdmin: true, id: 1, author_id: 1, favoritesCount: 1e9 };
        for (const f of route.fields ?? ['x']) inner[f] = f === 'tagList' ? [pick(r, HOSTILE_STRINGS), pick(r, HOSTILE_STRINGS)] : pick(r, HOSTILE_STRINGS);
        payload = JSON.stringify(route.wrap ? { [route.wrap]: inner, extra: pick(r, WEIRD_VALUES) } : inner);
        break;
      }
      case 3: { // hostile path segments and query strings
        const seg = encodeURIComponent(pick(r, HOSTILE_STRINGS).slice(0, 400));
        url = pick(r, [
          `/api/articles/${seg}`, `/api/articles/${seg}/comments`, `/api/articles/${seg}/comments/${seg}`, `/api/profiles/${seg}`,
          `/api/articles?tag=${seg}`, `/api/articles?author=${seg}&favorited=${seg}`, `/api/articles?limit=${seg}`, `/api/articles?offset=${seg}`,
          `/api/articles/${slug}/comments/${seg}`, `/api/${seg}`, `/${seg}`, `/api/articles/feed?limit=${seg}`,
        ]);
        break;
      }
      case 4: // wrong content types
        payload = pick(r, ['user=x&password=y', '<user><email>a</email></user>', '--boundary\r\n\r\n', JSON.stringify({ user: { email: 'a@b.c' } })]);
        headers['content-type'] = pick(r, ['text/plain', 'application/xml', 'multipart/form-data; boundary=boundary', 'application/x-www-form-urlencoded', 'application/json; charset=utf-16', 'image/png', '*/*', '']);
        break;
      case 5: // huge bodies (beyond the body limit or the field limits)
        payload = JSON.stringify(route.wrap ? { [route.wrap]: Object.fromEntries((route.fields ?? ['x']).map((f) => [f, 'x'.repeat(pick(r, [300, 70_000, 200_000, 600_000]))])) } : { x: 'y'.repeat(600_000) });
        break;
      case 6: // deep nesting / large arrays
        payload = JSON.stringify(route.wrap ? { [route.wrap]: { tagList: Array.from({ length: pick(r, [21, 1000]) }, (_, i) => `t${i}`), body: { nested: { deeper: [1, 2, 3] } } } } : [1]);
        break;
      default: // odd methods on valid paths and query-parameter pollution
        url = `${url}${url.includes('?') ? '&' : '?'}limit=1&limit=2&__proto__[x]=1&offset[]=1`;
        out.push({ method: pick(r, ['PATCH', 'OPTIONS', 'HEAD', 'PUT', 'DELETE', 'POST', 'GET'] as const), url, headers });
        continue;
    }
    if (payload !== undefined && headers['content-type'] === undefined) headers['content-type'] = 'application/json';
    const method = route.method === 'GET' && payload !== undefined ? 'POST' : route.method;
    out.push({ method, url, headers, payload });
  }
  return out;
}

beforeAll(async () => {
  app = await makeApp();
  [user, other] = await Promise.all([register(app, 'fuzz'), register(app, 'target')]);
  slug = (await createArticle(app, user, { title: 'Fuzz target', tagList: ['fuzz'] })).slug;
  const c = await app.inject({ method: 'POST', url: `/api/articles/${slug}/comments`, headers: other.auth, payload: { comment: { body: 'keep me' } } });
  commentId = json(c).comment.id;
});
afterAll(async () => { await app.close(); });

describe('1,200 malformed and hostile requests', () => {
  it('zero 5xx, zero hangs, errors in the RealWorld shape', async () => {
    const requests = generate(1_200);
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    for (const req of requests) {
      const res = await Promise.race([
        app.inject(req),
        new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`hang: ${req.method} ${String(req.url).slice(0, 100)}`)), 5_000)),
      ]);
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      const what = `${req.method} ${String(req.url).slice(0, 80)} [${String(req.payload ?? '').slice(0, 60)}] -> ${res.statusCode} ${res.body.slice(0, 120)}`;
      if (res.statusCode >= 500) failures.push(what);
      else if (res.statusCode >= 400 && req.method !== 'HEAD') {
        try {
          const b = res.json();
          const ok = b && typeof b.errors === 'object' && Object.values(b.errors).every((v) => Array.isArray(v) && v.every((m) => typeof m === 'string'));
          if (!ok) failures.push(`shape: ${what}`);
        } catch {
          failures.push(`not JSON: ${what}`);
        }
      }
      if (res.headers['x-content-type-options'] !== 'nosniff') failures.push(`no security headers: ${what}`);
    }
    console.log('fuzz status codes:', Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])));
    expect(failures.slice(0, 20)).toEqual([]);
    expect(requests.length).toBeGreaterThanOrEqual(1_000);
  });

  it('left the data intact (no injection took effect)', async () => {
    const a = json(await app.inject({ url: `/api/articles/${slug}` }));
    // the article may have been legitimately edited or deleted by a valid token in the fuzz; the tables must still answer
    expect([200, 404]).toContain((await app.inject({ url: `/api/articles/${slug}` })).statusCode);
    expect(a).toBeDefined();
    expect((await app.inject({ url: '/api/articles?limit=1' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/api/tags' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/api/user', headers: user.auth })).statusCode).toBe(200);
  });
});
