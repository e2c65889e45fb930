// Read-your-writes across instances. After a signed-in user's write succeeds (before its response is
// sent), a marker `rw:<userId>` is set in Redis for `windowMs`, longer than the replica lag we tolerate;
// while it exists, that user's reads go to the writer on whichever instance serves them (the load
// balancer round-robins). The instance that took the write also remembers it in memory, which spares it
// the Redis lookup. Without Redis (not configured, unreachable, breaker open) no instance can tell who
// just wrote, so every signed-in read goes to the writer until Redis answers again: safe, at the price of
// writer load.
//
// Content nobody caches (an article's comments) is also read by others right after it changed: a
// comment, then the article page of another reader. A lagging replica would not show it yet, so a write
// marks the content itself (`rw:e:<entity>`, same window) and reads of it go to the writer while the mark
// exists, for everyone (or while Redis cannot say). Cached content needs no mark: a write starts a new
// cache generation and fills right after it read the writer (../cache/cache.ts).
//
// Chosen over a GTID the client carries (third-party RealWorld clients would not send it back) and over
// waiting on a replica for a GTID (Aurora replicas have no GTID position to wait on).
import fp from 'fastify-plugin';
import type { Queryable } from '../db/pool.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Marks shared, uncached content (e.g. `comments:<slug>`) as just written: everyone reads it from the writer for the window. */
    markWritten(entity: string): Promise<void>;
  }
  interface FastifyRequest {
    /** This request reads from the writer (its user wrote within the window, or Redis cannot say). */
    fromWriter: boolean;
    /** The pool this request reads from: the reader, or the writer right after this user wrote. */
    readPool(): Queryable;
    /** readPool(), or the writer while `entity` was marked written (by anyone) or Redis cannot say. */
    readPoolFor(entity: string): Promise<Queryable>;
  }
}

export interface ReadYourWritesOptions {
  /** Default 5000 ms. */
  windowMs?: number;
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

export default fp<ReadYourWritesOptions>(
  async (app, opts) => {
    const windowMs = opts.windowMs ?? 5_000;
    const local = new Map<number, number>();
    const key = (userId: number) => `rw:${userId}`;

    app.decorateRequest('fromWriter', false);
    app.decorateRequest('readPool', function (this: { fromWriter: boolean }) {
      return this.fromWriter ? app.db.writer : app.db.reader;
    });
    const entityKey = (entity: string) => `rw:e:${entity}`;
    app.decorate('markWritten', async (entity: string) => {
      await app.cache.mark(entityKey(entity), windowMs);
    });
    app.decorateRequest('readPoolFor', async function (this: { fromWriter: boolean }, entity: string) {
      if (this.fromWriter) return app.db.writer;
      return (await app.cache.marked(entityKey(entity))) === false ? app.db.reader : app.db.writer;
    });

    app.addHook('preHandler', async (req) => {
      if (req.userId === null || !SAFE.has(req.method)) return;
      const until = local.get(req.userId);
      if (until !== undefined && until > Date.now()) {
        req.fromWriter = true;
        return;
      }
      // undefined: Redis could not say (disabled, down, breaker open): read the writer to be safe.
      const marked = await app.cache.marked(key(req.userId));
      req.fromWriter = marked !== false;
    });

    app.addHook('onSend', async (req, reply) => {
      if (req.userId === null || SAFE.has(req.method) || reply.statusCode >= 400) return;
      if (local.size > 50_000) {
        const now = Date.now();
        for (const [k, t] of local) if (t < now) local.delete(k);
      }
      local.set(req.userId, Date.now() + windowMs);
      await app.cache.mark(key(req.userId), windowMs);
    });
  },
  { name: 'read-your-writes', dependencies: ['auth', 'cache', 'db'] },
);
