// node --import tsx packages/api/src/commands/migrate.ts  (reads DATABASE_WRITER_URL)
import { migrate } from '../db/migrate.js';

const url = process.env.DATABASE_WRITER_URL;
if (!url) {
  process.stderr.write('migrate: DATABASE_WRITER_URL: missing, expected a URL like mysql://user:pass@host:3306/database\n');
  process.exit(1);
}
try {
  const { applied } = await migrate(url);
  process.stdout.write(applied.length ? `migrate: applied ${applied.join(', ')}\n` : 'migrate: schema is up to date (nothing to apply)\n');
} catch (err) {
  process.stderr.write(`migrate: failed: ${(err as Error).message}\n`);
  process.exit(1);
}
