// Purge on write. Responses an edge cache may share carry surrogate keys (`Surrogate-Key: article-12
// profile-3`, see ../edge/keys.ts); a write names the keys it changed with `req.purge(keys)`, and before its
// response leaves, this plugin asks every edge in EDGE_PURGE_URLS to drop the objects tagged with any of
// them (HTTP `PURGE` with an `xkey-purge` header: Varnish's xkey vmod). So a write is acknowledged only
// after the purge was answered. When an edge cannot be told (refused, timeout, error), the response waits
// until nothing the edge stored before the write can still be served: the longest max-age the API gives
// shared caches, plus a second for a fill that raced with the write. Without EDGE_PURGE_URLS (AWS:
// CloudFront does not cache /api) nothing is sent.
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Counter } from 'prom-client';

declare module 'fastify' {
  interface FastifyRequest {
    /** Surrogate keys this write changed (purged at the edge before the response is sent). */
    purgeKeys: string[] | null;
    purge(keys: string[]): void;
  }
}

export interface EdgePurgeOptions {
  /** Edge purge endpoints, e.g. http://127.0.0.1:8082 (empty: no edge caches API responses). */
  urls: string[];
  /** Budget of one purge request; default 1000 ms. */
  timeoutMs?: number;
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export default fp<EdgePurgeOptions>(
  async (app, opts) => {
    const timeoutMs = opts.timeoutMs ?? 1_000;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const purges = new Counter({
      name: 'edge_purges_total',
      help: 'Edge purges sent on writes, by result (ok, failed: the response then waited out the edge TTL)',
      labelNames: ['result'],
      registers: [app.metrics.registry],
    });
    for (const result of ['ok', 'failed']) purges.inc({ result }, 0);
    // The longest max-age any route gives shared caches: what a failed purge must wait out.
    let maxShared = 0;
    app.addHook('onRoute', (route) => {
      maxShared = Math.max(maxShared, route.config?.publicCache ?? 0);
    });
    let failing = false;

    const purgeOne = (url: string, keys: string) =>
      new Promise<void>((resolve, reject) => {
        const req = http.request(url, { method: 'PURGE', agent, headers: { 'xkey-purge': keys }, timeout: timeoutMs }, (res) => {
          res.resume();
          if (res.statusCode === 200) resolve();
          else reject(new Error(`answered ${res.statusCode}`));
        });
        req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
        req.on('error', reject);
        req.end();
      });

    app.decorateRequest('purgeKeys', null);
    app.decorateRequest('purge', function (this: { purgeKeys: string[] | null }, keys: string[]) {
      this.purgeKeys = [...(this.purgeKeys ?? []), ...keys];
    });

    const purgeHook = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
      const keys = req.purgeKeys;
      if (keys === null || keys.length === 0 || !WRITES.has(req.method) || reply.statusCode >= 400) return;
      const list = [...new Set(keys)].join(' ');
      const results = await Promise.allSettled(opts.urls.map((u) => purgeOne(u, list)));
      const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
      purges.inc({ result: failed.length ? 'failed' : 'ok' });
      if (failed.length === 0) {
        if (failing) req.log.info({ edge: 'purged' }, 'edge purges work again');
        failing = false;
        return;
      }
      if (!failing) req.log.warn({ edge: 'purge failed', err: String(failed[0]!.reason) }, 'edge purge failed: writes wait out the edge TTL until it works again');
      failing = true;
      await sleep(maxShared * 1000 + 1000);
    };
    // Only write routes get the hook (route-level onSend), and only when there is an edge to tell: reads
    // never pay a promise per request for it.
    app.addHook('onRoute', (route) => {
      if (opts.urls.length === 0 || ![route.method].flat().some((m) => WRITES.has(m))) return;
      route.onSend = [...[route.onSend ?? []].flat(), purgeHook];
    });
    app.addHook('onClose', async () => agent.destroy());
  },
  { name: 'edge-purge', dependencies: ['metrics'] },
);
