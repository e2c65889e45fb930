// GET /health/live: the process runs. GET /health/ready: the writer answers (503 otherwise); the cache
// status is reported but never makes the instance unready (the API works without it).
import type { FastifyPluginAsync } from 'fastify';

const healthRoutes: FastifyPluginAsync = async (app) => {
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
};

export default healthRoutes;
