import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { JWT_SECRET, json, makeApp, register, uid } from './helpers.js';
import { rows } from '../src/db/pool.js';

let app: FastifyInstance;
beforeAll(async () => { app = await makeApp(); });
afterAll(async () => { await app.close(); });

describe('POST /api/users (register)', () => {
  it('creates a user: 201 with a token, null bio and image', async () => {
    const username = `reg${uid()}`;
    const res = await app.inject({ method: 'POST', url: '/api/users', payload: { user: { username, email: `${username}@example.test`, password: 'long-enough' } } });
    expect(res.statusCode).toBe(201);
    const { user } = json(res);
    expect(user).toEqual({ username, email: `${username}@example.test`, bio: null, image: null, token: expect.any(String) });
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('409 on a taken username or email (each named)', async () => {
    const u = await register(app);
    const dupName = await app.inject({ method: 'POST', url: '/api/users', payload: { user: { username: u.username, email: `other${uid()}@example.test`, password: 'long-enough' } } });
    expect(dupName.statusCode).toBe(409);
    expect(json(dupName)).toEqual({ errors: { username: ['has already been taken'] } });
    const dupEmail = await app.inject({ method: 'POST', url: '/api/users', payload: { user: { username: `o${uid()}`, email: u.email, password: 'long-enough' } } });
    expect(dupEmail.statusCode).toBe(409);
    expect(json(dupEmail)).toEqual({ errors: { email: ['has already been taken'] } });
    const both = await app.inject({ method: 'POST', url: '/api/users', payload: { user: { username: u.username.toUpperCase(), email: u.email.toUpperCase(), password: 'long-enough' } } });
    expect(both.statusCode).toBe(409);
    expect(Object.keys(json(both).errors).sort()).toEqual(['email', 'username']);
  });

  it('422 with field names for invalid input', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/users', payload: { user: {} } });
    expect(res.statusCode).toBe(422);
    expect(Object.keys(json(res).errors).sort()).toEqual(['email', 'password', 'username']);
    const bad = await app.inject({ method: 'POST', url: '/api/users', payload: { user: { username: 'a b', email: 'not-an-email', password: 'short' } } });
    expect(bad.statusCode).toBe(422);
    expect(Object.keys(json(bad).errors).sort()).toEqual(['email', 'password', 'username']);
    const noUser = await app.inject({ method: 'POST', url: '/api/users', payload: { username: 'x' } });
    expect(noUser.statusCode).toBe(422);
    expect(json(noUser).errors.user).toBeDefined();
  });
});

describe('POST /api/users/login', () => {
  it('logs in with the right password, 401 otherwise', async () => {
    const u = await register(app);
    const ok = await app.inject({ method: 'POST', url: '/api/users/login', payload: { user: { email: u.email, password: u.password } } });
    expect(ok.statusCode).toBe(200);
    expect(json(ok).user).toMatchObject({ username: u.username, email: u.email, token: expect.any(String) });
    const wrong = await app.inject({ method: 'POST', url: '/api/users/login', payload: { user: { email: u.email, password: 'wrong-password' } } });
    expect(wrong.statusCode).toBe(401);
    expect(json(wrong).errors).toBeDefined();
    const unknown = await app.inject({ method: 'POST', url: '/api/users/login', payload: { user: { email: `nobody${uid()}@example.test`, password: 'whatever1' } } });
    expect(unknown.statusCode).toBe(401);
    expect(unknown.body).toBe(wrong.body);
  });

  it('422 when fields are missing', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/users/login', payload: { user: { email: 'a@b.c' } } });
    expect(res.statusCode).toBe(422);
    expect(json(res).errors.password).toBeDefined();
  });
});

describe('GET /api/user', () => {
  it('returns the current user with Token or Bearer', async () => {
    const u = await register(app);
    for (const scheme of ['Token', 'Bearer']) {
      const res = await app.inject({ url: '/api/user', headers: { authorization: `${scheme} ${u.token}` } });
      expect(res.statusCode).toBe(200);
      expect(json(res).user).toMatchObject({ username: u.username, email: u.email });
      expect(res.headers['cache-control']).toBe('no-store');
    }
  });

  it('401 without a token, with a bad one, with another secret', async () => {
    const missing = await app.inject({ url: '/api/user' });
    expect(missing.statusCode).toBe(401);
    expect(json(missing)).toEqual({ errors: { token: ['is missing'] } });
    for (const h of ['Token abc', 'Token a.b.c', 'Basic dXNlcjpwYXNz', 'Token', 'eyJhbGciOiJIUzI1NiJ9.e30.x',
      // signed with another secret
      'Token eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIiwiaXNzIjoiY29uZHVpdCJ9.2vW1n0v6bJ0E3hO7dYcM8y1l7YQ4xT3lA8m8pV0Jv1E',
      // alg none
      'Token eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiIxIiwiaXNzIjoiY29uZHVpdCJ9.']) {
      const res = await app.inject({ url: '/api/user', headers: { authorization: h } });
      expect(res.statusCode, h).toBe(401);
      expect(json(res)).toEqual({ errors: { token: ['is invalid'] } });
    }
  });
});

