// Entry of migrate.mjs in the API artifact: applies migrations/*.sql shipped beside it to DATABASE_WRITER_URL.
//   node migrate.mjs   (on an instance: with the environment file of the API tier)
// Same behaviour as packages/api/src/commands/migrate.ts; only the migrations folder differs (the artifact's own).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrate } from '@conduit/api';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'migrations');
const url = process.env.DATABASE_WRITER_URL;
if (!url) {
  process.stderr.write('migrate: DATABASE_WRITER_URL: missing, expected a URL like mysql://user:pass@host:3306/database\n');
  process.exit(1);
}
try {
  const { applied } = await migrate(url, { dir });
  process.stdout.write(applied.length ? `migrate: applied ${applied.join(', ')}\n` : 'migrate: schema is up to date (nothing to apply)\n');
} catch (err) {
  process.stderr.write(`migrate: failed: ${(err as Error).message}\n`);
  process.exit(1);
}
