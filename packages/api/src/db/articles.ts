// Articles, tags and favorites. Lists are two steps: the ids of one page (driven by the index that
// already has the requested order), then the rows of those ids. Counts come from counters kept in
// the writing transactions where a COUNT(*) would scan a large index.
import { randomBytes } from 'node:crypto';
import type { PoolConnection } from 'mysql2/promise';
import { exec, isDuplicate, rows, type Queryable } from './pool.js';
import type { AuthorRecord } from './users.js';
import { MAX_OFFSET } from '../schemas/articles.js';

/**
 * The most rows a client paging by `limit` can reach: offsets stop at MAX_OFFSET (MariaDB walks every skipped
 * row), so pages start at 0, limit, 2 × limit … up to the last multiple of limit not past it. articlesCount
 * counts no further: a count that walks rows (a filter without a kept counter: an author, a user's favorites,
 * the two combined, the feed) reads at most that many whatever the data, and a client that draws its page
 * links from the count never links to a page the API refuses.
 */
export const reachableRows = (limit: number): number => (Math.floor(MAX_OFFSET / limit) + 1) * limit;

/** COUNT(*) of the rows `fromWhere` (a `FROM … WHERE …` body) selects, reading at most reachableRows(limit) of them. */
async function reachableCount(q: Queryable, fromWhere: string, params: unknown[], limit: number): Promise<number> {
  const c = await rows<{ n: number }>(q, `SELECT COUNT(*) AS n FROM (SELECT 1 FROM ${fromWhere} LIMIT ?) reachable`, [...params, reachableRows(limit)]);
  return Number(c[0]?.n ?? 0);
}

export interface ArticleRecord {
  id: number;
  slug: string;
  title: string;
  description: string;
  /** Absent in list pages (the 2.0 list schema has no body). */
  body?: string;
  tagList: string[];
  createdAt: string;
  updatedAt: string;
  favoritesCount: number;
  author: AuthorRecord;
}

export interface ListFilters {
  tag: string | null;
  author: string | null;
  favorited: string | null;
}

export interface Page {
  ids: number[];
  count: number;
  /** The ids the list's filters resolved to; null when a filter named no tag or user (the page is empty). */
  filters?: { tagId: number | null; authorId: number | null; favoritedBy: number | null } | null;
}

const UNRESOLVED: Page = { ids: [], count: 0, filters: null };

/** Ids of one page of the global list, newest first, with the filters combined (AND). */
export async function listArticleIds(q: Queryable, f: ListFilters, limit: number, offset: number): Promise<Page> {
  let tagId: number | null = null;
  let tagCount = 0;
  let authorId: number | null = null;
  let favoritedBy: number | null = null;
  if (f.tag !== null) {
    const r = await rows<{ id: number; article_count: number }>(q, 'SELECT id, article_count FROM tags WHERE name = ?', [f.tag]);
    if (!r[0]) return UNRESOLVED;
    tagId = Number(r[0].id);
    tagCount = Number(r[0].article_count);
  }
  for (const [name, set] of [[f.author, (id: number) => (authorId = id)], [f.favorited, (id: number) => (favoritedBy = id)]] as const) {
    if (name === null) continue;
    const r = await rows<{ id: number }>(q, 'SELECT id FROM users WHERE username = ?', [name]);
    if (!r[0]) return UNRESOLVED;
    set(Number(r[0].id));
  }

  // The driving table is the one whose index is already in "newest first" order for the filter.
  let from: string;
  let idCol: string;
  const where: string[] = [];
  if (tagId !== null) {
    from = 'article_tags d';
    idCol = 'd.article_id';
    where.push('d.tag_id = ?');
  } else if (favoritedBy !== null) {
    from = 'favorites d';
    idCol = 'd.article_id';
    where.push('d.user_id = ?');
  } else {
    from = 'articles d';
    idCol = 'd.id';
  }
  if (authorId !== null) {
    if (from === 'articles d') {
      where.push('d.author_id = ?');
    } else {
      from += ` JOIN articles a ON a.id = ${idCol}`;
      where.push('a.author_id = ?');
    }
  }
  if (favoritedBy !== null && tagId !== null) {
    from += ` JOIN favorites fv ON fv.article_id = ${idCol} AND fv.user_id = ?`;
  }
  const whereSql = where.length ? `WHERE ${where.join(' AND ')}` : '';
  // Parameters in the textual order of their placeholders (FROM clause first, then WHERE).
  const ordered = orderParams(from, whereSql, { tagId, authorId, favoritedBy });
  const idRows = await rows<{ id: number }>(q, `SELECT ${idCol} AS id FROM ${from} ${whereSql} ORDER BY ${idCol} DESC LIMIT ? OFFSET ?`, [...ordered, limit, offset]);

  let count: number;
  if (tagId === null && authorId === null && favoritedBy === null) {
    const c = await rows<{ value: number }>(q, "SELECT value FROM counters WHERE name = 'articles'");
    count = Math.min(Number(c[0]?.value ?? 0), reachableRows(limit));
  } else if (tagId !== null && authorId === null && favoritedBy === null) {
    count = Math.min(tagCount, reachableRows(limit));
  } else {
    count = await reachableCount(q, `${from} ${whereSql}`, ordered, limit);
  }
  return { ids: idRows.map((r) => Number(r.id)), count, filters: { tagId, authorId, favoritedBy } };
}

