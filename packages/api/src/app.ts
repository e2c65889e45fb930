// Builds the Conduit API as a Fastify instance (it does not listen: server.ts does).
// Order: external plugins (metrics, security headers and limits, CORS, body parsing, database, cache, auth,
// read-your-writes, edge purges), the error handler, the docs, then the routes: health and metrics at the
// root, the RealWorld API under /api.
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Config } from './config.js';
import type { Db } from './db/pool.js';
import type { Cache } from './cache/cache.js';
import metricsPlugin from './plugins/metrics.js';
import dbPlugin from './plugins/db.js';
import cachePlugin from './plugins/cache.js';
import authPlugin from './plugins/auth.js';
import securityPlugin, { SECURITY_HEADERS } from './plugins/security.js';
import errorsPlugin from './plugins/errors.js';
import docsPlugin from './plugins/docs.js';
import bodyPlugin from './plugins/body.js';
import corsPlugin from './plugins/cors.js';
import edgePurgePlugin from './plugins/edge-purge.js';
import readYourWritesPlugin from './plugins/read-your-writes.js';
import healthRoutes from './routes/health.js';
import usersRoutes from './routes/users.js';
import profilesRoutes from './routes/profiles.js';
import articlesRoutes from './routes/articles.js';
import commentsRoutes from './routes/comments.js';
import tagsRoutes from './routes/tags.js';
import { AccessLog, productionLogger, type ProductionLogger } from './logger.js';

export interface AppDeps {
  /** Share a database (pools are not closed with the app). Default: pools from the config. */
  db?: Db;
  /** Share a cache (not closed with the app). Default: Redis from the config, or disabled. */
  cache?: Cache;
  /** Pino options or a boolean; default: JSON logs at config.logLevel on stdout, asynchronous and batched (logger.ts). */
  logger?: boolean | Record<string, unknown>;
}

const ROUTER_ERROR_HEADERS = { ...SECURITY_HEADERS, 'cache-control': 'no-store' };

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function buildApp(config: Config, deps: AppDeps = {}): FastifyInstance {
  const base: Record<string, string> = {};
  if (config.instanceId) base.instance_id = config.instanceId;
  if (config.zone) base.zone = config.zone;
  let production: ProductionLogger | undefined;
  const app = Fastify({
    logger: deps.logger ?? (production = productionLogger({ level: config.logLevel, base: { pid: process.pid, ...base } })).options,
    // One access log line per request (logger.ts) instead of Fastify's two.
    logController: new AccessLog(),
    // Exactly the proxies of the topology (definition.apiProxyChain: edge, then load balancer) each append
    // one X-Forwarded-For entry; the client IP is the entry that many hops from the right. Entries further
    // left were written by the client and are never read.
    trustProxy: (_address: string, hop: number) => hop < config.trustedProxyHops,
    // genReqId reads X-Request-Id itself, so that a malformed one is replaced rather than logged.
    requestIdHeader: false,
    genReqId: (req) => {
      const h = req.headers['x-request-id'];
      return typeof h === 'string' && REQUEST_ID.test(h) ? h : randomUUID();
    },
    bodyLimit: 512 * 1024,
    routerOptions: { maxParamLength: 300, ignoreTrailingSlash: true },
    // Longer than the load balancer's idle timeout, so the balancer closes idle connections first.
    keepAliveTimeout: 65_000,
    requestTimeout: 30_000,
    return503OnClosing: true,
    // Errors raised by the router before any hook runs (bad percent-encoding, over-long parameter):
    // same RealWorld shape, and the headers the security plugin would have set.
    frameworkErrors: (err, req, res) => {
      const tooLong = err.code === 'FST_ERR_MAX_PARAM_LENGTH';
      const reply = res as unknown as FastifyReply;
      void reply
        .code(tooLong ? 414 : 400)
        .headers(ROUTER_ERROR_HEADERS)
        .header('x-request-id', req.id)
        .send({ errors: { path: [tooLong ? 'is too long' : 'is not a valid URL'] } });
    },
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  if (production) {
    const p = production;
    app.addHook('onClose', (_app, done) => { p.close(); done(); });
  }

  app.register(metricsPlugin, { instanceId: config.instanceId, zone: config.zone });
  // Security first: its headers must be set before any other hook can reject the request.
  app.register(securityPlugin, { writesPerMinute: config.rateLimitWritesPerMin });
  app.register(corsPlugin, { origins: config.corsAllowedOrigins });
  app.register(bodyPlugin);
  app.register(dbPlugin, { writerUrl: config.databaseWriterUrl, readerUrl: config.databaseReaderUrl, poolSize: config.dbPoolSize, retryBudgetMs: config.dbRetryBudgetMs, tls: config.databaseTls, db: deps.db });
  app.register(cachePlugin, { config: config.cache, timeoutMs: config.cacheTimeoutMs, cache: deps.cache });
  app.register(authPlugin, { jwtSecret: config.jwtSecret, tokenLifetimeMs: config.tokenLifetimeMs, scrypt: config.scrypt });
  app.register(readYourWritesPlugin);
  app.register(edgePurgePlugin, { urls: config.edgePurgeUrls });
  app.register(errorsPlugin);
  app.register(docsPlugin, { publicUrl: config.publicUrl });

  app.register(healthRoutes, { regionGraceMs: config.regionHealthGraceMs });
  app.register(
    async (api) => {
      await api.register(usersRoutes, { authPerMinute: config.rateLimitAuthPerMin, loginPerAccountPer15Min: config.rateLimitLoginPerAccount, recentSignInMs: config.recentSignInMs });
      await api.register(profilesRoutes);
      await api.register(articlesRoutes);
      await api.register(commentsRoutes);
      await api.register(tagsRoutes);
    },
    { prefix: '/api' },
  );
  return app;
}
