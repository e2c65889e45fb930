// CORS: RealWorld clients are usually served from another origin than the API. The API authenticates with
// a header, never a cookie, so allowing any origin (the default) exposes nothing a script could not already
// read; CORS_ALLOWED_ORIGINS (from the definition's api.corsAllowedOrigins) narrows it. Preflights are
// answered here, with `Cache-Control: public, max-age=5` so an edge may keep them briefly, and
// Access-Control-Max-Age so a browser asks again only after 10 minutes. Every response, errors included,
// carries Access-Control-Allow-Origin, so a client can read the RealWorld error body.
import fp from 'fastify-plugin';
import cors from '@fastify/cors';

export const PREFLIGHT_EDGE_SECONDS = 5;

export default fp<{ origins: string[] }>(
  async (app, opts) => {
    await app.register(cors, {
      origin: opts.origins.includes('*') ? '*' : opts.origins,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
      // allowedHeaders left out: the headers a preflight asks for are allowed (Authorization, Content-Type, ...).
      exposedHeaders: ['x-request-id'],
      maxAge: 600,
      cacheControl: `public, max-age=${PREFLIGHT_EDGE_SECONDS}`,
      // An OPTIONS without Origin is no CORS preflight, but still a plain OPTIONS: answer it (204), not 400.
      strictPreflight: false,
    });
  },
  { name: 'cors' },
);