/** Parameters in the textual order of their placeholders in `from` then `where`. */
function orderParams(from: string, where: string, v: { tagId: number | null; authorId: number | null; favoritedBy: number | null }): unknown[] {
  const out: unknown[] = [];
  if (from.includes('fv.user_id = ?')) out.push(v.favoritedBy);
  if (where.includes('d.tag_id = ?')) out.push(v.tagId);
  if (where.includes('d.user_id = ?')) out.push(v.favoritedBy);
  if (where.includes('author_id = ?')) out.push(v.authorId);
  return out;
}

/** Ids of one page of the feed: articles by authors the user follows, newest first. */
export async function feedArticleIds(q: Queryable, userId: number, limit: number, offset: number): Promise<Page> {
  const idRows = await rows<{ id: number }>(
    q,
    `SELECT a.id FROM follows f JOIN articles a ON a.author_id = f.followee_id
     WHERE f.follower_id = ? ORDER BY a.id DESC LIMIT ? OFFSET ?`,
    [userId, limit, offset],
  );
  const count = await reachableCount(q, 'follows f JOIN articles a ON a.author_id = f.followee_id WHERE f.follower_id = ?', [userId], limit);
  return { ids: idRows.map((r) => Number(r.id)), count };
}

interface ArticleRow {
  id: number;
  slug: string;
  title: string;
  description: string;
  body?: string;
  favorites_count: number;
  created_at: Date;
  updated_at: Date;
  author_id: number;
  username: string;
  bio: string | null;
  image: string | null;
}

/** Full records of the given ids, in the given order (missing ids are skipped). */
export async function loadArticles(q: Queryable, ids: number[], opts: { withBody: boolean }): Promise<ArticleRecord[]> {
  if (ids.length === 0) return [];
  const r = await rows<ArticleRow>(
    q,
    `SELECT a.id, a.slug, a.title, a.description, ${opts.withBody ? 'a.body,' : ''} a.favorites_count, a.created_at, a.updated_at,
            a.author_id, u.username, u.bio, u.image
     FROM articles a JOIN users u ON u.id = a.author_id WHERE a.id IN (?)`,
    [ids],
  );
  const tags = await rows<{ article_id: number; name: string }>(
    q,
    'SELECT at.article_id, t.name FROM article_tags at JOIN tags t ON t.id = at.tag_id WHERE at.article_id IN (?) ORDER BY at.article_id, at.position',
    [ids],
  );
  const tagMap = new Map<number, string[]>();
  for (const t of tags) {
    const id = Number(t.article_id);
    const list = tagMap.get(id);
    if (list) list.push(t.name);
    else tagMap.set(id, [t.name]);
  }
  const byId = new Map<number, ArticleRecord>();
  for (const a of r) {
    const id = Number(a.id);
    const rec: ArticleRecord = {
      id,
      slug: a.slug,
      title: a.title,
      description: a.description,
      tagList: tagMap.get(id) ?? [],
      createdAt: a.created_at.toISOString(),
      updatedAt: a.updated_at.toISOString(),
      favoritesCount: Number(a.favorites_count),
      author: { id: Number(a.author_id), username: a.username, bio: a.bio, image: a.image },
    };
    if (opts.withBody) rec.body = a.body ?? '';
    byId.set(id, rec);
  }
  return ids.map((id) => byId.get(id)).filter((a): a is ArticleRecord => a !== undefined);
}

