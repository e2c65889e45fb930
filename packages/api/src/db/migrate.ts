// Versioned, forward-only migrations: packages/api/migrations/NNNN_name.sql, applied in order and recorded
// in schema_migrations. Run by the `migrate` command only (never implicitly by a server instance).
// A named lock (GET_LOCK) makes concurrent runs safe; a second run applies nothing.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql, { type RowDataPacket } from 'mysql2/promise';
import type { DatabaseTls } from '../config.js';
import { sslOptions } from './pool.js';

export const migrationsDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'migrations');

export interface Migration {
  version: string;
  sql: string;
}

export function listMigrations(dir = migrationsDir): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: f.replace(/\.sql$/, ''), sql: readFileSync(join(dir, f), 'utf8') }));
}

export async function migrate(writerUrl: string, opts: { dir?: string; tls?: DatabaseTls } = {}): Promise<{ applied: string[] }> {
  const conn = await mysql.createConnection({ uri: writerUrl, ssl: sslOptions(opts.tls), multipleStatements: true, connectTimeout: 5_000, timezone: 'Z' });
  try {
    const [lock] = await conn.query<RowDataPacket[]>("SELECT GET_LOCK('conduit_migrate', 60) AS ok");
    if (lock[0]?.ok !== 1) throw new Error('migrate: another migration holds the lock for more than 60 s');
    try {
      await conn.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version VARCHAR(128) NOT NULL PRIMARY KEY,
        applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`);
      const [done] = await conn.query<RowDataPacket[]>('SELECT version FROM schema_migrations');
      const applied = new Set(done.map((r) => String(r.version)));
      const result: string[] = [];
      for (const m of listMigrations(opts.dir)) {
        if (applied.has(m.version)) continue;
        // MySQL DDL commits implicitly: a migration that fails half-way must be fixed by a new one.
        await conn.query(m.sql);
        await conn.query('INSERT INTO schema_migrations (version) VALUES (?)', [m.version]);
        result.push(m.version);
      }
      return { applied: result };
    } finally {
      await conn.query("SELECT RELEASE_LOCK('conduit_migrate')").catch(() => undefined);
    }
  } finally {
    await conn.end().catch(() => undefined);
  }
}
