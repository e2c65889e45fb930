// Authentication: `Authorization: Token <jwt>` or `Bearer <jwt>` (scheme names are case-insensitive,
// RFC 9110). Routes say what they need with `config.auth`: 'required' (401 without a valid token), 'optional' (anonymous allowed, but a bad
// token is still a 401: a client that sends one expects to be recognized), or 'lenient' (a bad token
// is read as anonymous: GET /articles/:slug, whose contract has no 401).
// A valid signature is not enough: the token's version must still be the user's (auth/versions.ts), so
// a password change ends the sessions signed before it, and a deleted user's tokens stop at once.
// Read-your-writes (which pool a signed-in read uses) is plugins/read-your-writes.ts.
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { createPasswordHasher, type PasswordHasher, type ScryptParams } from '../auth/password.js';
import { createTokenService, type TokenService } from '../auth/token.js';
import { createTokenVersions, type TokenVersions } from '../auth/versions.js';
import { unauthorized } from '../errors.js';

declare module 'fastify' {
  interface FastifyInstance {
    tokens: TokenService;
    tokenVersions: TokenVersions;
    passwords: PasswordHasher;
  }
  interface FastifyRequest {
    userId: number | null;
    /** Epoch seconds of the sign-in the request's token descends from (0: unknown, a previous release's token). */
    authTime: number;
  }
  interface FastifyContextConfig {
    auth?: 'required' | 'optional' | 'lenient';
  }
}

export interface AuthPluginOptions {
  jwtSecret: string;
  tokenLifetimeMs: number;
  scrypt: ScryptParams;
}

const TOKEN = /^(?:Token|Bearer) +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/i;

export default fp<AuthPluginOptions>(
  async (app, opts) => {
    const tokens = createTokenService(opts.jwtSecret, opts.tokenLifetimeMs);
    const versions = createTokenVersions(app.db);
    app.decorate('tokens', tokens);
    app.decorate('tokenVersions', versions);
    app.decorate('passwords', createPasswordHasher(opts.scrypt));
    app.decorateRequest('userId', null);
    app.decorateRequest('authTime', 0);

    // Only the routes that say `config.auth` get the hook (a route-level onRequest, after the global ones:
    // security headers, CORS): the others (health, metrics, docs, sign-in) do not pay a promise per request,
    // and the mode is fixed when the route is registered instead of being looked up per request.
    const authenticate = (mode: 'required' | 'optional' | 'lenient') => async (req: FastifyRequest): Promise<void> => {
      const header = req.headers.authorization;
      if (header === undefined || header === '') {
        if (mode === 'required') throw unauthorized('is missing');
        return;
      }
      const m = TOKEN.exec(header);
      const claims = m ? tokens.verify(m[1]!) : null;
      // A database error here is a 503 (errors plugin): never a token accepted without its check.
      if (claims === null || !(await versions.isCurrent(claims.userId, claims.version))) {
        if (mode === 'lenient') return;
        throw unauthorized('is invalid');
      }
      req.userId = claims.userId;
      req.authTime = claims.authTime;
    };
    app.addHook('onRoute', (route) => {
      const mode = route.config?.auth;
      if (mode === undefined) return;
      route.onRequest = [...[route.onRequest ?? []].flat(), authenticate(mode)];
    });
  },
  { name: 'auth', dependencies: ['db'] },
);
