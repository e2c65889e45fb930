// Users and authentication: POST /users, POST /users/login, GET /user, PUT /user.
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { dummyHash, hashPassword, verifyPassword } from '../auth/password.js';
import { findUserByEmail, findUserById, insertUser, takenFields, updateUser, type UserPatch, type UserRecord } from '../db/users.js';
import { isDuplicate } from '../db/pool.js';
import { HttpError, conflict, unauthorized } from '../errors.js';
import { purgeFor } from '../edge/keys.js';
import { currentUserSchema, loginSchema, registerSchema, updateUserSchema, type UserResponse } from '../schemas/users.js';

export interface UserRoutesOptions {
  authPerMinute: number;
  loginPerAccountPer15Min: number;
}

const emptyToNull = (s: string | null | undefined) => (s === undefined ? undefined : s === null || s.trim() === '' ? null : s);

const usersRoutes: FastifyPluginAsyncZod<UserRoutesOptions> = async (app, opts) => {
  const rateLimit = { max: opts.authPerMinute, timeWindow: '1 minute' };
  // Per account, from any IP: password guessing spread over many addresses still meets this one.
  // groupId names the store's key prefix (security.ts), the plugin's typings omit it here.
  const perAccount = app.createRateLimit({
    max: opts.loginPerAccountPer15Min, timeWindow: 15 * 60_000, groupId: 'login-account',
    keyGenerator: (req: FastifyRequest) => createHash('sha256').update((req.body as { user: { email: string } }).user.email.trim().toLowerCase()).digest('base64url'),
  } as Parameters<typeof app.createRateLimit>[0]);
  const render = (u: UserRecord): UserResponse => ({
    user: { email: u.email, token: app.tokens.sign(u.id), username: u.username, bio: u.bio, image: u.image },
  });

  app.post('/users/login', { schema: loginSchema, config: { rateLimit } }, async (req, reply) => {
    const { email, password } = req.body.user;
    const account = await perAccount(req);
    if ('isExceeded' in account && account.isExceeded) {
      reply.header('retry-after', String(account.ttlInSeconds));
      throw new HttpError(429, { email: [`too many sign-in attempts for this account, retry in ${account.ttlInSeconds} s`] });
    }
    // The writer: a user who just registered must be able to log in even if a replica lags.
    const user = await findUserByEmail(app.db.writer, email);
    const ok = await verifyPassword(password, user?.passwordHash ?? (await dummyHash()));
    if (!user || !ok) throw new HttpError(401, { credentials: ['email or password is invalid'] });
    return render(user);
  });

  app.post('/users', { schema: registerSchema, config: { rateLimit } }, async (req, reply) => {
    const { username, email, password } = req.body.user;
    const taken = await takenFields(app.db.writer, username, email);
    if (taken.username || taken.email) throw conflict([...(taken.username ? ['username'] : []), ...(taken.email ? ['email'] : [])]);
    const passwordHash = await hashPassword(password);
    let id: number;
    try {
      id = await insertUser(app.db.writer, { username, email, passwordHash });
    } catch (err) {
      if (isDuplicate(err)) throw conflict([err.message.includes('email') ? 'email' : 'username']);
      throw err;
    }
    // A "not found" for this name may be cached (a profile asked for before the sign-up): drop it now.
    await app.cache.bump();
    req.purge(purgeFor.register());
    const user = await findUserById(app.db.writer, id);
    return reply.code(201).send(render(user!));
  });

  app.get('/user', { schema: currentUserSchema, config: { auth: 'required' } }, async (req) => {
    const user = (await findUserById(req.readPool(), req.userId!)) ?? (await findUserById(app.db.writer, req.userId!));
    if (!user) throw unauthorized('is invalid');
    return render(user);
  });

  app.put('/user', { schema: updateUserSchema, config: { auth: 'required' } }, async (req) => {
    const id = req.userId!;
    const u = req.body.user;
    const current = await findUserById(app.db.writer, id);
    if (!current) throw unauthorized('is invalid');
    const taken = await takenFields(app.db.writer, u.username ?? null, u.email ?? null, id);
    if (taken.username || taken.email) {
      // The spec has no 409 for this operation: a taken name is invalid input here.
      throw new HttpError(422, Object.fromEntries([...(taken.username ? ['username'] : []), ...(taken.email ? ['email'] : [])].map((f) => [f, ['has already been taken']])));
    }
    const patch: UserPatch = { username: u.username, email: u.email, bio: emptyToNull(u.bio), image: emptyToNull(u.image) };
    // An empty password means "unchanged" (clients send every field of the settings form).
    if (u.password !== undefined && u.password !== '') patch.passwordHash = await hashPassword(u.password);
    try {
      await updateUser(app.db.writer, id, patch);
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
    return render((await findUserById(app.db.writer, id))!);
  });
};

export default usersRoutes;
