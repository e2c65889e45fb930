// The Redis cache (or a disabled one), decorated as `app.cache`; closed when the app closes.
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import fp from 'fastify-plugin';
import { Cache, createRedisClient } from '../cache/cache.js';
import type { CacheConfig } from '../config.js';

declare module 'fastify' {
  interface FastifyInstance {
    cache: Cache;
  }
}

export interface CachePluginOptions {
  config: CacheConfig;
  timeoutMs: number;
  /** An existing Cache (tests, bench): used as is and NOT closed with the app. */
  cache?: Cache;
}

export default fp<CachePluginOptions>(
  async (app, opts) => {
    const owned = !opts.cache;
    const metrics = app.metrics;
    const client = opts.cache ? null : createRedisClient(opts.config, opts.timeoutMs);
    const cache =
      opts.cache ??
      new Cache(client, {
        timeoutMs: opts.timeoutMs,
        logger: app.log,
        events: {
          hit: () => metrics.cacheOps.inc({ result: 'hit' }),
          miss: () => metrics.cacheOps.inc({ result: 'miss' }),
          error: () => metrics.cacheOps.inc({ result: 'error' }),
          breaker: (open) => metrics.cacheBreaker.set(open ? 1 : 0),
        },
      });
    if (owned && client) {
      // Give Redis a moment to connect so the first requests can use it; never wait long or fail for it.
      await Promise.race([once(client, 'ready').catch(() => undefined), sleep(1_000)]);
    }
    if (!cache.enabled) app.log.info({ cache: 'disabled' }, 'cache disabled: neither REDIS_URL nor REDIS_SENTINELS is set');
    app.decorate('cache', cache);
    if (owned) app.addHook('onClose', async () => cache.close());
  },
  { name: 'cache', dependencies: ['metrics'] },
);
