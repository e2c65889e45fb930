// Authentication: `Authorization: Token <jwt>` or `Bearer <jwt>` (scheme names are case-insensitive,
// RFC 9110). Routes say what they need with `config.auth`: 'required' (401 without a valid token), 'optional' (anonymous allowed, but a bad
// token is still a 401: a client that sends one expects to be recognized), or 'lenient' (a bad token
// is read as anonymous: GET /articles/:slug, whose contract has no 401).
// Read-your-writes (which pool a signed-in read uses) is plugins/read-your-writes.ts.
import fp from 'fastify-plugin';
import { createTokenService, type TokenService } from '../auth/token.js';
import { unauthorized } from '../errors.js';

declare module 'fastify' {
  interface FastifyInstance {
    tokens: TokenService;
  }
  interface FastifyRequest {
    userId: number | null;
  }
  interface FastifyContextConfig {
    auth?: 'required' | 'optional' | 'lenient';
  }
}

export interface AuthPluginOptions {
  jwtSecret: string;
}

const TOKEN = /^(?:Token|Bearer) +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/i;

export default fp<AuthPluginOptions>(
  async (app, opts) => {
    const tokens = createTokenService(opts.jwtSecret);
    app.decorate('tokens', tokens);
    app.decorateRequest('userId', null);

    app.addHook('onRequest', (req, _reply, done) => {
      const mode = req.routeOptions.config.auth;
      if (mode === undefined) return done();
      const header = req.headers.authorization;
      if (header === undefined || header === '') return done(mode === 'required' ? unauthorized('is missing') : undefined);
      const m = TOKEN.exec(header);
      const id = m ? tokens.verify(m[1]!) : null;
      if (id === null) return done(mode === 'lenient' ? undefined : unauthorized('is invalid'));
      req.userId = id;
      done();
    });
  },
  { name: 'auth' },
);
