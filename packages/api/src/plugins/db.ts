// The database endpoints (writer + reader pools), decorated as `app.db`; closed when the app closes.
import fp from 'fastify-plugin';
import { Db } from '../db/pool.js';
import type { DatabaseTls } from '../config.js';

declare module 'fastify' {
  interface FastifyInstance {
    db: Db;
  }
}

export interface DbPluginOptions {
  writerUrl: string;
  readerUrl: string;
  poolSize: number;
  retryBudgetMs: number;
  tls: DatabaseTls;
  /** An existing Db (tests, bench): used as is and NOT closed with the app. */
  db?: Db;
}

export default fp<DbPluginOptions>(
  async (app, opts) => {
    const owned = !opts.db;
    const db = opts.db ?? new Db({
      writerUrl: opts.writerUrl, readerUrl: opts.readerUrl, poolSize: opts.poolSize, retryBudgetMs: opts.retryBudgetMs, tls: opts.tls,
      // one line per write whose COMMIT went unanswered: how it ended (db_writes_settled_total counts them)
      onSettle: (settle) => app.log.warn({ settle }, `an unanswered COMMIT was settled: ${settle.outcome}`),
    });
    app.decorate('db', db);
    if (owned) app.addHook('onClose', async () => db.close());
  },
  { name: 'db' },
);