export async function findArticleRef(q: Queryable, slug: string): Promise<{ id: number; authorId: number } | null> {
  const r = await rows<{ id: number; author_id: number }>(q, 'SELECT id, author_id FROM articles WHERE slug = ?', [slug]);
  return r[0] ? { id: Number(r[0].id), authorId: Number(r[0].author_id) } : null;
}

/** The subset of articleIds that userId has favorited. */
export async function favoritedAmong(q: Queryable, userId: number, articleIds: number[]): Promise<Set<number>> {
  if (articleIds.length === 0) return new Set();
  const r = await rows<{ article_id: number }>(q, 'SELECT article_id FROM favorites WHERE user_id = ? AND article_id IN (?)', [userId, articleIds]);
  return new Set(r.map((x) => Number(x.article_id)));
}

export function slugify(title: string): string {
  const s = title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 100)
    .replace(/-+$/, '');
  // "feed" would be shadowed by GET /api/articles/feed
  return s === '' ? 'article' : s === 'feed' ? 'feed-article' : s;
}

/** Inserts or renames with a unique slug: the plain slug first, then with a random suffix on collision. */
async function withUniqueSlug(title: string, write: (slug: string) => Promise<void>): Promise<string> {
  const base = slugify(title);
  for (let attempt = 0; ; attempt++) {
    const slug = attempt === 0 ? base : `${base}-${randomBytes(4).toString('hex')}`;
    try {
      await write(slug);
      return slug;
    } catch (err) {
      if (isDuplicate(err) && err.message.includes('uq_articles_slug') && attempt < 5) continue;
      throw err;
    }
  }
}

/** Tag ids for names (created if new), in the given order, duplicates removed. */
async function tagIds(conn: PoolConnection, names: string[]): Promise<number[]> {
  if (names.length === 0) return [];
  await exec(conn, 'INSERT IGNORE INTO tags (name) VALUES ?', [names.map((n) => [n])]);
  const r = await rows<{ id: number; name: string }>(conn, 'SELECT id, name FROM tags WHERE name IN (?)', [names]);
  const byName = new Map(r.map((x) => [x.name, Number(x.id)]));
  return names.map((n) => byName.get(n)!).filter((id) => id !== undefined);
}

async function setTags(conn: PoolConnection, articleId: number, names: string[], previous: number[]): Promise<void> {
  const ids = await tagIds(conn, names);
  await exec(conn, 'DELETE FROM article_tags WHERE article_id = ?', [articleId]);
  if (ids.length > 0) {
    await exec(conn, 'INSERT INTO article_tags (article_id, tag_id, position) VALUES ?', [ids.map((id, i) => [articleId, id, i])]);
  }
  const added = ids.filter((id) => !previous.includes(id)).sort((a, b) => a - b);
  const removed = previous.filter((id) => !ids.includes(id)).sort((a, b) => a - b);
  if (added.length) await exec(conn, 'UPDATE tags SET article_count = article_count + 1 WHERE id IN (?)', [added]);
  if (removed.length) await exec(conn, 'UPDATE tags SET article_count = GREATEST(article_count, 1) - 1 WHERE id IN (?)', [removed]);
}

