// Pure pieces: database error classification, validation error mapping, slugs, tokens, passwords.
import { describe, expect, it } from 'vitest';
import { isDbUnavailable, isDuplicate } from '../src/db/pool.js';
import { fieldErrors } from '../src/plugins/errors.js';
import { slugify } from '../src/db/articles.js';
import { createTokenService } from '../src/auth/token.js';
import { hashPassword, verifyPassword } from '../src/auth/password.js';

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
    const t = createTokenService('s'.repeat(32));
    const token = t.sign(42);
    expect(t.verify(token)).toBe(42);
    expect(t.verify(token.slice(0, -2) + 'xx')).toBeNull();
    expect(createTokenService('o'.repeat(32)).verify(token)).toBeNull();
    expect(t.verify('not-a-token')).toBeNull();
  });

  it('hashes with a salt; verifies only the right password', async () => {
    const [h1, h2] = await Promise.all([hashPassword('correct horse'), hashPassword('correct horse')]);
    expect(h1).not.toBe(h2);
    expect(h1).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(await verifyPassword('correct horse', h1)).toBe(true);
    expect(await verifyPassword('correct horsf', h1)).toBe(false);
    expect(await verifyPassword('x', 'garbage')).toBe(false);
  });
});
