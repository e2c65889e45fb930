// Entry of migrate.mjs in the API artifact: applies migrations/*.sql shipped beside it to DATABASE_WRITER_URL
// (over TLS when DATABASE_TLS_CA is set, as the server does).
//   node migrate.mjs   (on an instance: with the environment file of the API tier)
// Same behaviour as packages/api/src/commands/migrate.ts; only the migrations folder differs (the artifact's own).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadDatabaseConfig, migrate } from '@conduit/api';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'migrations');
let db: ReturnType<typeof loadDatabaseConfig>;
try {
  db = loadDatabaseConfig(process.env);
} catch (err) {
  process.stderr.write(`migrate: ${(err as Error).message}\n`);
  process.exit(1);
}
try {
  const { applied } = await migrate(db.writerUrl, { dir, tls: db.tls });
  process.stdout.write(applied.length ? `migrate: applied ${applied.join(', ')}\n` : 'migrate: schema is up to date (nothing to apply)\n');
} catch (err) {
  process.stderr.write(`migrate: failed: ${(err as Error).message}\n`);
  process.exit(1);
}
