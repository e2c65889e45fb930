// Users and authentication: POST /users, POST /users/login, GET /user, PUT /user.
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { findUserByEmail, findUserById, insertUser, replacePasswordHash, takenFields, updateUser, type UserPatch, type UserRecord } from '../db/users.js';
import { isDuplicate } from '../db/pool.js';
import { HttpError, conflict, unauthorized } from '../errors.js';
import { purgeFor } from '../edge/keys.js';
import { currentUserSchema, loginSchema, registerSchema, updateUserSchema, type UserResponse } from '../schemas/users.js';

export interface UserRoutesOptions {
  authPerMinute: number;
  loginPerAccountPer15Min: number;
  /** An email or password change needs `currentPassword` unless the token's sign-in is younger than this. */
  recentSignInMs: number;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

const emptyToNull = (s: string | null | undefined) => (s === undefined ? undefined : s === null || s.trim() === '' ? null : s);

const usersRoutes: FastifyPluginAsyncZod<UserRoutesOptions> = async (app, opts) => {
  const rateLimit = { max: opts.authPerMinute, timeWindow: '1 minute' };
  // Per account, from any IP: password guessing spread over many addresses still meets this one.
  // groupId names the store's key prefix (security.ts), the plugin's typings omit it here.
  const perAccount = app.createRateLimit({
    max: opts.loginPerAccountPer15Min, timeWindow: 15 * 60_000, groupId: 'login-account',
    keyGenerator: (req: FastifyRequest) => createHash('sha256').update((req.body as { user: { email: string } }).user.email.trim().toLowerCase()).digest('base64url'),
  } as Parameters<typeof app.createRateLimit>[0]);
  // Current-password checks on PUT /user, per account: a stolen token must not become a password oracle.
  const reauthPerAccount = app.createRateLimit({
    max: opts.loginPerAccountPer15Min, timeWindow: 15 * 60_000, groupId: 'reauth-account',
    keyGenerator: (req: FastifyRequest) => String(req.userId),
  } as Parameters<typeof app.createRateLimit>[0]);
  /** `authTime`: the sign-in the new token descends from (now for a sign-in, kept on a re-issue). */
  const render = (u: UserRecord, authTime: number): UserResponse => ({
    user: { email: u.email, token: app.tokens.sign({ userId: u.id, version: u.tokenVersion, authTime }), username: u.username, bio: u.bio, image: u.image },
  });
  const throttled = (reply: { header(k: string, v: string): unknown }, field: string, what: string, r: Awaited<ReturnType<typeof perAccount>>) => {
    if (!('isExceeded' in r) || !r.isExceeded) return;
    reply.header('retry-after', String(r.ttlInSeconds));
    throw new HttpError(429, { [field]: [`too many ${what} for this account, retry in ${r.ttlInSeconds} s`] });
  };

  app.post('/users/login', { schema: loginSchema, config: { rateLimit } }, async (req, reply) => {
    const { email, password } = req.body.user;
    throttled(reply, 'email', 'sign-in attempts', await perAccount(req));
    // The writer: a user who just registered must be able to log in even if a replica lags.
    const user = await findUserByEmail(app.db.writer, email);
    const ok = await app.passwords.verify(password, user?.passwordHash ?? (await app.passwords.dummy()));
    if (!user || !ok) throw new HttpError(401, { credentials: ['email or password is invalid'] });
    // A hash made with older (weaker) parameters is replaced now, while the password is known.
    if (app.passwords.needsRehash(user.passwordHash)) {
      const newHash = await app.passwords.hash(password);
      await app.db.tx((conn) => replacePasswordHash(conn, user.id, user.passwordHash, newHash));
    }
    return render(user, nowSeconds());
  });

  app.post('/users', { schema: registerSchema, config: { rateLimit } }, async (req, reply) => {
    const { username, email, password } = req.body.user;
    const taken = await takenFields(app.db.writer, username, email);
    if (taken.username || taken.email) throw conflict([...(taken.username ? ['username'] : []), ...(taken.email ? ['email'] : [])]);
    const passwordHash = await app.passwords.hash(password);
    let id: number;
    try {
      id = await app.db.tx((conn) => insertUser(conn, { username, email, passwordHash }));
    } catch (err) {
      if (isDuplicate(err)) throw conflict([err.message.includes('email') ? 'email' : 'username']);
      throw err;
    }
    // A "not found" for this name may be cached (a profile asked for before the sign-up): drop it now.
    await app.cache.bump();
    req.purge(purgeFor.register());
    const user = await findUserById(app.db.writer, id);
    return reply.code(201).send(render(user!, nowSeconds()));
  });

  app.get('/user', { schema: currentUserSchema, config: { auth: 'required' } }, async (req) => {
    const user = (await findUserById(await req.readPool(), req.userId!)) ?? (await findUserById(app.db.writer, req.userId!));
    if (!user) throw unauthorized('is invalid');
    return render(user, req.authTime);
  });

  app.put('/user', { schema: updateUserSchema, config: { auth: 'required' } }, async (req, reply) => {
    const id = req.userId!;
    const u = req.body.user;
    const current = await findUserById(app.db.writer, id);
    if (!current) throw unauthorized('is invalid');
    // Changing what signs in (email, password) proves the password: `currentPassword`, or a sign-in within
    // recentSignInMs (RealWorld clients do not know the field; they change these right after signing in).
    let authTime = req.authTime;
    const sensitive = (u.email !== undefined && u.email !== current.email) || (u.password !== undefined && u.password !== '');
    if (sensitive && u.currentPassword !== undefined) {
      throttled(reply, 'currentPassword', 'current-password checks', await reauthPerAccount(req));
      if (!(await app.passwords.verify(u.currentPassword, current.passwordHash))) throw new HttpError(422, { currentPassword: ['is invalid'] });
      authTime = nowSeconds();
    } else if (sensitive && (Date.now() - req.authTime * 1000) > opts.recentSignInMs) {
      throw new HttpError(422, {
        currentPassword: [`is required to change the email or password more than ${Math.round(opts.recentSignInMs / 60_000)} minutes after signing in`],
      });
    }
    const taken = await takenFields(app.db.writer, u.username ?? null, u.email ?? null, id);
    if (taken.username || taken.email) {
      // The spec has no 409 for this operation: a taken name is invalid input here.
      throw new HttpError(422, Object.fromEntries([...(taken.username ? ['username'] : []), ...(taken.email ? ['email'] : [])].map((f) => [f, ['has already been taken']])));
    }
    const patch: UserPatch = { username: u.username, email: u.email, bio: emptyToNull(u.bio), image: emptyToNull(u.image) };
    // An empty password means "unchanged" (clients send every field of the settings form).
    if (u.password !== undefined && u.password !== '') patch.passwordHash = await app.passwords.hash(u.password);
    try {
      await app.db.tx((conn) => updateUser(conn, id, patch));
    } catch (err) {
      if (isDuplicate(err)) throw new HttpError(422, { [err.message.includes('email') ? 'email' : 'username']: ['has already been taken'] });
      throw err;
    }
    // Profiles and articles embed the author's name, bio and image.
    await app.cache.bump();
    req.purge(purgeFor.updateUser(id, {
      username: patch.username !== undefined && patch.username !== current.username,
      shown: (patch.bio !== undefined && patch.bio !== current.bio) || (patch.image !== undefined && patch.image !== current.image),
    }));
    const updated = (await findUserById(app.db.writer, id))!;
    // The older tokens of this user stop here at once, on the other instances within TOKEN_VERSION_TTL_MS.
    if (updated.tokenVersion !== current.tokenVersion) app.tokenVersions.learned(id, updated.tokenVersion);
    return render(updated, authTime);
  });
};

export default usersRoutes;
