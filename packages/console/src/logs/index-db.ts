// The log index: one DuckDB table of parsed lines, searched by time range, component, instance, level,
// status, route, request id and free text, newest first, with a histogram over time.
//
// Why DuckDB (@duckdb/node-api): it is an embedded columnar engine shipped as an npm package with its
// native library inside (nothing downloaded at install or run time, no server to run), it appends
// hundreds of thousands of rows per second through its appender, and a search is one scan over a few
// compressed columns, fast enough for free text with ILIKE at the volumes one region writes (its FTS
// extension would be downloaded at run time, so it is not used). OpenSearch/Elasticsearch cannot be
// installed here; better-sqlite3 would compile or download a binary at install.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { levels, type Level, type LogRow } from './parse.js';

export interface LogQuery {
  /** Epoch ms, inclusive; default: one hour before `to`. */
  from?: number;
  /** Epoch ms, exclusive; default: now. */
  to?: number;
  components?: string[];
  instance?: string;
  /** This level and worse. */
  minLevel?: Level;
  /** "502" or a class "5xx". */
  status?: string;
  /** Substring of "METHOD /path". */
  route?: string;
  requestId?: string;
  /** Case-insensitive substring of the message. */
  text?: string;
  /** Rows returned (newest first); default 200, at most 2000. */
  limit?: number;
  /** Histogram buckets over [from, to); default 60. */
  buckets?: number;
}

export interface LogHit extends LogRow {}
export interface LogSearchResult {
  rows: LogHit[];
  total: number;
  from: number;
  to: number;
  bucketMs: number;
  /** One entry per bucket, oldest first: lines and lines at error or worse. */
  histogram: Array<{ t: number; count: number; errors: number }>;
  tookMs: number;
}

export class LogQueryError extends Error {}

const levelN = (l: Level) => levels.indexOf(l);

export class LogIndex {
  private constructor(
    private readonly db: DuckDBInstance,
    private readonly conn: DuckDBConnection,
  ) {}

  /**
   * @param file a DuckDB file, or ':memory:'
   * @param memoryLimit DuckDB's buffer pool cap: the console must stay small beside the region.
   */
  static async open(file: string, memoryLimit = '48MB'): Promise<LogIndex> {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    const db = await DuckDBInstance.create(file, {
      threads: '1',
      memory_limit: memoryLimit,
      // Never reach for the network: extensions would be downloaded.
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
    });
    const conn = await db.connect();
    await conn.run(`CREATE TABLE IF NOT EXISTS logs (
      ts BIGINT NOT NULL, component VARCHAR NOT NULL, instance VARCHAR NOT NULL, level TINYINT NOT NULL,
      status SMALLINT, route VARCHAR, request_id VARCHAR, msg VARCHAR NOT NULL)`);
    await conn.run('CREATE TABLE IF NOT EXISTS offsets (path VARCHAR PRIMARY KEY, ino BIGINT NOT NULL, pos BIGINT NOT NULL)');
    return new LogIndex(db, conn);
  }

  async append(rows: readonly LogRow[]): Promise<void> {
    if (rows.length === 0) return;
    const a = await this.conn.createAppender('logs');
    for (const r of rows) {
      a.appendBigInt(BigInt(Math.round(r.ts)));
      a.appendVarchar(r.component);
      a.appendVarchar(r.instance);
      a.appendTinyInt(levelN(r.level));
      if (r.status === null) a.appendNull(); else a.appendSmallInt(r.status);
      if (r.route === null) a.appendNull(); else a.appendVarchar(r.route);
      if (r.requestId === null) a.appendNull(); else a.appendVarchar(r.requestId);
      a.appendVarchar(r.msg);
      a.endRow();
    }
    a.closeSync();
  }

  async offsets(): Promise<Map<string, { ino: number; pos: number }>> {
    const r = await this.conn.runAndReadAll('SELECT path, ino, pos FROM offsets');
    return new Map(r.getRowObjectsJS().map((o) => [String(o.path), { ino: Number(o.ino), pos: Number(o.pos) }]));
  }

  async saveOffset(path: string, ino: number, pos: number): Promise<void> {
    await this.conn.run('INSERT OR REPLACE INTO offsets VALUES ($1, $2, $3)', [path, ino, pos]);
  }

  /** Deletes lines older than the retention (observability.logRetentionDays); returns how many. */
  async prune(retentionDays: number, now = Date.now()): Promise<number> {
    const r = await this.conn.run('DELETE FROM logs WHERE ts < $1', [now - retentionDays * 86_400_000]);
    return Number(r.rowsChanged);
  }

