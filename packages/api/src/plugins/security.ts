// OWASP headers on every response (helmet), rate limits (applied per route), and caching headers:
// - authenticated requests, writes and errors: `Cache-Control: no-store`
// - public GETs (routes with config.publicCache): `public, max-age=5` + `Vary: Authorization`, so an edge
//   cache (Varnish, CloudFront) may serve the anonymous version briefly, never a signed-in one.
import fp from 'fastify-plugin';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Seconds an edge cache may keep the anonymous response of this GET route. */
    publicCache?: number;
  }
}

export default fp(
  async (app) => {
    await app.register(helmet, {
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
    });
    // Limits are per client IP and per instance; routes opt in with config.rateLimit.
    await app.register(rateLimit, { global: false });

    app.addHook('onSend', async (req, reply) => {
      if (reply.hasHeader('cache-control')) return;
      const seconds = req.routeOptions.config.publicCache;
      if (req.method === 'GET' && seconds !== undefined && !req.userId && reply.statusCode < 400 && req.headers.authorization === undefined) {
        reply.header('cache-control', `public, max-age=${seconds}`);
      } else {
        reply.header('cache-control', 'no-store');
      }
      reply.header('vary', 'Authorization');
    });
  },
  { name: 'security' },
);
