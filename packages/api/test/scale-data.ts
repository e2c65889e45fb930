// Bulk synthetic data for index checks and the scale benchmark, generated inside MariaDB with the
// SEQUENCE engine (seq_1_to_N): N articles, one author per 200 articles, 50 tags, in seconds.
import type { Pool } from 'mysql2/promise';

export interface ScaleInfo {
  /** A user who follows 20 authors and favorited every 7th article. */
  reader: { id: number; username: string };
  author: string;
  tag: string;
}

export async function bulkLoad(pool: Pool, articles: number, prefix = 'scale'): Promise<ScaleInfo> {
  const authors = Math.max(10, Math.floor(articles / 200));
  const q = (sql: string, values: unknown[] = []) => pool.query({ sql, values, timeout: 600_000 });
  await q(`INSERT INTO users (username, email, password_hash) SELECT CONCAT(?, seq), CONCAT(?, seq, '@example.test'), 'x' FROM seq_1_to_${authors}`, [`${prefix}u`, `${prefix}u`]);
  const [[range]] = (await q('SELECT MIN(id) AS lo, MAX(id) AS hi FROM users WHERE username LIKE ?', [`${prefix}u%`])) as unknown as [[{ lo: number; hi: number }]];
  await q(`INSERT INTO tags (name) SELECT CONCAT(?, seq) FROM seq_1_to_50`, [`${prefix}t`]);
  await q(
    `INSERT INTO articles (slug, title, description, body, author_id, created_at, updated_at)
     SELECT CONCAT(?, '-', seq), CONCAT('Scale article ', seq), 'A synthetic article', 'Body', ? + (seq % ?),
            NOW(3) - INTERVAL (? - seq) SECOND, NOW(3) - INTERVAL (? - seq) SECOND
     FROM seq_1_to_${articles}`,
    [prefix, range.lo, authors, articles, articles],
  );
  await q(
    `INSERT INTO article_tags (article_id, tag_id, position)
     SELECT a.id, t.id, 0 FROM articles a JOIN tags t ON t.name = CONCAT(?, (a.id % 50) + 1) WHERE a.slug LIKE ?`,
    [`${prefix}t`, `${prefix}-%`],
  );
  await q(`UPDATE tags t SET article_count = (SELECT COUNT(*) FROM article_tags at WHERE at.tag_id = t.id) WHERE t.name LIKE ?`, [`${prefix}t%`]);
  await q(`INSERT INTO follows (follower_id, followee_id) SELECT ?, ? + seq FROM seq_1_to_20`, [range.lo, range.lo]);
  await q(`INSERT INTO favorites (user_id, article_id) SELECT ?, id FROM articles WHERE slug LIKE ? AND id % 7 = 0`, [range.lo, `${prefix}-%`]);
  await q(`UPDATE articles SET favorites_count = 1 WHERE slug LIKE ? AND id % 7 = 0`, [`${prefix}-%`]);
  await q(`UPDATE counters SET value = (SELECT COUNT(*) FROM articles) WHERE name = 'articles'`);
  await q('ANALYZE TABLE users, articles, tags, article_tags, favorites, follows');
  // a tag that the author's articles carry (so that "tag + author" has results)
  const [[t]] = (await q(
    'SELECT t.name FROM articles a JOIN article_tags at ON at.article_id = a.id JOIN tags t ON t.id = at.tag_id WHERE a.author_id = ? LIMIT 1',
    [range.lo + 1],
  )) as unknown as [[{ name: string }]];
  return { reader: { id: range.lo, username: `${prefix}u1` }, author: `${prefix}u2`, tag: t.name };
}
