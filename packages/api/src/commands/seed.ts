// node --import tsx packages/api/src/commands/seed.ts  (reads DATABASE_WRITER_URL; run migrate first)
import { DEMO_PASSWORD, seed } from '../db/seed.js';

const url = process.env.DATABASE_WRITER_URL;
if (!url) {
  process.stderr.write('seed: DATABASE_WRITER_URL: missing, expected a URL like mysql://user:pass@host:3306/database\n');
  process.exit(1);
}
try {
  const r = await seed(url);
  process.stdout.write(
    `seed: created ${r.usersCreated} users and ${r.articlesCreated} articles (now ${r.users} users, ${r.articles} articles); ` +
      `demo login: johndoe@example.com / ${DEMO_PASSWORD}\n`,
  );
} catch (err) {
  process.stderr.write(`seed: failed: ${(err as Error).message}\n`);
  process.exit(1);
}