describe('PUT /api/user', () => {
  it('updates fields; empty bio/image become null; token stays valid after a rename', async () => {
    const u = await register(app);
    const set = await app.inject({ method: 'PUT', url: '/api/user', headers: u.auth, payload: { user: { bio: 'Hello', image: 'https://img.example/a.png' } } });
    expect(set.statusCode).toBe(200);
    expect(json(set).user).toMatchObject({ bio: 'Hello', image: 'https://img.example/a.png' });
    const clear = await app.inject({ method: 'PUT', url: '/api/user', headers: u.auth, payload: { user: { bio: '', image: '' } } });
    expect(json(clear).user).toMatchObject({ bio: null, image: null });
    await app.inject({ method: 'PUT', url: '/api/user', headers: u.auth, payload: { user: { bio: 'again' } } });
    const nul = await app.inject({ method: 'PUT', url: '/api/user', headers: u.auth, payload: { user: { bio: null } } });
    expect(json(nul).user.bio).toBeNull();
    const newName = `ren${uid()}`;
    const ren = await app.inject({ method: 'PUT', url: '/api/user', headers: u.auth, payload: { user: { username: newName } } });
    expect(json(ren).user.username).toBe(newName);
    const me = await app.inject({ url: '/api/user', headers: u.auth });
    expect(json(me).user.username).toBe(newName);
    expect((await app.inject({ url: `/api/profiles/${newName}` })).statusCode).toBe(200);
    expect((await app.inject({ url: `/api/profiles/${u.username}` })).statusCode).toBe(404);
  });

  it('changes the password', async () => {
    const u = await register(app);
    const res = await app.inject({ method: 'PUT', url: '/api/user', headers: u.auth, payload: { user: { password: 'a-new-password' } } });
    expect(res.statusCode).toBe(200);
    const old = await app.inject({ method: 'POST', url: '/api/users/login', payload: { user: { email: u.email, password: u.password } } });
    expect(old.statusCode).toBe(401);
    const now = await app.inject({ method: 'POST', url: '/api/users/login', payload: { user: { email: u.email, password: 'a-new-password' } } });
    expect(now.statusCode).toBe(200);
  });

  it('422 for a taken username/email, an empty update, bad values; 401 without token', async () => {
    const a = await register(app);
    const b = await register(app);
    const taken = await app.inject({ method: 'PUT', url: '/api/user', headers: b.auth, payload: { user: { username: a.username } } });
    expect(taken.statusCode).toBe(422);
    expect(json(taken)).toEqual({ errors: { username: ['has already been taken'] } });
    const takenEmail = await app.inject({ method: 'PUT', url: '/api/user', headers: b.auth, payload: { user: { email: a.email } } });
    expect(json(takenEmail)).toEqual({ errors: { email: ['has already been taken'] } });
    // keeping one's own name is fine
    expect((await app.inject({ method: 'PUT', url: '/api/user', headers: b.auth, payload: { user: { username: b.username } } })).statusCode).toBe(200);
    expect((await app.inject({ method: 'PUT', url: '/api/user', headers: b.auth, payload: { user: {} } })).statusCode).toBe(422);
    const img = await app.inject({ method: 'PUT', url: '/api/user', headers: b.auth, payload: { user: { image: 'javascript:alert(1)' } } });
    expect(img.statusCode).toBe(422);
    expect(json(img).errors.image).toBeDefined();
    expect((await app.inject({ method: 'PUT', url: '/api/user', headers: b.auth, payload: { user: { email: 42 } } })).statusCode).toBe(422);
    expect((await app.inject({ method: 'PUT', url: '/api/user', payload: { user: { bio: 'x' } } })).statusCode).toBe(401);
  });
});