async function currentTagIds(conn: PoolConnection, articleId: number): Promise<number[]> {
  const r = await rows<{ tag_id: number }>(conn, 'SELECT tag_id FROM article_tags WHERE article_id = ? ORDER BY position', [articleId]);
  return r.map((x) => Number(x.tag_id));
}

export interface NewArticle {
  title: string;
  description: string;
  body: string;
  tagList: string[];
}

export async function insertArticle(conn: PoolConnection, authorId: number, a: NewArticle): Promise<{ id: number; slug: string }> {
  let id = 0;
  const slug = await withUniqueSlug(a.title, async (s) => {
    const r = await exec(conn, 'INSERT INTO articles (slug, title, description, body, author_id) VALUES (?, ?, ?, ?, ?)', [s, a.title, a.description, a.body, authorId]);
    id = r.insertId;
  });
  await setTags(conn, id, a.tagList, []);
  await exec(conn, "UPDATE counters SET value = value + 1 WHERE name = 'articles'");
  return { id, slug };
}

export interface ArticlePatch {
  title?: string;
  description?: string;
  body?: string;
  tagList?: string[];
}

/** Applies a patch; a new title gives a new slug. Returns the (possibly new) slug. */
export async function updateArticle(conn: PoolConnection, id: number, currentSlug: string, p: ArticlePatch): Promise<string> {
  const sets: string[] = [];
  const params: unknown[] = [];
  for (const k of ['title', 'description', 'body'] as const) {
    if (p[k] !== undefined) {
      sets.push(`${k} = ?`);
      params.push(p[k]);
    }
  }
  sets.push('updated_at = CURRENT_TIMESTAMP(3)');
  let slug = currentSlug;
  const base = p.title === undefined ? '' : slugify(p.title);
  const sameBase = currentSlug === base || new RegExp(`^${base}-[0-9a-f]{8}$`).test(currentSlug);
  if (p.title !== undefined && !sameBase) {
    slug = await withUniqueSlug(p.title, async (s) => {
      await exec(conn, `UPDATE articles SET slug = ?, ${sets.join(', ')} WHERE id = ?`, [s, ...params, id]);
    });
  } else {
    await exec(conn, `UPDATE articles SET ${sets.join(', ')} WHERE id = ?`, [...params, id]);
  }
  if (p.tagList !== undefined) await setTags(conn, id, p.tagList, await currentTagIds(conn, id));
  return slug;
}

export async function deleteArticle(conn: PoolConnection, id: number): Promise<void> {
  const previous = (await currentTagIds(conn, id)).sort((a, b) => a - b);
  if (previous.length) await exec(conn, 'UPDATE tags SET article_count = GREATEST(article_count, 1) - 1 WHERE id IN (?)', [previous]);
  const r = await exec(conn, 'DELETE FROM articles WHERE id = ?', [id]);
  if (r.affectedRows > 0) await exec(conn, "UPDATE counters SET value = GREATEST(value, 1) - 1 WHERE name = 'articles'");
}

export async function addFavorite(conn: PoolConnection, userId: number, articleId: number): Promise<void> {
  const r = await exec(conn, 'INSERT IGNORE INTO favorites (user_id, article_id) VALUES (?, ?)', [userId, articleId]);
  if (r.affectedRows > 0) await exec(conn, 'UPDATE articles SET favorites_count = favorites_count + 1 WHERE id = ?', [articleId]);
}

export async function removeFavorite(conn: PoolConnection, userId: number, articleId: number): Promise<void> {
  const r = await exec(conn, 'DELETE FROM favorites WHERE user_id = ? AND article_id = ?', [userId, articleId]);
  if (r.affectedRows > 0) await exec(conn, 'UPDATE articles SET favorites_count = GREATEST(favorites_count, 1) - 1 WHERE id = ?', [articleId]);
}

/** Most used tags (at most `limit`), most used first. */
export async function popularTags(q: Queryable, limit: number): Promise<string[]> {
  const r = await rows<{ name: string }>(q, 'SELECT name FROM tags WHERE article_count > 0 ORDER BY article_count DESC, name ASC LIMIT ?', [limit]);
  return r.map((x) => x.name);
}
