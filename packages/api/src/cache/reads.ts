// The hot reads, cache-aside: article by slug, list pages, tags, profiles.
//
// A cached entry is the ANONYMOUS response, ready to send, preceded by one line of metadata (ids, and the
// surrogate keys the edge stores it under: ../edge/keys.ts):
//   {"ids":[[articleId, authorId], ...],"keys":"list lall article-7 profile-2"}\n{"articles":[...],"articlesCount":N}
// Anonymous requests send the second part as is. For a signed-in viewer the per-user fields
// (favorited, following) are computed for THAT viewer and overlaid; they are never taken from a shared
// entry, so no user ever sees another user's flags. They come from the viewer's own sets (the articles they
// favorited, the users they follow), kept in process memory under a per-viewer version in Redis
// (Cache.getVersioned) that every favorite, unfavorite, follow and unfollow of that viewer bumps
// (`viewerWrote`, before the write's response): the version is read in the same round trip as the page's
// generation, so a signed-in list costs no database round trip while the viewer has not written, and the
// viewer's next read after a write (on any instance) reloads the sets, from the writer.
import type { Cache } from './cache.js';
import { articleKey, listKeys, profileKey } from '../edge/keys.js';
import { rows, type Db, type Queryable } from '../db/pool.js';
import { feedArticleIds, findArticleRef, listArticleIds, loadArticles, popularTags, type ArticleRecord, type ListFilters } from '../db/articles.js';
import { findAuthorByUsername, followedAmong, type AuthorRecord } from '../db/users.js';
import type { Article, ArticleListItem, MultipleArticlesResponse, SingleArticleResponse } from '../schemas/articles.js';
import type { ProfileResponse } from '../schemas/profiles.js';
import type { Profile } from '../schemas/common.js';

export const TTL = { article: 300, list: 60, tags: 300, profile: 300, notFound: 5 } as const;
/** "Not found" is kept for seconds only: the name may be registered or the article created any moment. */
const orNotFound = (ttl: number) => (raw: string) => (raw === NOT_FOUND ? TTL.notFound : ttl);

export interface Viewer {
  userId: number | null;
  /**
   * Where this viewer's reads go: the reader, or the writer right after this viewer wrote (`req.readPool`,
   * a Redis lookup for a signed-in viewer). Asked only when a read goes to the database (a cache miss; a
   * viewer with more favorites or follows than VIEWER_SET_MAX): a read the cache and the viewer's sets answer
   * sends no read-your-writes lookup.
   */
  pool: () => Promise<Queryable>;
}

export interface Reads {
  db: Db;
  cache: Cache;
}

/**
 * A response: either ready-to-send JSON (bytes or text; anonymous bytes with the surrogate keys an edge may
 * store them under) or an object (per viewer).
 */
export type Out<T> = { raw: Buffer | string; keys?: string } | { obj: T };

const NOT_FOUND = '-';

/** A cache entry decoded once per process and generation (the near cache keeps this form). */
interface Entry {
  found: boolean;
  /** (articleId, authorId) pairs, in the order of the body. */
  ids: [number, number][];
  /** Surrogate keys, space-separated; '' for an entry written without them (never stored at the edge). */
  keys: string;
  /** The anonymous response: text (to parse for a viewer) and bytes (to send as is). */
  text: string;
  raw: Buffer;
  /**
   * The per-viewer flags of `raw`, in order (for a list: favorited then author.following of each article):
   * their names and the byte offsets of their `false`. A viewer's response is a copy of `raw` with `true `
   * (the same length: JSON allows the space) written over the flags that are true for that viewer, or `raw`
   * itself when none is: no JSON parse and stringify, and no string building, per request. A key cannot occur
   * inside a JSON string (its quotes would be escaped), so every match is one of the renderers' own keys.
   */
  flags: string[];
  flagAt: number[];
}

const FLAG = /"(favorited|following)":false/g;

