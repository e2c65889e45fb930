// OWASP headers on every response (computed once by helmet, then set on each reply: running the helmet
// middleware per request re-parses its configuration every time), rate limits, and caching headers.
// Rate limits (@fastify/rate-limit) count in Redis through app.cache, so a limit holds across every
// instance (it would otherwise be max × instances and grow as the autoscaler adds instances); while
// Redis cannot count (down, breaker open) each instance counts in its own memory: the same limits, per
// instance, never none. Routes opt in with config.rateLimit; every authenticated write gets the per-user
// write limit (one budget across all write routes).
// Caching headers:
// - authenticated requests, writes and errors: `Cache-Control: no-store`
// - public GETs (routes with config.publicCache): `public, max-age=5` + `Vary: Authorization`, so an edge
//   cache (Varnish, CloudFront) may serve the anonymous version briefly, never a signed-in one.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyRequest, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import helmet from 'helmet';
import rateLimit from '@fastify/rate-limit';
import type { Cache } from '../cache/cache.js';

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

export interface SecurityOptions {
  /** Writes per signed-in user per minute, across all write routes and instances. */
  writesPerMinute: number;
}

type Counted = { current: number; ttl: number };
const LOCAL_KEYS = 10_000;

/**
 * A @fastify/rate-limit store: a fixed window per key in Redis (Cache.count), or in this process's memory
 * while Redis cannot answer. A child store (one per route or groupId) prefixes its keys.
 */
export function sharedStore(cache: () => Cache) {
  const local = new Map<string, { n: number; until: number }>();
  const countLocally = (key: string, windowMs: number): Counted => {
    const now = Date.now();
    let e = local.get(key);
    if (!e || e.until <= now) {
      if (local.size >= LOCAL_KEYS) {
        for (const [k, v] of local) if (v.until <= now) local.delete(k);
        // Still full: drop the oldest windows (bounded memory under a flood of distinct keys).
        for (const k of local.keys()) if (local.size >= LOCAL_KEYS) local.delete(k); else break;
      }
      e = { n: 0, until: now + windowMs };
      local.set(key, e);
    }
    e.n += 1;
    return { current: e.n, ttl: e.until - now };
  };
  return class SharedStore {
    private readonly prefix: string;
    // The plugin constructs the root store with its options object: the root prefix then applies.
    constructor(prefix: unknown) {
      this.prefix = typeof prefix === 'string' ? prefix : 'rl:';
    }
    incr(key: string, cb: (err: Error | null, res?: Counted) => void, timeWindow: number): void {
      const k = this.prefix + key;
      cache().count(k, timeWindow).then(
        (r) => cb(null, r ? { current: r.count, ttl: r.ttlMs } : countLocally(k, timeWindow)),
        () => cb(null, countLocally(k, timeWindow)),
      );
    }
    child(route: RouteOptions & { path: string; prefix: string }): SharedStore {
      // What the plugin passes at run time (its typings say RouteOptions): the merged limit, the route as routeInfo.
      const o = route as unknown as { groupId?: string; routeInfo: { method?: unknown; url?: string } };
      return new SharedStore(`rl:${o.groupId ?? `${String(o.routeInfo.method)}${o.routeInfo.url}`}:`);
    }
  };
}

/** A Vary header value with `name` added once (case-insensitive), keeping the names already there. */
export function withVary(current: unknown, name: string): string {
  const names = (Array.isArray(current) ? current.join(',') : String(current ?? '')).split(',').map((n) => n.trim()).filter(Boolean);
  if (names.includes('*') || names.some((n) => n.toLowerCase() === name.toLowerCase())) return names.join(', ');
  return [...names, name].join(', ');
}

export default fp<SecurityOptions>(
  async (app, opts) => {
    // First hook of every request, so that even a request rejected by a later hook carries them; the
    // request id (echoed or generated, app.ts) goes with them rather than in a hook of its own.
    app.addHook('onRequest', (req, reply, done) => {
      reply.headers(SECURITY_HEADERS);
      reply.header('x-request-id', req.id);
      done();
    });
    // Every authenticated write (before rate-limit's own onRoute hook reads the config): per user, not per IP.
    app.addHook('onRoute', (route) => {
      const methods = [route.method].flat();
      if (route.config?.auth !== 'required' || methods.some((m) => m === 'GET' || m === 'HEAD') || route.config.rateLimit !== undefined) return;
      route.config = {
        ...route.config,
        rateLimit: { max: opts.writesPerMinute, timeWindow: 60_000, hook: 'preHandler', groupId: 'writes', keyGenerator: (req: FastifyRequest) => `user:${req.userId}` },
      };
    });
    // Keys default to req.ip: the client address X-Forwarded-For holds TRUSTED_PROXY_HOPS from the right (app.ts).
    await app.register(rateLimit, { global: false, store: sharedStore(() => app.cache) });

    app.addHook('onSend', (req, reply, payload, done) => {
      if (!reply.hasHeader('cache-control')) {
        const seconds = req.routeOptions.config.publicCache;
        const anonymous = !req.userId && req.headers.authorization === undefined;
        const cacheable = req.method === 'GET' && seconds !== undefined && anonymous && reply.statusCode < 400;
        reply.header('cache-control', cacheable ? `public, max-age=${seconds}` : 'no-store');
        // Added to what is there: with a list of allowed origins @fastify/cors has set `Vary: Origin`, which an
        // edge must keep (the answer's Access-Control-Allow-Origin depends on the request's Origin).
        reply.header('vary', withVary(reply.getHeader('vary'), 'Authorization'));
      }
      done(null, payload);
    });
  },
  { name: 'security' },
);
