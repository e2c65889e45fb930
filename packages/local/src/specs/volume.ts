// A realistic volume of Conduit data for restore measurements (`tier seed --size 1GB`), as SQL steps:
// users, articles with markdown bodies, tags, favorites, follows and comments, generated inside MariaDB
// (the built-in SEQUENCE engine: seq_1_to_N) in batches, so no client ships the bytes. Ids are picked by
// arithmetic and joined to rows that exist: bulk inserts leave gaps in AUTO_INCREMENT ranges. Bodies carry
// random bytes (base64) so compression ratios are those of real text, not of a repeated string. Pure.

/** Bytes one generated article costs on disk with its comments, favorites and index entries (measured: ~6.5 KB). */
export const BYTES_PER_ARTICLE = 6_500;
const ARTICLES_PER_BATCH = 2_000;
const USERS_PER_ARTICLE = 0.1;

export function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(KB|MB|GB)$/i.exec(s.trim());
  if (!m) throw new Error(`--size "${s}" is not a size: e.g. 200MB or 1GB`);
  const unit = { KB: 1 << 10, MB: 1 << 20, GB: 1 << 30 }[m[2]!.toUpperCase() as 'KB' | 'MB' | 'GB'];
  return Math.round(Number(m[1]) * unit);
}

/** The batches for a target size: each one list of statements for one session (session variables carry ids). */
export function volumeSeedBatches(database: string, sizeBytes: number, run: string): string[][] {
  if (!/^[a-z0-9]+$/.test(run)) throw new Error(`run id "${run}" must be lowercase letters and digits`);
  const db = `\`${database.replace(/`/g, '')}\``;
  const articles = Math.max(1, Math.ceil(sizeBytes / BYTES_PER_ARTICLE));
  const batches = Math.ceil(articles / ARTICLES_PER_BATCH);
  const tags = ['markdown', 'restore', 'backup', 'mariadb', 'gtid', 'binlog', 'zstd', 'aws', 'aurora', 's3', 'kms', 'drills', 'rpo', 'rto', 'varnish', 'haproxy', 'redis', 'sentinel', 'node', 'fastify'];
  const first = [
    `INSERT IGNORE INTO ${db}.tags (name) VALUES ${tags.map((t) => `('${t}')`).join(', ')}`,
  ];
  const out: string[][] = [];
  for (let b = 0; b < batches; b++) {
    const n = Math.min(ARTICLES_PER_BATCH, articles - b * ARTICLES_PER_BATCH);
    const u = Math.max(1, Math.round(n * USERS_PER_ARTICLE));
    const o = b * ARTICLES_PER_BATCH;
    const uo = Math.round(o * USERS_PER_ARTICLE);
    const users = `${db}.users`;
    out.push([
      // seq_1_to_N (the SEQUENCE engine) resolves in the session's current database.
      `USE ${db}`,
      ...(b === 0 ? first : []),
      `SELECT COALESCE(MAX(id), 0) INTO @ubefore FROM ${users}`,
      `INSERT INTO ${users} (username, email, password_hash, bio) SELECT CONCAT('gen_${run}_', ${uo} + seq), CONCAT('gen_${run}_', ${uo} + seq, '@generated.invalid'), '!generated: no login', CONCAT('Generated user ', ${uo} + seq, ' writes about restores.') FROM seq_1_to_${u}`,
      `SELECT MIN(id), MAX(id) INTO @umin, @umax FROM ${users} WHERE username LIKE 'gen\\_${run}\\_%'`,
      `SELECT MIN(id), COUNT(*) INTO @tmin, @tcnt FROM ${db}.tags`,
      `SELECT COALESCE(MAX(id), 0) INTO @before FROM ${db}.articles`,
      `INSERT INTO ${db}.articles (slug, title, description, body, author_id, created_at, updated_at) ` +
        `SELECT CONCAT('gen-${run}-', ${o} + s.seq), CONCAT('Generated article ', ${o} + s.seq), 'A generated article: restore measurements on real sizes', ` +
        `CONCAT('# Article ', ${o} + s.seq, '\\n\\nSome **markdown** with a [link](https://example.com/', s.seq, ') and \`inline code\`.\\n\\n', ` +
        `TO_BASE64(RANDOM_BYTES(1024)), '\\n\\n> A quote between two paragraphs.\\n\\n', TO_BASE64(RANDOM_BYTES(1024)), '\\n\\n- one\\n- two\\n- three\\n\\n', TO_BASE64(RANDOM_BYTES(1024))), ` +
        // Authors (this batch's users) by rank, not by arithmetic on ids: a bulk insert's ids have gaps, and an
        // article joined to a missing id would be lost (the size asked for would not be reached).
        `u.id, NOW(3) - INTERVAL s.seq SECOND, NOW(3) FROM seq_1_to_${n} s JOIN (SELECT id, ROW_NUMBER() OVER (ORDER BY id) - 1 AS rn FROM ${users} WHERE id > @ubefore AND username LIKE 'gen\\_${run}\\_%') u ON u.rn = s.seq MOD ${u}`,
      `SELECT MIN(id), MAX(id) INTO @amin, @amax FROM ${db}.articles WHERE id > @before AND slug LIKE 'gen-${run}-%'`,
      `INSERT IGNORE INTO ${db}.article_tags (article_id, tag_id, position) SELECT a.id, t.id, k.seq FROM ${db}.articles a JOIN seq_0_to_1 k JOIN (SELECT id, ROW_NUMBER() OVER (ORDER BY id) - 1 AS rn FROM ${db}.tags) t ON t.rn = (a.id + k.seq) MOD @tcnt WHERE a.id BETWEEN @amin AND @amax`,
      `INSERT INTO ${db}.comments (article_id, author_id, body) SELECT a.id, u.id, CONCAT('Comment ', k.seq, ': ', TO_BASE64(RANDOM_BYTES(200))) FROM ${db}.articles a JOIN seq_1_to_2 k JOIN ${users} u ON u.id = @umin + ((a.id * 7 + k.seq) MOD (@umax - @umin + 1)) WHERE a.id BETWEEN @amin AND @amax`,
      `INSERT IGNORE INTO ${db}.favorites (user_id, article_id) SELECT u.id, a.id FROM ${db}.articles a JOIN seq_1_to_3 k JOIN ${users} u ON u.id = @umin + ((a.id * 13 + k.seq * 31) MOD (@umax - @umin + 1)) WHERE a.id BETWEEN @amin AND @amax`,
      `UPDATE ${db}.articles a SET favorites_count = (SELECT COUNT(*) FROM ${db}.favorites f WHERE f.article_id = a.id) WHERE a.id BETWEEN @amin AND @amax`,
      `INSERT IGNORE INTO ${db}.follows (follower_id, followee_id) SELECT u.id, v.id FROM ${users} u JOIN seq_1_to_5 k JOIN ${users} v ON v.id = @umin + ((u.id * 17 + k.seq) MOD (@umax - @umin + 1)) WHERE u.id > @umax - ${u} AND u.username LIKE 'gen\\_${run}\\_%' AND v.id <> u.id`,
    ]);
  }
  out.push([`USE ${db}`, `UPDATE ${db}.tags t SET article_count = (SELECT COUNT(*) FROM ${db}.article_tags x WHERE x.tag_id = t.id)`]);
  return out;
}