function decode(entry: string): Entry {
  if (entry === NOT_FOUND) return { found: false, ids: [], keys: '', text: '', raw: Buffer.alloc(0), flags: [], flagAt: [] };
  const nl = entry.indexOf('\n');
  const text = entry.slice(nl + 1);
  const flags: string[] = [];
  const flagAt: number[] = [];
  let from = 0;
  let bytes = 0;
  for (const m of text.matchAll(FLAG)) {
    const cut = m.index + m[0].length - 'false'.length;
    bytes += Buffer.byteLength(text.slice(from, cut));
    flags.push(m[1]!);
    flagAt.push(bytes);
    bytes += 'false'.length;
    from = cut + 'false'.length;
  }
  const meta = JSON.parse(entry.slice(0, nl)) as { ids: [number, number][]; keys?: string };
  return { found: true, ids: meta.ids, keys: meta.keys ?? '', text, raw: Buffer.from(text), flags, flagAt };
}

/** Written over a flag's `false`: the same number of bytes. */
const TRUE = Buffer.from('true ');

/**
 * The entry's bytes with the viewer's flags: per (articleId, authorId) pair, favorited then following
 * (profiles: following only). Null when the entry's flags are not in that order (then the caller parses).
 */
function withFlags(e: Entry, f: { fav: Set<number>; fol: Set<number> }, favorites: boolean): Buffer | null {
  const per = favorites ? 2 : 1;
  if (e.flags.length !== e.ids.length * per) return null;
  let out: Buffer | null = null;
  for (let i = 0; i < e.flags.length; i++) {
    const [articleId, authorId] = e.ids[Math.floor(i / per)]!;
    const kind = favorites && i % 2 === 0 ? 'favorited' : 'following';
    if (e.flags[i] !== kind) return null;
    if (kind === 'favorited' ? f.fav.has(articleId) : f.fol.has(authorId)) {
      out ??= Buffer.from(e.raw);
      out.set(TRUE, e.flagAt[i]!);
    }
  }
  return out ?? e.raw;
}

const encode = (ids: [number, number][], keys: string[], body: unknown) => `${JSON.stringify({ ids, keys: keys.join(' ') })}\n${JSON.stringify(body)}`;
const anonymous = (e: Entry): { raw: Buffer; keys: string } => ({ raw: e.raw, keys: e.keys });

export function profileOf(a: AuthorRecord, following: boolean): Profile {
  return { username: a.username, bio: a.bio, image: a.image, following };
}

export function renderArticle(a: ArticleRecord, favorited: boolean, following: boolean): Article {
  return {
    slug: a.slug,
    title: a.title,
    description: a.description,
    body: a.body ?? '',
    tagList: a.tagList,
    createdAt: a.createdAt,
    updatedAt: a.updatedAt,
    favorited,
    favoritesCount: a.favoritesCount,
    author: profileOf(a.author, following),
  };
}

export function renderListItem(a: ArticleRecord, favorited: boolean, following: boolean): ArticleListItem {
  // The list item is the article without its body (RealWorld 2.0 lists leave bodies out).
  const { body: _body, ...item } = renderArticle(a, favorited, following);
  return item;
}

/** Most favorites (and, apart, follows) of one viewer kept in memory; past that, that viewer's flags are asked per page. */
const VIEWER_SET_MAX = 1_000;
/** How long a process keeps a viewer's sets at most (the viewer's own writes make every process reload them sooner). */
const VIEWER_TTL_MS = 60_000;

/** What a viewer favorited and follows; null: more than VIEWER_SET_MAX (asked per page instead). */
interface ViewerSets {
  fav: Set<number> | null;
  fol: Set<number> | null;
}

const viewerKey = (userId: number) => `viewer:${userId}`;

/** After a write of the viewer's favorites or follows (committed): every instance reloads the viewer's sets. */
export const viewerWrote = (r: Reads, userId: number): Promise<void> => r.cache.bumpVersion(viewerKey(userId));

/**
 * The viewer's sets (null for an anonymous viewer). Sends its Redis command at once: call it in the same
 * event-loop turn as the request's cache read (one round trip for both). Never rejects unhandled (the
 * caller's await still throws).
 */
