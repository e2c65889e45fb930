// node --import tsx packages/api/src/commands/migrate.ts  (reads DATABASE_WRITER_URL and DATABASE_TLS_CA)
import { migrate } from '../db/migrate.js';
import { loadDatabaseConfig } from '../config.js';

let db: ReturnType<typeof loadDatabaseConfig>;
try {
  db = loadDatabaseConfig(process.env);
} catch (err) {
  process.stderr.write(`migrate: ${(err as Error).message}\n`);
  process.exit(1);
}
try {
  const { applied } = await migrate(db.writerUrl, { tls: db.tls });
  process.stdout.write(applied.length ? `migrate: applied ${applied.join(', ')}\n` : 'migrate: schema is up to date (nothing to apply)\n');
} catch (err) {
  process.stderr.write(`migrate: failed: ${(err as Error).message}\n`);
  process.exit(1);
}
