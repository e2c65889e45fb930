// node --import tsx packages/api/src/commands/seed.ts  (reads DATABASE_WRITER_URL and DATABASE_TLS_CA; run migrate first)
import { DEMO_PASSWORD, seed } from '../db/seed.js';
import { loadDatabaseConfig } from '../config.js';

let db: ReturnType<typeof loadDatabaseConfig>;
try {
  db = loadDatabaseConfig(process.env);
} catch (err) {
  process.stderr.write(`seed: ${(err as Error).message}\n`);
  process.exit(1);
}
try {
  const r = await seed(db.writerUrl, db.tls);
  process.stdout.write(
    `seed: created ${r.usersCreated} users and ${r.articlesCreated} articles (now ${r.users} users, ${r.articles} articles); ` +
      `demo login: johndoe@example.com / ${DEMO_PASSWORD}\n`,
  );
} catch (err) {
  process.stderr.write(`seed: failed: ${(err as Error).message}\n`);
  process.exit(1);
}