function viewerSets(r: Reads, v: Viewer): Promise<ViewerSets> | null {
  const userId = v.userId;
  if (userId === null) return null;
  const p = r.cache
    .getVersioned(viewerKey(userId), VIEWER_TTL_MS, async (fromWriter) => loadViewerSets(fromWriter ? r.db.writer : await v.pool(), userId), weigh)
    .then((x) => x.value);
  p.catch(() => undefined);
  return p;
}

/** A viewer's share of the process's budget for versioned values (Cache versionedBudget): one per id kept, at least 1. */
const weigh = (s: ViewerSets) => 1 + (s.fav?.size ?? 0) + (s.fol?.size ?? 0);

async function loadViewerSets(pool: Queryable, userId: number): Promise<ViewerSets> {
  const r = await rows<{ k: string; id: number }>(
    pool,
    `SELECT 'f' AS k, article_id AS id FROM (SELECT article_id FROM favorites WHERE user_id = ? LIMIT ?) f
     UNION ALL
     SELECT 'u' AS k, followee_id AS id FROM (SELECT followee_id FROM follows WHERE follower_id = ? LIMIT ?) u`,
    [userId, VIEWER_SET_MAX + 1, userId, VIEWER_SET_MAX + 1],
  );
  const fav = new Set<number>();
  const fol = new Set<number>();
  for (const x of r) (x.k === 'f' ? fav : fol).add(Number(x.id));
  return { fav: fav.size > VIEWER_SET_MAX ? null : fav, fol: fol.size > VIEWER_SET_MAX ? null : fol };
}

/**
 * The viewer's flags for a set of (articleId, authorId) pairs: from the viewer's sets, or (a viewer with more
 * than VIEWER_SET_MAX of either) one round trip to the database.
 */
async function flags(pool: () => Promise<Queryable>, userId: number, pairs: [number, number][], sets: Promise<ViewerSets>): Promise<{ fav: Set<number>; fol: Set<number> }> {
  const s = await sets;
  if (s.fav !== null && s.fol !== null) return { fav: s.fav, fol: s.fol };
  const fav = new Set<number>();
  const fol = new Set<number>();
  if (pairs.length === 0) return { fav, fol };
  const r = await rows<{ k: string; id: number }>(
    await pool(),
    `SELECT 'f' AS k, article_id AS id FROM favorites WHERE user_id = ? AND article_id IN (?)
     UNION ALL
     SELECT 'u' AS k, followee_id AS id FROM follows WHERE follower_id = ? AND followee_id IN (?)`,
    [userId, pairs.map((p) => p[0]), userId, [...new Set(pairs.map((p) => p[1]))]],
  );
  for (const x of r) (x.k === 'f' ? fav : fol).add(Number(x.id));
  return { fav, fol };
}

export async function articleBySlug(r: Reads, v: Viewer, slug: string): Promise<Out<SingleArticleResponse> | null> {
  const sets = viewerSets(r, v);
  const { value } = await r.cache.getOrLoad(`article:${slug}`, orNotFound(TTL.article), async (fromWriter) => {
    const pool = fromWriter ? r.db.writer : await v.pool();
    let rec = await loadBySlug(pool, slug);
    // Read-your-writes across instances: a replica may not have the article yet.
    if (!rec && pool !== r.db.writer) rec = await loadBySlug(r.db.writer, slug);
    if (!rec) return NOT_FOUND;
    return encode([[rec.id, rec.author.id]], [articleKey(rec.id), profileKey(rec.author.id)], { article: renderArticle(rec, false, false) });
  }, decode);
  if (!value.found) return null;
  if (v.userId === null || sets === null) return anonymous(value);
  const ids = value.ids;
  const f = await flags(v.pool, v.userId, ids, sets);
  const text = withFlags(value, f, true);
  if (text !== null) return { raw: text };
  const obj = JSON.parse(value.text) as SingleArticleResponse;
  obj.article.favorited = f.fav.has(ids[0]![0]);
  obj.article.author.following = f.fol.has(ids[0]![1]);
  return { obj };
}

