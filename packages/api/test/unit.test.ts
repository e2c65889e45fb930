// Pure pieces: database error classification, validation error mapping, slugs, tokens, passwords, request metrics.
import { describe, expect, it, vi } from 'vitest';
import { isDbUnavailable, isDuplicate } from '../src/db/pool.js';
import { fieldErrors } from '../src/plugins/errors.js';
import { reachableRows, slugify } from '../src/db/articles.js';
import { MAX_OFFSET } from '../src/schemas/articles.js';
import { createTokenService } from '../src/auth/token.js';
import { OWASP_SCRYPT, createPasswordHasher } from '../src/auth/password.js';
import { createTokenVersions } from '../src/auth/versions.js';
import type { Queryable } from '../src/db/pool.js';
import { Counter, Histogram, Registry } from 'prom-client';
import { RequestMetrics } from '../src/plugins/metrics.js';

describe('database errors', () => {
  it('classifies unavailability (503) apart from bugs (500)', () => {
    for (const e of [{ code: 'ECONNREFUSED' }, { code: 'PROTOCOL_SEQUENCE_TIMEOUT' }, { code: 'ER_OPTION_PREVENTS_STATEMENT' }, { fatal: true }, new Error('Queue limit reached.'), new Error('Pool is closed.')]) {
      expect(isDbUnavailable(e), JSON.stringify(e)).toBe(true);
    }
    for (const e of [{ code: 'ER_PARSE_ERROR' }, new Error('boom'), null, 'x', { code: 'ER_DUP_ENTRY' }]) expect(isDbUnavailable(e)).toBe(false);
    expect(isDuplicate({ code: 'ER_DUP_ENTRY', message: '' })).toBe(true);
  });
});

describe('validation errors', () => {
  it('name the field of the body, query or params', () => {
    expect(fieldErrors([{ instancePath: '/user/email', message: 'is invalid' }, { instancePath: '/user/email', message: 'is invalid' }], 'body')).toEqual({ email: ['is invalid'] });
    expect(fieldErrors([{ instancePath: '/article/tagList/3', message: "can't be blank" }], 'body')).toEqual({ tagList: ["can't be blank"] });
    // RealWorld conventions: missing or null is "can't be blank", any other wrong type "is invalid".
    expect(fieldErrors([{ instancePath: '/user', message: 'Invalid input: expected object, received undefined' }], 'body')).toEqual({ user: ["can't be blank"] });
    expect(fieldErrors([{ instancePath: '/user/bio', message: 'Invalid input: expected string, received null' }], 'body')).toEqual({ bio: ["can't be blank"] });
    expect(fieldErrors([{ instancePath: '/', message: 'Invalid input: expected object, received string' }], 'body')).toEqual({ body: ['is invalid'] });
    expect(fieldErrors([{ instancePath: '/limit', message: 'must be less than or equal to 100' }], 'querystring')).toEqual({ limit: ['must be less than or equal to 100'] });
    expect(fieldErrors([], 'params')).toEqual({ body: ['is invalid'] });
  });
});

describe('slugs', () => {
  it('are lowercase ASCII words joined by dashes, at most 100 characters, never empty or "feed"', () => {
    expect(slugify('How to Train Your Dragon!')).toBe('how-to-train-your-dragon');
    expect(slugify('Crème brûlée — à la carte')).toBe('creme-brulee-a-la-carte');
    expect(slugify('???')).toBe('article');
    expect(slugify('Feed')).toBe('feed-article');
    expect(slugify('a'.repeat(99) + ' bcd').length).toBeLessThanOrEqual(100);
    expect(slugify('a'.repeat(99) + ' bcd')).not.toMatch(/-$/);
  });
});

describe('tokens and passwords', () => {
  it('signs and verifies; rejects tampering and other secrets', () => {
    const t = createTokenService('s'.repeat(32), 3_600_000);
    const token = t.sign({ userId: 42, version: 3, authTime: 1_700_000_000 });
    expect(t.verify(token)).toEqual({ userId: 42, version: 3, authTime: 1_700_000_000 });
    expect(t.verify(token.slice(0, -2) + 'xx')).toBeNull();
    expect(createTokenService('o'.repeat(32), 3_600_000).verify(token)).toBeNull();
    expect(t.verify('not-a-token')).toBeNull();
  });

  it('expire after the configured lifetime', () => {
    const token = createTokenService('s'.repeat(32), 1_000).sign({ userId: 7, version: 0, authTime: 0 });
    const exp = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number; iat: number };
    expect(exp.exp - exp.iat).toBe(1);
  });

  it('a verified token is kept until it expires, never past it', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(1_800_000_000_000);
      const t = createTokenService('s'.repeat(32), 2_000);
      const token = t.sign({ userId: 7, version: 1, authTime: 0 });
      expect(t.verify(token)).toEqual({ userId: 7, version: 1, authTime: 0 });
      vi.setSystemTime(1_800_000_001_500);
      expect(t.verify(token)).toEqual({ userId: 7, version: 1, authTime: 0 });
      vi.setSystemTime(1_800_000_002_500);
      expect(t.verify(token)).toBeNull();
      // A tampered copy of a kept token is not the same key: verified (and refused) on its own.
      expect(t.verify(token.slice(0, -2) + 'xx')).toBeNull();
    } finally {
      vi.useRealTimers();
    }
  });

  it('hashes with a salt at the OWASP cost by default; verifies only the right password; flags other parameters for a rehash', async () => {
    const owasp = createPasswordHasher();
    expect(owasp.params).toEqual(OWASP_SCRYPT);
    const [h1, h2] = await Promise.all([owasp.hash('correct horse'), owasp.hash('correct horse')]);
    expect(h1).not.toBe(h2);
    expect(h1).toMatch(/^scrypt\$16384\$8\$5\$/);
    expect(await owasp.verify('correct horse', h1)).toBe(true);
    expect(await owasp.verify('correct horsf', h1)).toBe(false);
    expect(await owasp.verify('x', 'garbage')).toBe(false);
    expect(owasp.needsRehash(h1)).toBe(false);
    // A hash of the previous cost (N=2^14, p=1) still verifies, and is due for a rehash.
    const old = await createPasswordHasher({ N: 16_384, r: 8, p: 1 }).hash('correct horse');
    expect(await owasp.verify('correct horse', old)).toBe(true);
    expect(owasp.needsRehash(old)).toBe(true);
    // OWASP's first setting (N=2^17, 128 MiB) is within the memory bound.
    const big = await createPasswordHasher({ N: 2 ** 17, r: 8, p: 1 }).hash('x');
    expect(await owasp.verify('x', big)).toBe(true);
  });
});

