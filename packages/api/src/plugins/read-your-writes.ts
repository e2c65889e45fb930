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
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Queryable } from '../db/pool.js';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The pool this request reads from: the reader, or the writer right after this user wrote (or while
     * Redis cannot say). Asked once per request, when first called: call it only when the request reads the
     * database (the cached reads ask it on a miss: ../cache/reads.ts), or right before the request's own first
     * Redis command, so that both go out in one write (ioredis auto-pipelining).
     */
    readPool(): Promise<Queryable>;
    /** readPool(), or the writer while `entity` was marked written (by anyone) or Redis cannot say. */
    readPoolFor(entity: string): Promise<Queryable>;
    /**
     * Marks shared, uncached content (e.g. `comments:<slug>`) as just written: everyone reads it from the
     * writer for the window. Call it once the write is committed: the mark is sent at once (with the
     * user's own mark, in one round trip, while the handler goes on) and awaited before the response
     * leaves, also when the request fails after that. Only on write routes with `config.auth` (they carry
     * the hook that waits for it).
     */
    markWritten(entity: string): void;
    /** This plugin's per-request state (decorated: a stable object shape): the decided pool, the marks sent. */
    rwPool: Promise<Queryable> | null;
    rwMarks: Promise<boolean>[] | null;
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
    const entityKey = (entity: string) => `rw:e:${entity}`;

    // Decided when a handler first asks, not in a hook: no hook (and no promise) on routes that never read,
    // and the Redis lookup leaves together with the handler's cache read instead of one round trip before it.
    const decide = async (userId: number): Promise<Queryable> => {
      const until = local.get(userId);
      if (until !== undefined && until > Date.now()) return app.db.writer;
      // undefined: Redis could not say (disabled, down, breaker open): read the writer to be safe.
      return (await app.cache.marked(key(userId))) === false ? app.db.reader : app.db.writer;
    };
    app.decorateRequest('rwPool', null);
    app.decorateRequest('rwMarks', null);
    // Anonymous requests share one settled promise (no async call per request on the cached anonymous reads).
    const reader = Promise.resolve(app.db.reader);
    app.decorateRequest('readPool', function (this: FastifyRequest) {
      return (this.rwPool ??= this.userId === null ? reader : decide(this.userId));
    });
    app.decorateRequest('readPoolFor', async function (this: FastifyRequest, entity: string) {
      const [own, marked] = await Promise.all([this.readPool(), app.cache.marked(entityKey(entity))]);
      return own === app.db.writer || marked !== false ? app.db.writer : app.db.reader;
    });
    /** The user's own mark: in this instance's memory at once, in Redis for the others. */
    const markUser = (userId: number): Promise<boolean> => {
      if (local.size > 50_000) {
        const now = Date.now();
        for (const [k, t] of local) if (t < now) local.delete(k);
      }
      local.set(userId, Date.now() + windowMs);
      return app.cache.mark(key(userId), windowMs);
    };
    // A committed write marks its content and its user right away (the user did write, even if the
    // request fails later): both SETs leave in one write, while the handler reads its answer.
    app.decorateRequest('markWritten', function (this: FastifyRequest, entity: string) {
      const marks = (this.rwMarks ??= this.userId === null ? [] : [markUser(this.userId)]);
      marks.push(app.cache.mark(entityKey(entity), windowMs));
    });

    // Write routes with a signed-in user (config.auth) get this hook (route-level onSend): the user's mark
    // after a successful write, and whatever markWritten sent, are set before the response leaves.
    const writeHook = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
      if (req.rwMarks === null) {
        if (req.userId === null || reply.statusCode >= 400) return;
        req.rwMarks = [markUser(req.userId)];
      }
      await Promise.all(req.rwMarks);
    };
    app.addHook('onRoute', (route) => {
      if (route.config?.auth === undefined) return;
      const methods = [route.method].flat();
      if (methods.every((m) => SAFE.has(m))) return;
      if (methods.some((m) => SAFE.has(m))) throw new Error(`read-your-writes: route ${route.url} mixes safe and unsafe methods`);
      route.onSend = [...[route.onSend ?? []].flat(), writeHook];
    });
  },
  { name: 'read-your-writes', dependencies: ['auth', 'cache', 'db'] },
);