async function loadBySlug(pool: Queryable, slug: string): Promise<ArticleRecord | null> {
  const ref = await findArticleRef(pool, slug);
  if (!ref) return null;
  const [rec] = await loadArticles(pool, [ref.id], { withBody: true });
  return rec ?? null;
}

export interface ListParams extends ListFilters {
  limit: number;
  offset: number;
}

export async function articleList(r: Reads, v: Viewer, p: ListParams): Promise<Out<MultipleArticlesResponse>> {
  const key = `list:${JSON.stringify([p.limit, p.offset, p.tag, p.author, p.favorited])}`;
  const sets = viewerSets(r, v);
  const { value } = await r.cache.getOrLoad(key, TTL.list, async (fromWriter) => {
    // The viewer's pool: the writer for someone who just wrote (a fresher entry is fine to share).
    const pool = fromWriter ? r.db.writer : await v.pool();
    const page = await listArticleIds(pool, p, p.limit, p.offset);
    const recs = await loadArticles(pool, page.ids, { withBody: false });
    const pairs = recs.map((a): [number, number] => [a.id, a.author.id]);
    return encode(pairs, listKeys(page.filters ?? null, pairs), { articles: recs.map((a) => renderListItem(a, false, false)), articlesCount: page.count });
  }, decode);
  if (v.userId === null || sets === null) return anonymous(value);
  const ids = value.ids;
  const f = await flags(v.pool, v.userId, ids, sets);
  const text = withFlags(value, f, true);
  if (text !== null) return { raw: text };
  const obj = JSON.parse(value.text) as MultipleArticlesResponse;
  obj.articles.forEach((a, i) => {
    a.favorited = f.fav.has(ids[i]![0]);
    a.author.following = f.fol.has(ids[i]![1]);
  });
  return { obj };
}

/** The feed is per user: its page is read from the database every time (never cached); the flags from the viewer's sets. */
export async function feed(r: Reads, v: Viewer & { userId: number }, limit: number, offset: number): Promise<MultipleArticlesResponse> {
  const pool = v.pool();
  const sets = viewerSets(r, v)!;
  const page = await feedArticleIds(await pool, v.userId, limit, offset);
  const recs = await loadArticles(await pool, page.ids, { withBody: false });
  const f = await flags(v.pool, v.userId, recs.map((a) => [a.id, a.author.id]), sets);
  return { articles: recs.map((a) => renderListItem(a, f.fav.has(a.id), f.fol.has(a.author.id))), articlesCount: page.count };
}

export async function tags(r: Reads): Promise<Out<never>> {
  const { value } = await r.cache.getOrLoad('tags', TTL.tags, async (fromWriter) => {
    const list = await popularTags(fromWriter ? r.db.writer : r.db.reader, 200);
    return encode([], ['tags'], { tags: list });
  }, decode);
  return anonymous(value);
}

export async function profile(r: Reads, v: Viewer, username: string): Promise<Out<ProfileResponse> | null> {
  const sets = viewerSets(r, v);
  const { value } = await r.cache.getOrLoad(`profile:${username}`, orNotFound(TTL.profile), async (fromWriter) => {
    const pool = fromWriter ? r.db.writer : await v.pool();
    let a = await findAuthorByUsername(pool, username);
    if (!a && pool !== r.db.writer) a = await findAuthorByUsername(r.db.writer, username);
    if (!a) return NOT_FOUND;
    return encode([[a.id, a.id]], [profileKey(a.id)], { profile: profileOf(a, false) });
  }, decode);
  if (!value.found) return null;
  if (v.userId === null || sets === null) return anonymous(value);
  const id = value.ids[0]![0];
  const obj = JSON.parse(value.text) as ProfileResponse;
  const fol = (await sets).fol;
  obj.profile.following = (fol ?? (await followedAmong(await v.pool(), v.userId, [id]))).has(id);
  return { obj };
}
