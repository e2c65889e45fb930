// Authentication: `Authorization: Token <jwt>` (also `Bearer <jwt>`). Routes say what they need with
// `config.auth`: 'required' (401 without a valid token), 'optional' (anonymous allowed, but a bad
// token is still a 401: a client that sends one expects to be recognized), or 'lenient' (a bad token
// is read as anonymous: GET /articles/:slug, whose contract has no 401).
// Also read-your-writes: after a user writes, that user's reads go to the writer for a few seconds
// (this instance only; other instances fall back to the writer when the reader misses a new row).
import fp from 'fastify-plugin';
import type { Queryable } from '../db/pool.js';
import { createTokenService, type TokenService } from '../auth/token.js';
import { unauthorized } from '../errors.js';

declare module 'fastify' {
  interface FastifyInstance {
    tokens: TokenService;
    /** Marks that userId just wrote: their reads use the writer for `stickyMs`. */
    markWrote(userId: number): void;
  }
  interface FastifyRequest {
    userId: number | null;
    /** The pool this request reads from (reader, or writer right after this user wrote). */
    readPool(): Queryable;
  }
  interface FastifyContextConfig {
    auth?: 'required' | 'optional' | 'lenient';
  }
}

export interface AuthPluginOptions {
  jwtSecret: string;
  /** Default 5000 ms: longer than the replica lag we tolerate. */
  stickyMs?: number;
}

const TOKEN = /^(?:Token|Bearer) ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/;

export default fp<AuthPluginOptions>(
  async (app, opts) => {
    const tokens = createTokenService(opts.jwtSecret);
    const stickyMs = opts.stickyMs ?? 5_000;
    const recent = new Map<number, number>();
    app.decorate('tokens', tokens);
    app.decorate('markWrote', (userId: number) => {
      if (recent.size > 50_000) {
        const now = Date.now();
        for (const [k, until] of recent) if (until < now) recent.delete(k);
      }
      recent.set(userId, Date.now() + stickyMs);
    });
    app.decorateRequest('userId', null);
    app.decorateRequest('readPool', function (this: { userId: number | null }) {
      const until = this.userId === null ? undefined : recent.get(this.userId);
      return until !== undefined && until > Date.now() ? app.db.writer : app.db.reader;
    });

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
  { name: 'auth', dependencies: ['db'] },
);
