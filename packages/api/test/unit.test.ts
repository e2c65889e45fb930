// Pure pieces: database error classification, validation error mapping, slugs, tokens, passwords.
import { describe, expect, it } from 'vitest';
import { isDbUnavailable, isDuplicate } from '../src/db/pool.js';
import { fieldErrors } from '../src/plugins/errors.js';
import { slugify } from '../src/db/articles.js';
import { createTokenService } from '../src/auth/token.js';
import { OWASP_SCRYPT, createPasswordHasher } from '../src/auth/password.js';
import { createTokenVersions } from '../src/auth/versions.js';
import type { Queryable } from '../src/db/pool.js';

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
