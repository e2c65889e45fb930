// GET /health/live: the process runs. GET /health/ready: the writer answers (503 otherwise); the cache
// status is reported but never makes the instance unready (the API works without it).
// GET /health/region: may this region take the site's traffic (the DNS failover record's health check)?
// Only while its writer accepts writes: a standby region (read-only, replicating from the other region)
// or a region that lost every writer is 503. A writer seen writable less than graceMs ago still counts,
// so a database failover inside the region (a second or two) does not move the whole site.
import type { FastifyPluginAsync } from 'fastify';

export interface HealthOptions {
  /** default 0: no grace (on AWS, Route 53's failure threshold plays this part). */
  regionGraceMs?: number;
}

const healthRoutes: FastifyPluginAsync<HealthOptions> = async (app, opts) => {
  const graceMs = opts.regionGraceMs ?? 0;
  let lastWritableAt = Number.NEGATIVE_INFINITY;
  app.get('/health/live', { schema: { hide: true } }, async (_req, reply) => {
    reply.header('cache-control', 'no-store');
    return { status: 'ok' };
  });

  app.get('/health/ready', { schema: { hide: true } }, async (_req, reply) => {
    const [db, cachePing] = await Promise.all([app.db.ping(1_000), app.cache.enabled ? app.cache.ping() : Promise.resolve(false)]);
    const cache = app.cache.enabled ? (cachePing ? 'up' : 'down') : 'disabled';
    reply.header('cache-control', 'no-store').code(db ? 200 : 503);
    return { status: db ? 'ok' : 'unavailable', db: db ? 'up' : 'down', cache };
  });

  app.get('/health/region', { schema: { hide: true } }, async (_req, reply) => {
    const writable = await app.db.writable(1_000);
    const now = Date.now();
    if (writable) lastWritableAt = now;
    const ok = writable || now - lastWritableAt < graceMs;
    reply.header('cache-control', 'no-store').code(ok ? 200 : 503);
    return { status: ok ? 'ok' : 'unavailable', writer: writable ? 'writable' : 'read-only or down' };
  });
};

export default healthRoutes;