describe('token versions (cached per instance)', () => {
  /** A fake endpoint answering `SELECT token_version` from a map, counting queries. */
  const endpoint = (versions: Map<number, number>) => {
    const q = { count: 0, query: (async (opts: { values: unknown[] }) => {
      q.count++;
      const v = versions.get(opts.values[0] as number);
      return [v === undefined ? [] : [{ token_version: v }], []];
    }) as unknown as Queryable['query'] };
    return q;
  };

  it('accepts only the current version, caches it for 5 s, and asks the writer when the reader is behind', async () => {
    let t = 0;
    const writerMap = new Map([[1, 2]]);
    const readerMap = new Map([[1, 1]]);
    const writer = endpoint(writerMap);
    const reader = endpoint(readerMap);
    const v = createTokenVersions({ reader, writer }, () => t);
    // The reader lags (version 1), the token has 2: the writer confirms, no false 401.
    expect(await v.isCurrent(1, 2)).toBe(true);
    expect(writer.count).toBe(1);
    // Cached: no query, and an older token is refused.
    expect(await v.isCurrent(1, 2)).toBe(true);
    expect(await v.isCurrent(1, 1)).toBe(false);
    expect(reader.count + writer.count).toBe(2);
    // A password change elsewhere: the cache says 2 until it expires, then the database's 3 wins.
    writerMap.set(1, 3);
    readerMap.set(1, 3);
    expect(await v.isCurrent(1, 2)).toBe(true);
    t += 5_001;
    expect(await v.isCurrent(1, 2)).toBe(false);
    // Learned locally (this instance took the change): at once.
    v.learned(1, 4);
    expect(await v.isCurrent(1, 3)).toBe(false);
    // Unknown user: refused.
    expect(await v.isCurrent(99, 0)).toBe(false);
  });
});

describe('request metrics', () => {
  it('expose exactly what prom-client\'s Counter and Histogram would, and cap the series', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    for (const r of [ours, theirs]) r.setDefaultLabels({ instance_id: 'api-1', zone: 'zone-a' });
    const m = new RequestMetrics(ours);
    const labelNames = ['method', 'route', 'status_code'];
    const count = new Counter({ name: 'http_requests_total', help: 'HTTP requests', labelNames, registers: [theirs] });
    const time = new Histogram({
      name: 'http_request_duration_seconds', help: 'HTTP request latency', labelNames, registers: [theirs],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    });
    const seen: [string, string | undefined, number, number][] = [['GET', '/a/:id', 200, 0.003], ['GET', '/a/:id', 200, 0.0001], ['POST', undefined, 404, 7], ['GET', '/a/:id', 200, 0.005], ['DELETE', '/a/:id', 503, 0.25]];
    for (const [method, route, status, s] of seen) {
      m.observe(method, route, status, s);
      const l = { method, route: route ?? 'unmatched', status_code: String(status) };
      count.inc(l);
      time.observe(l, s);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).toContain('http_request_duration_seconds_bucket{le="0.005",instance_id="api-1",zone="zone-a",method="GET",route="/a/:id",status_code="200"} 3');
    // Unexpected label values (thousands of routes or statuses) share one series instead of growing memory.
    for (let i = 0; i < 2_100; i++) m.observe('GET', `/r${i}`, 200, 0.001);
    const text = await ours.metrics();
    expect(text.match(/^http_requests_total\{/gm)).toHaveLength(2_000 + 1);
    expect(text).toContain('http_requests_total{method="other",route="overflow",status_code="other",instance_id="api-1",zone="zone-a"} 103');
  });
});

describe('articlesCount: at most the rows a client can page to', () => {
  it('covers every page the API serves, and no page link drawn from it is refused', () => {
    for (const limit of [1, 3, 7, 10, 20, 64, 100]) {
      const count = reachableRows(limit);
      const pages = Math.ceil(count / limit);
      // The last page a client draws from the count starts at an offset the API accepts …
      expect((pages - 1) * limit, `limit ${limit}`).toBeLessThanOrEqual(MAX_OFFSET);
      // … and the next one would not: the count covers every row the API can serve.
      expect(pages * limit, `limit ${limit}`).toBeGreaterThan(MAX_OFFSET);
      expect(count % limit).toBe(0);
    }
    expect(reachableRows(20)).toBe(10_020);
    expect(reachableRows(100)).toBe(10_100);
  });
});
