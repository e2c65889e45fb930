// The list and feed statements use indexes that already hold the requested order: checked with
// EXPLAIN on 50,000 synthetic articles (the real statements, captured while the repository runs).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import mysql, { type Pool } from 'mysql2/promise';
import { migrate } from '../src/db/migrate.js';
import { feedArticleIds, listArticleIds, loadArticles, reachableRows, type ListFilters } from '../src/db/articles.js';
import type { Queryable } from '../src/db/pool.js';
import { bulkLoad, type ScaleInfo } from './scale-data.js';

let pool: Pool;
let info: ScaleInfo;
beforeAll(async () => {
  const root = await mysql.createConnection({ uri: inject('mysqlRootUrl') });
  await root.query('DROP DATABASE IF EXISTS conduit_scale');
  await root.query('CREATE DATABASE conduit_scale');
  await root.end();
  const url = inject('mysqlUrl').replace(/\/conduit_test$/, '/conduit_scale');
  await migrate(url);
  pool = mysql.createPool({ uri: url, connectionLimit: 2 });
  info = await bulkLoad(pool, 50_000);
}, 120_000);
afterAll(async () => { await pool.end(); });

type Captured = { sql: string; values: unknown[] };
function capturing(): { q: Queryable; seen: Captured[] } {
  const seen: Captured[] = [];
  const q = {
    query: (opts: { sql: string; values?: unknown[] }) => {
      seen.push({ sql: opts.sql, values: opts.values ?? [] });
      return pool.query(opts);
    },
  } as unknown as Queryable;
  return { q, seen };
}

type Plan = { table: string | null; type: string; key: string | null; rows: number; Extra: string | null };
async function explain(c: Captured): Promise<Plan[]> {
  const [r] = await pool.query({ sql: `EXPLAIN ${c.sql}`, values: c.values });
  return r as Plan[];
}

const BIG = new Set(['articles', 'a', 'd', 'at', 'fv', 'f']);

describe('query plans at 50k articles', () => {
  const cases: [string, () => ListFilters][] = [
    ['global list', () => ({ tag: null, author: null, favorited: null })],
    ['tag', () => ({ tag: info.tag, author: null, favorited: null })],
    ['author', () => ({ tag: null, author: info.author, favorited: null })],
    ['favorited', () => ({ tag: null, author: null, favorited: info.reader.username })],
    ['tag + author', () => ({ tag: info.tag, author: info.author, favorited: null })],
    ['tag + favorited', () => ({ tag: info.tag, author: null, favorited: info.reader.username })],
  ];
  for (const [name, filters] of cases) {
    it(`${name}: page query without filesort or full scan, fast`, async () => {
      const { q, seen } = capturing();
      const t0 = performance.now();
      const page = await listArticleIds(q, filters(), 20, 0);
      await loadArticles(q, page.ids, { withBody: false });
      const ms = performance.now() - t0;
      expect(page.ids.length).toBeGreaterThan(0);
      const pageSql = seen.find((s) => /ORDER BY .* DESC LIMIT/.test(s.sql))!;
      const plan = await explain(pageSql);
      for (const row of plan) {
        expect(row.Extra ?? '', `${name}: ${JSON.stringify(row)}`).not.toContain('filesort');
        if (row.table && BIG.has(row.table)) expect(row.type, `${name}: ${JSON.stringify(row)}`).not.toBe('ALL');
      }
      expect(ms).toBeLessThan(500);
    });
  }

  it('feed: index lookups (no full scan of articles), fast', async () => {
    const { q, seen } = capturing();
    const t0 = performance.now();
    const page = await feedArticleIds(q, info.reader.id, 20, 0);
    const ms = performance.now() - t0;
    expect(page.count).toBeGreaterThan(1_000);
    for (const c of seen) {
      for (const row of await explain(c)) {
        if (row.table === 'a') expect(row.key, JSON.stringify(row)).toBe('ix_articles_author');
        if (row.table === 'f') expect(row.type, JSON.stringify(row)).not.toBe('ALL');
      }
    }
    expect(ms).toBeLessThan(1_000);
  });

  it('articlesCount stops at the rows a client can page to (offset ≤ 10,000); below that it is exact', async () => {
    const none = { tag: null, author: null, favorited: null };
    // The global list's kept counter (50,000 articles), capped.
    expect((await listArticleIds(pool, none, 20, 0)).count).toBe(reachableRows(20));
    // A user who favorited all 50,000: the count walks at most 10,020 rows.
    const fan = 'scaleu3';
    await pool.query("INSERT IGNORE INTO favorites (user_id, article_id) SELECT u.id, a.id FROM users u JOIN articles a WHERE u.username = ? AND a.slug LIKE 'scale-%'", [fan]);
    const { q, seen } = capturing();
    expect((await listArticleIds(q, { ...none, favorited: fan }, 20, 0)).count).toBe(10_020);
    const count = seen.find((c) => /COUNT\(\*\)/.test(c.sql))!;
    expect(count.values.at(-1)).toBe(10_020);
    // Under the cap the counts are exact: the reader's favorites (every 7th article) and feed (20 authors).
    const [[exact]] = (await pool.query('SELECT (SELECT COUNT(*) FROM favorites WHERE user_id = ?) AS fav, (SELECT COUNT(*) FROM follows f JOIN articles a ON a.author_id = f.followee_id WHERE f.follower_id = ?) AS feed', [info.reader.id, info.reader.id])) as unknown as [[{ fav: number; feed: number }]];
    expect(Number(exact.fav)).toBeLessThan(reachableRows(1));
    expect((await listArticleIds(pool, { ...none, favorited: info.reader.username }, 1, 0)).count).toBe(Number(exact.fav));
    expect((await feedArticleIds(pool, info.reader.id, 1, 0)).count).toBe(Number(exact.feed));
  });

  it('deep offset pages stay correct', async () => {
    const last = await listArticleIds(pool, { tag: null, author: null, favorited: null }, 20, 49_990);
    expect(last.ids.length).toBe(10);
  });
});