  async count(): Promise<number> {
    const r = await this.conn.runAndReadAll('SELECT count(*) AS n FROM logs');
    return Number(r.getRowObjectsJS()[0]!.n);
  }

  async search(q: LogQuery, now = Date.now()): Promise<LogSearchResult> {
    const started = performance.now();
    const to = q.to ?? now;
    const from = q.from ?? to - 3_600_000;
    if (!(from < to)) throw new LogQueryError(`from (${from}) must be before to (${to})`);
    const limit = Math.min(Math.max(q.limit ?? 200, 1), 2000);
    const buckets = Math.min(Math.max(q.buckets ?? 60, 1), 500);

    const where: string[] = [];
    const params: DuckDBValue[] = [];
    const p = (v: DuckDBValue) => {
      params.push(v);
      return `$${params.length}`;
    };
    where.push(`ts >= ${p(BigInt(from))}`, `ts < ${p(BigInt(to))}`);
    if (q.components?.length) where.push(`component IN (${q.components.map((c) => p(c)).join(', ')})`);
    if (q.instance) where.push(`instance = ${p(q.instance)}`);
    if (q.minLevel) where.push(`level >= ${p(levelN(q.minLevel))}`);
    if (q.status) {
      const m = /^([1-5])xx$/i.exec(q.status);
      if (m) where.push(`status BETWEEN ${p(Number(m[1]) * 100)} AND ${p(Number(m[1]) * 100 + 99)}`);
      else if (/^[1-5]\d\d$/.test(q.status)) where.push(`status = ${p(Number(q.status))}`);
      else throw new LogQueryError(`status "${q.status}" is not a status code or class: write 502 or 5xx`);
    }
    if (q.route) where.push(`route ILIKE ${p(`%${likeEscape(q.route)}%`)} ESCAPE '\\'`);
    if (q.requestId) where.push(`request_id = ${p(q.requestId)}`);
    if (q.text) where.push(`msg ILIKE ${p(`%${likeEscape(q.text)}%`)} ESCAPE '\\'`);
    const cond = where.join(' AND ');

    const rowsRes = await this.conn.runAndReadAll(
      `SELECT ts, component, instance, level, status, route, request_id, msg FROM logs WHERE ${cond} ORDER BY ts DESC LIMIT ${limit}`, params);
    const rows: LogHit[] = rowsRes.getRowObjectsJS().map((o) => ({
      ts: Number(o.ts), component: String(o.component) as LogRow['component'], instance: String(o.instance), level: levels[Number(o.level)]!,
      status: o.status === null ? null : Number(o.status), route: o.route === null ? null : String(o.route),
      requestId: o.request_id === null ? null : String(o.request_id), msg: String(o.msg),
    }));

    const bucketMs = Math.max(1, Math.ceil((to - from) / buckets));
    const histRes = await this.conn.runAndReadAll(
      `SELECT (ts - ${p(BigInt(from))}) // ${p(BigInt(bucketMs))} AS b, count(*) AS n, count(*) FILTER (WHERE level >= ${levelN('error')}) AS e
       FROM logs WHERE ${cond} GROUP BY b`, params);
    const histogram = Array.from({ length: Math.ceil((to - from) / bucketMs) }, (_, i) => ({ t: from + i * bucketMs, count: 0, errors: 0 }));
    let total = 0;
    for (const o of histRes.getRowObjectsJS()) {
      const h = histogram[Number(o.b)];
      total += Number(o.n);
      if (h) {
        h.count = Number(o.n);
        h.errors = Number(o.e);
      }
    }
    return { rows, total, from, to, bucketMs, histogram, tookMs: Math.round(performance.now() - started) };
  }

  /**
   * The controllers' and the supervisor's decisions in [from, to), newest first: failovers, scale events,
   * replacements (the supervisor's and controllers' lines at warn or worse, and every autoscaler sentence).
   */
  async decisions(from: number, to: number, limit = 50): Promise<LogHit[]> {
    const r = await this.conn.runAndReadAll(
      `SELECT ts, component, instance, level, msg FROM logs
       WHERE ts >= $1 AND ts < $2 AND component IN ('supervisor', 'controller')
         AND (level >= ${levelN('warn')} OR msg LIKE 'autoscaler: %')
       ORDER BY ts DESC LIMIT ${Math.min(Math.max(limit, 1), 500)}`, [BigInt(from), BigInt(to)]);
    return r.getRowObjectsJS().map((o) => ({
      ts: Number(o.ts), component: String(o.component) as LogRow['component'], instance: String(o.instance), level: levels[Number(o.level)]!,
      status: null, route: null, requestId: null, msg: String(o.msg),
    }));
  }

  close(): void {
    this.conn.closeSync();
    this.db.closeSync();
  }
}

const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);
