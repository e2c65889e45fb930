// OWASP headers on every response (computed once by helmet, then set on each reply: running the helmet
// middleware per request re-parses its configuration every time), rate limits (applied per route), and
// caching headers:
// - authenticated requests, writes and errors: `Cache-Control: no-store`
// - public GETs (routes with config.publicCache): `public, max-age=5` + `Vary: Authorization`, so an edge
//   cache (Varnish, CloudFront) may serve the anonymous version briefly, never a signed-in one.
import type { IncomingMessage, ServerResponse } from 'node:http';
import fp from 'fastify-plugin';
import helmet from 'helmet';
import rateLimit from '@fastify/rate-limit';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Seconds an edge cache may keep the anonymous response of this GET route. */
    publicCache?: number;
  }
}

/** The headers helmet sets with this configuration (no per-request input: no CSP nonces). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = (() => {
  const headers: Record<string, string> = {};
  const res = {
    setHeader: (name: string, value: string | number) => { headers[name.toLowerCase()] = String(value); },
    removeHeader: (name: string) => { delete headers[name.toLowerCase()]; },
  } as unknown as ServerResponse;
  helmet({
    // The API serves JSON; the only HTML is the docs UI, whose assets are served from 'self'.
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        imgSrc: ["'self'", 'data:', 'https:'],
        styleSrc: ["'self'", "'unsafe-inline'"],
        scriptSrc: ["'self'"],
        frameAncestors: ["'none'"],
        // The local region serves plain HTTP: do not force https for the docs' assets.
        upgradeInsecureRequests: null,
      },
    },
    crossOriginResourcePolicy: { policy: 'same-site' },
  })({} as IncomingMessage, res, () => undefined);
  return Object.freeze(headers);
})();

export default fp(
  async (app) => {
    // First hook of every request, so that even a request rejected by a later hook carries them; the
    // request id (echoed or generated, app.ts) goes with them rather than in a hook of its own.
    app.addHook('onRequest', (req, reply, done) => {
      reply.headers(SECURITY_HEADERS);
      reply.header('x-request-id', req.id);
      done();
    });
    // Limits are per client IP and per instance; routes opt in with config.rateLimit.
    await app.register(rateLimit, { global: false });

    app.addHook('onSend', (req, reply, payload, done) => {
      if (!reply.hasHeader('cache-control')) {
        const seconds = req.routeOptions.config.publicCache;
        const anonymous = !req.userId && req.headers.authorization === undefined;
        const cacheable = req.method === 'GET' && seconds !== undefined && anonymous && reply.statusCode < 400;
        reply.header('cache-control', cacheable ? `public, max-age=${seconds}` : 'no-store');
        reply.header('vary', 'Authorization');
      }
      done(null, payload);
    });
  },
  { name: 'security' },
);