describe('rate limit on login and registration', () => {
  it('answers 429 in the RealWorld shape past the limit', async () => {
    const limited = await makeApp({ RATE_LIMIT_AUTH_PER_MIN: '3' });
    // Counters are shared in Redis by every app of the project: a client address of this run only.
    const remoteAddress = `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;
    try {
      const codes: number[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await limited.inject({ method: 'POST', url: '/api/users/login', remoteAddress, payload: { user: { email: `x${uid()}@y.z`, password: 'whatever1' } } });
        codes.push(res.statusCode);
        if (res.statusCode === 429) {
          expect(json(res).errors.body[0]).toMatch(/rate limit/i);
          expect(res.headers['x-content-type-options']).toBe('nosniff');
        }
      }
      expect(codes).toEqual([401, 401, 401, 429, 429]);
      // other routes are not limited
      expect((await limited.inject({ url: '/api/tags' })).statusCode).toBe(200);
    } finally {
      await limited.close();
    }
  });
});

describe('sessions: token version, lifetime, current password for email/password changes', () => {
  const claims = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { sub: string; tv: number; at: number; iat: number; exp: number };
  const put = (token: string, user: Record<string, unknown>) =>
    app.inject({ method: 'PUT', url: '/api/user', headers: { authorization: `Token ${token}` }, payload: { user } });
  /** A token of this user whose sign-in was an hour ago (what a stolen, long-lived session looks like). */
  const oldSignIn = (token: string) => {
    const c = claims(token);
    return app.tokens.sign({ userId: Number(c.sub), version: c.tv, authTime: Math.floor(Date.now() / 1000) - 3600 });
  };

  it('a password change ends every older token (this instance at once, another instance on its first look) and returns a working one', async () => {
    const u = await register(app);
    const login = json(await app.inject({ method: 'POST', url: '/api/users/login', payload: { user: { email: u.email, password: u.password } } })).user.token as string;
    expect((await app.inject({ url: '/api/user', headers: { authorization: `Token ${login}` } })).statusCode).toBe(200);
    const other = await makeApp();
    try {
      expect((await other.inject({ url: '/api/user', headers: u.auth })).statusCode).toBe(200);
      const changed = await put(u.token, { password: 'a-new-password' });
      expect(changed.statusCode).toBe(200);
      const fresh = json(changed).user.token as string;
      expect(claims(fresh).tv).toBe(claims(u.token).tv + 1);
      for (const old of [u.token, login]) {
        const res = await app.inject({ url: '/api/user', headers: { authorization: `Token ${old}` } });
        expect(res.statusCode).toBe(401);
        expect(json(res)).toEqual({ errors: { token: ['is invalid'] } });
        // Writes and optional-auth reads too, not only GET /user.
        expect((await app.inject({ method: 'POST', url: '/api/articles', headers: { authorization: `Token ${old}` }, payload: { article: { title: 't', description: 'd', body: 'b' } } })).statusCode).toBe(401);
      }
      expect((await app.inject({ url: '/api/user', headers: { authorization: `Token ${fresh}` } })).statusCode).toBe(200);
      // The other instance had the old version cached (at most 5 s, TOKEN_VERSION_TTL_MS); the new token,
      // newer than its entry, makes it look again: accepted, and from then on the old one is refused there too.
      expect((await other.inject({ url: '/api/user', headers: { authorization: `Token ${fresh}` } })).statusCode).toBe(200);
      expect((await other.inject({ url: '/api/user', headers: u.auth })).statusCode).toBe(401);
    } finally {
      await other.close();
    }
  });

  it('a token of the previous release (no version, no sign-in time) works until the first password change', async () => {
    const u = await register(app);
    const { createSigner } = await import('fast-jwt');
    const legacy = createSigner({ key: JWT_SECRET, algorithm: 'HS256', expiresIn: 3_600_000, iss: 'conduit' })({ sub: claims(u.token).sub });
    expect((await app.inject({ url: '/api/user', headers: { authorization: `Token ${legacy}` } })).statusCode).toBe(200);
    // Its sign-in time is unknown: it cannot change the password without the current one.
    expect((await put(legacy, { password: 'a-new-password' })).statusCode).toBe(422);
    expect((await put(u.token, { password: 'a-new-password' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/api/user', headers: { authorization: `Token ${legacy}` } })).statusCode).toBe(401);
  });

  it('email and password changes need currentPassword once the sign-in is older than 10 minutes; right after it (RealWorld suites) they do not', async () => {
    const u = await register(app);
    const stale = oldSignIn(u.token);
    // Not a sensitive change: the bio, or the same email again (the Postman suite's PUT /user).
    expect((await put(stale, { bio: 'still fine' })).statusCode).toBe(200);
    expect((await put(stale, { email: u.email })).statusCode).toBe(200);
    // A re-issued token (GET /user) keeps the sign-in time: it does not make a stale session fresh.
    const reissued = json(await app.inject({ url: '/api/user', headers: { authorization: `Token ${stale}` } })).user.token as string;
    expect(claims(reissued).at).toBe(claims(stale).at);
    const newEmail = `moved${uid()}@example.test`;
    for (const change of [{ email: newEmail }, { password: 'a-new-password' }]) {
      const res = await put(stale, change);
      expect(res.statusCode).toBe(422);
      expect(json(res)).toEqual({ errors: { currentPassword: ['is required to change the email or password more than 10 minutes after signing in'] } });
      const wrong = await put(stale, { ...change, currentPassword: 'not-the-password' });
      expect(wrong.statusCode).toBe(422);
      expect(json(wrong)).toEqual({ errors: { currentPassword: ['is invalid'] } });
    }
    const ok = await put(stale, { email: newEmail, currentPassword: u.password });
    expect(ok.statusCode).toBe(200);
    expect(json(ok).user.email).toBe(newEmail);
    // Proving the password is a fresh sign-in: the returned token may change the password without it.
    const pw = await put(json(ok).user.token, { password: 'a-new-password' });
    expect(pw.statusCode).toBe(200);
    expect((await app.inject({ method: 'POST', url: '/api/users/login', payload: { user: { email: newEmail, password: 'a-new-password' } } })).statusCode).toBe(200);
    // The Hurl suite's flow: sign in, then change username and email at once, no currentPassword.
    const v = await register(app);
    const login = json(await app.inject({ method: 'POST', url: '/api/users/login', payload: { user: { email: v.email, password: v.password } } })).user.token as string;
    const both = await put(login, { username: `${v.username}_upd`, email: `upd${uid()}@example.test` });
    expect(both.statusCode).toBe(200);
  });

  it('wrong current passwords are throttled per account (429)', async () => {
    const limited = await makeApp({ RATE_LIMIT_LOGIN_PER_ACCOUNT: '2' });
    try {
      const u = await register(limited);
      const stale = oldSignIn(u.token);
      const codes: number[] = [];
      for (let i = 0; i < 3; i++) {
        codes.push((await limited.inject({ method: 'PUT', url: '/api/user', headers: { authorization: `Token ${stale}` }, payload: { user: { password: 'a-new-password', currentPassword: `guess-${i}` } } })).statusCode);
      }
      expect(codes).toEqual([422, 422, 429]);
    } finally {
      await limited.close();
    }
  });

  it('tokens live api.auth.tokenLifetimeHours (default 24 h)', async () => {
    const u = await register(app);
    expect(claims(u.token).exp - claims(u.token).iat).toBe(24 * 3600);
    const short = await makeApp({ TOKEN_LIFETIME_HOURS: '1' });
    try {
      const v = await register(short);
      expect(claims(v.token).exp - claims(v.token).iat).toBe(3600);
    } finally {
      await short.close();
    }
  });

  it('a sign-in rehashes a password stored at an older scrypt cost', async () => {
    const u = await register(app); // SCRYPT_P=1 in the tests: the previous cost
    const owasp = await makeApp({ SCRYPT_P: '5' });
    try {
      const hash = async () => (await rows<{ password_hash: string }>(owasp.db.writer, 'SELECT password_hash FROM users WHERE email = ?', [u.email]))[0]!.password_hash;
      expect(await hash()).toMatch(/^scrypt\$16384\$8\$1\$/);
      expect((await owasp.inject({ method: 'POST', url: '/api/users/login', payload: { user: { email: u.email, password: u.password } } })).statusCode).toBe(200);
      expect(await hash()).toMatch(/^scrypt\$16384\$8\$5\$/);
      // The same password still signs in, and a wrong one still does not.
      expect((await owasp.inject({ method: 'POST', url: '/api/users/login', payload: { user: { email: u.email, password: u.password } } })).statusCode).toBe(200);
      expect((await owasp.inject({ method: 'POST', url: '/api/users/login', payload: { user: { email: u.email, password: 'wrong-password' } } })).statusCode).toBe(401);
    } finally {
      await owasp.close();
    }
  });
});
