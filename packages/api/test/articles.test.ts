import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createArticle, json, makeApp, register, uid, type TestUser } from './helpers.js';

let app: FastifyInstance;
let alice: TestUser;
let bob: TestUser;
beforeAll(async () => {
  app = await makeApp();
  [alice, bob] = await Promise.all([register(app, 'alice'), register(app, 'bob')]);
});
afterAll(async () => { await app.close(); });

describe('create and get', () => {
  it('201 with the full article; tag order kept, duplicates dropped; GET by slug', async () => {
    const res = await app.inject({
      method: 'POST', url: '/api/articles', headers: alice.auth,
      payload: { article: { title: 'How to train your dragon', description: 'Ever wonder how?', body: 'You have to believe', tagList: ['zeta', 'alpha', 'mu', 'alpha'] } },
    });
    expect(res.statusCode).toBe(201);
    const a = json(res).article;
    expect(a).toMatchObject({
      title: 'How to train your dragon', description: 'Ever wonder how?', body: 'You have to believe', tagList: ['zeta', 'alpha', 'mu'],
      favorited: false, favoritesCount: 0, author: { username: alice.username, bio: null, image: null, following: false },
    });
    expect(a.slug).toMatch(/^how-to-train-your-dragon/);
    expect(new Date(a.createdAt).toISOString()).toBe(a.createdAt);
    expect(a.updatedAt).toBe(a.createdAt);
    const got = await app.inject({ url: `/api/articles/${a.slug}` });
    expect(got.statusCode).toBe(200);
    expect(json(got).article).toEqual(a);
  });

  it('normalizes tags: NFC, no zero-width or bidi characters; filtering uses the same form', async () => {
    const u = await register(app);
    const t = uid();
    // "e" + combining acute (NFD), a zero-width space, a right-to-left override, a BOM.
    const a = await createArticle(app, u, { tagList: [`cafe\u0301${t}`, `ja\u200Bva${t}`, `\u202Erl${t}`, `\uFEFFbom${t}`] });
    expect(json(await app.inject({ url: `/api/articles/${a.slug}` })).article.tagList).toEqual([`caf\u00e9${t}`, `java${t}`, `rl${t}`, `bom${t}`]);
    // A tag of invisible characters only is blank.
    const blank = await app.inject({ method: 'POST', url: '/api/articles', headers: u.auth, payload: { article: { title: `T ${t}`, description: 'd', body: 'b', tagList: ['\u200B\u202E'] } } });
    expect(blank.statusCode).toBe(422);
    const byNfd = json(await app.inject({ url: `/api/articles?tag=${encodeURIComponent(`cafe\u0301${t}`)}` }));
    expect(byNfd.articles.map((x: { slug: string }) => x.slug)).toEqual([a.slug]);
  });

  it('keeps slugs unique when titles repeat', async () => {
    const title = `Same title ${uid()}`;
    const slugs = await Promise.all([1, 2, 3].map(() => createArticle(app, alice, { title }).then((a) => a.slug)));
    expect(new Set(slugs).size).toBe(3);
    for (const s of slugs) expect((await app.inject({ url: `/api/articles/${s}` })).statusCode).toBe(200);
  });

  it('long titles: the slug is cut, stays unique, and is reachable', async () => {
    const title = `${'Long title '.repeat(22)}${uid()}`.slice(0, 250);
    const [a, b] = [await createArticle(app, alice, { title }), await createArticle(app, alice, { title })];
    expect(a.slug.length).toBeLessThanOrEqual(100);
    expect(b.slug.length).toBeGreaterThan(100);
    for (const s of [a.slug, b.slug]) expect((await app.inject({ url: `/api/articles/${s}` })).statusCode).toBe(200);
    expect((await app.inject({ url: `/api/articles/${b.slug}/comments/` })).statusCode).toBe(200);
  });

  it('slugifies odd titles', async () => {
    const a = await createArticle(app, alice, { title: `  Ünïcödé & <b>HTML</b> ${uid()} !! ` });
    expect(a.slug).toMatch(/^unicode-b-html-b-[0-9a-f]+$/);
    const b = await createArticle(app, alice, { title: '日本語' });
    expect(b.slug).toMatch(/^article(-[0-9a-f]{8})?$/);
    // "feed" is a route, not a slug
    const f = await createArticle(app, alice, { title: 'Feed' });
    expect(f.slug).toMatch(/^feed-article/);
    expect(json(await app.inject({ url: `/api/articles/${f.slug}` })).article.title).toBe('Feed');
  });

  it('404 for an unknown slug; 401 to create without token; 422 for missing fields', async () => {
    const nf = await app.inject({ url: `/api/articles/nope-${uid()}` });
    expect(nf.statusCode).toBe(404);
    expect(json(nf)).toEqual({ errors: { article: ['not found'] } });
    expect((await app.inject({ method: 'POST', url: '/api/articles', payload: { article: { title: 't', description: 'd', body: 'b' } } })).statusCode).toBe(401);
    const bad = await app.inject({ method: 'POST', url: '/api/articles', headers: alice.auth, payload: { article: { title: '  ' } } });
    expect(bad.statusCode).toBe(422);
    expect(Object.keys(json(bad).errors).sort()).toEqual(['body', 'description', 'title']);
    const badTags = await app.inject({ method: 'POST', url: '/api/articles', headers: alice.auth, payload: { article: { title: 't', description: 'd', body: 'b', tagList: 'x' } } });
    expect(json(badTags).errors.tagList).toBeDefined();
    const nullTags = await app.inject({ method: 'POST', url: '/api/articles', headers: alice.auth, payload: { article: { title: 't', description: 'd', body: 'b', tagList: [1] } } });
    expect(nullTags.statusCode).toBe(422);
  });
});

describe('update', () => {
  it('updates fields; a new title gives a new slug; tags: absent keeps, [] removes, null rejected', async () => {
    const a = await createArticle(app, alice, { tagList: ['one', 'two'] });
    const body = await app.inject({ method: 'PUT', url: `/api/articles/${a.slug}`, headers: alice.auth, payload: { article: { body: 'new body' } } });
    expect(body.statusCode).toBe(200);
    expect(json(body).article).toMatchObject({ slug: a.slug, body: 'new body', tagList: ['one', 'two'] });
    expect(json(body).article.updatedAt >= (a.updatedAt as string)).toBe(true);
    const reorder = await app.inject({ method: 'PUT', url: `/api/articles/${a.slug}`, headers: alice.auth, payload: { article: { tagList: ['two', 'three', 'one'] } } });
    expect(json(reorder).article.tagList).toEqual(['two', 'three', 'one']);
    const nul = await app.inject({ method: 'PUT', url: `/api/articles/${a.slug}`, headers: alice.auth, payload: { article: { tagList: null } } });
    expect(nul.statusCode).toBe(422);
    expect(json(nul).errors.tagList).toBeDefined();
    const cleared = await app.inject({ method: 'PUT', url: `/api/articles/${a.slug}`, headers: alice.auth, payload: { article: { tagList: [] } } });
    expect(json(cleared).article.tagList).toEqual([]);
    const title = `Renamed ${uid()}`;
    const renamed = await app.inject({ method: 'PUT', url: `/api/articles/${a.slug}`, headers: alice.auth, payload: { article: { title } } });
    const newSlug = json(renamed).article.slug;
    expect(newSlug).toBe(title.toLowerCase().replace(' ', '-'));
    expect((await app.inject({ url: `/api/articles/${a.slug}` })).statusCode).toBe(404);
    expect(json(await app.inject({ url: `/api/articles/${newSlug}` })).article).toMatchObject({ title, body: 'new body', tagList: [] });
    // same title again: slug kept
    const same = await app.inject({ method: 'PUT', url: `/api/articles/${newSlug}`, headers: alice.auth, payload: { article: { title } } });
    expect(json(same).article.slug).toBe(newSlug);
  });

  it('403 for another user, 404 unknown, 401 without token, 422 empty', async () => {
    const a = await createArticle(app, alice);
    const other = await app.inject({ method: 'PUT', url: `/api/articles/${a.slug}`, headers: bob.auth, payload: { article: { body: 'hijack' } } });
    expect(other.statusCode).toBe(403);
    expect(json(other)).toEqual({ errors: { article: ['forbidden'] } });
    expect((await app.inject({ method: 'PUT', url: `/api/articles/nope-${uid()}`, headers: alice.auth, payload: { article: { body: 'x' } } })).statusCode).toBe(404);
    expect((await app.inject({ method: 'PUT', url: `/api/articles/${a.slug}`, payload: { article: { body: 'x' } } })).statusCode).toBe(401);
    expect((await app.inject({ method: 'PUT', url: `/api/articles/${a.slug}`, headers: alice.auth, payload: { article: {} } })).statusCode).toBe(422);
    expect(json(await app.inject({ url: `/api/articles/${a.slug}` })).article.body).toBe('body text');
  });
});

describe('delete', () => {
  it('204 for the author (comments and favorites go too); 403 for others; 404 after', async () => {
    const a = await createArticle(app, alice);
    await app.inject({ method: 'POST', url: `/api/articles/${a.slug}/comments`, headers: bob.auth, payload: { comment: { body: 'hi' } } });
    await app.inject({ method: 'POST', url: `/api/articles/${a.slug}/favorite`, headers: bob.auth });
    const other = await app.inject({ method: 'DELETE', url: `/api/articles/${a.slug}`, headers: bob.auth });
    expect(other.statusCode).toBe(403);
    expect((await app.inject({ method: 'DELETE', url: `/api/articles/${a.slug}` })).statusCode).toBe(401);
    const del = await app.inject({ method: 'DELETE', url: `/api/articles/${a.slug}`, headers: alice.auth });
    expect(del.statusCode).toBe(204);
    expect(del.body).toBe('');
    expect((await app.inject({ url: `/api/articles/${a.slug}` })).statusCode).toBe(404);
    expect((await app.inject({ method: 'DELETE', url: `/api/articles/${a.slug}`, headers: alice.auth })).statusCode).toBe(404);
    expect((await app.inject({ url: `/api/articles/${a.slug}/comments` })).statusCode).toBe(404);
  });
});

describe('favorites', () => {
  it('favorite / unfavorite, idempotent, counted', async () => {
    const a = await createArticle(app, alice);
    const fav = await app.inject({ method: 'POST', url: `/api/articles/${a.slug}/favorite`, headers: bob.auth });
    expect(fav.statusCode).toBe(200);
    expect(json(fav).article).toMatchObject({ favorited: true, favoritesCount: 1 });
    const again = await app.inject({ method: 'POST', url: `/api/articles/${a.slug}/favorite`, headers: bob.auth });
    expect(json(again).article).toMatchObject({ favorited: true, favoritesCount: 1 });
    await app.inject({ method: 'POST', url: `/api/articles/${a.slug}/favorite`, headers: alice.auth });
    expect(json(await app.inject({ url: `/api/articles/${a.slug}`, headers: bob.auth })).article).toMatchObject({ favorited: true, favoritesCount: 2 });
    expect(json(await app.inject({ url: `/api/articles/${a.slug}` })).article).toMatchObject({ favorited: false, favoritesCount: 2 });
    const un = await app.inject({ method: 'DELETE', url: `/api/articles/${a.slug}/favorite`, headers: bob.auth });
    expect(json(un).article).toMatchObject({ favorited: false, favoritesCount: 1 });
    const unAgain = await app.inject({ method: 'DELETE', url: `/api/articles/${a.slug}/favorite`, headers: bob.auth });
    expect(json(unAgain).article).toMatchObject({ favorited: false, favoritesCount: 1 });
  });

  it('404 unknown article, 401 without token', async () => {
    expect((await app.inject({ method: 'POST', url: `/api/articles/nope-${uid()}/favorite`, headers: bob.auth })).statusCode).toBe(404);
    expect((await app.inject({ method: 'DELETE', url: `/api/articles/nope-${uid()}/favorite`, headers: bob.auth })).statusCode).toBe(404);
    expect((await app.inject({ method: 'POST', url: '/api/articles/whatever/favorite' })).statusCode).toBe(401);
  });
});

describe('list', () => {
  let carol: TestUser;
  let dave: TestUser;
  const tag = `t${uid()}`;
  const slugs: string[] = [];
  beforeAll(async () => {
    [carol, dave] = await Promise.all([register(app, 'carol'), register(app, 'dave')]);
    for (let i = 0; i < 5; i++) slugs.push((await createArticle(app, carol, { title: `Carol ${i} ${uid()}`, tagList: i % 2 === 0 ? [tag, 'common'] : ['common'] })).slug);
    slugs.push((await createArticle(app, dave, { title: `Dave ${uid()}`, tagList: [tag] })).slug);
    await app.inject({ method: 'POST', url: `/api/articles/${slugs[1]}/favorite`, headers: dave.auth });
    await app.inject({ method: 'POST', url: `/api/articles/${slugs[2]}/favorite`, headers: dave.auth });
  });

  it('newest first, no body in list items, articlesCount', async () => {
    const res = await app.inject({ url: '/api/articles?limit=3' });
    expect(res.statusCode).toBe(200);
    const b = json(res);
    expect(b.articles.length).toBe(3);
    expect(b.articlesCount).toBeGreaterThanOrEqual(6);
    for (const a of b.articles) expect(a).not.toHaveProperty('body');
    const dates = b.articles.map((a: { createdAt: string }) => a.createdAt);
    expect([...dates].sort().reverse()).toEqual(dates);
  });

  it('filters by author, tag, favorited, and combinations', async () => {
    const byAuthor = json(await app.inject({ url: `/api/articles?author=${carol.username}` }));
    expect(byAuthor.articlesCount).toBe(5);
    expect(byAuthor.articles.map((a: { slug: string }) => a.slug)).toEqual(slugs.slice(0, 5).reverse());
    const byTag = json(await app.inject({ url: `/api/articles?tag=${tag}` }));
    expect(byTag.articlesCount).toBe(4);
    expect(byTag.articles.map((a: { slug: string }) => a.slug)).toEqual([slugs[5], slugs[4], slugs[2], slugs[0]]);
    const byFav = json(await app.inject({ url: `/api/articles?favorited=${dave.username}` }));
    expect(byFav.articlesCount).toBe(2);
    expect(byFav.articles.map((a: { slug: string }) => a.slug)).toEqual([slugs[2], slugs[1]]);
    const tagAuthor = json(await app.inject({ url: `/api/articles?tag=${tag}&author=${dave.username}` }));
    expect(tagAuthor.articlesCount).toBe(1);
    const tagFav = json(await app.inject({ url: `/api/articles?tag=${tag}&favorited=${dave.username}` }));
    expect(tagFav.articles.map((a: { slug: string }) => a.slug)).toEqual([slugs[2]]);
    const all3 = json(await app.inject({ url: `/api/articles?tag=${tag}&favorited=${dave.username}&author=${carol.username}` }));
    expect(all3.articlesCount).toBe(1);
    const favAuthor = json(await app.inject({ url: `/api/articles?favorited=${dave.username}&author=${carol.username}&limit=1` }));
    expect(favAuthor).toMatchObject({ articlesCount: 2, articles: [{ slug: slugs[2] }] });
    for (const q of [`author=nobody${uid()}`, `tag=none${uid()}`, `favorited=nobody${uid()}`]) {
      expect(json(await app.inject({ url: `/api/articles?${q}` }))).toEqual({ articles: [], articlesCount: 0 });
    }
  });

  it('per-user fields for the viewer', async () => {
    const asDave = json(await app.inject({ url: `/api/articles?author=${carol.username}`, headers: dave.auth }));
    expect(asDave.articles.map((a: { favorited: boolean }) => a.favorited)).toEqual([false, false, true, true, false]);
    const anon = json(await app.inject({ url: `/api/articles?author=${carol.username}` }));
    expect(anon.articles.every((a: { favorited: boolean }) => !a.favorited)).toBe(true);
  });

  it('pagination edges', async () => {
    const q = `/api/articles?author=${carol.username}`;
    const p = async (s: string) => json(await app.inject({ url: `${q}&${s}` }));
    expect((await p('limit=2&offset=0')).articles.map((a: { slug: string }) => a.slug)).toEqual([slugs[4], slugs[3]]);
    expect((await p('limit=2&offset=4')).articles.map((a: { slug: string }) => a.slug)).toEqual([slugs[0]]);
    expect(await p('limit=2&offset=5')).toEqual({ articles: [], articlesCount: 5 });
    expect(await p('offset=10000')).toEqual({ articles: [], articlesCount: 5 });
    expect((await p('limit=100')).articles.length).toBe(5);
    expect((await p('limit=1')).articles.length).toBe(1);
    for (const bad of ['limit=0', 'limit=101', 'limit=-1', 'offset=-1', 'offset=10001', 'offset=1000000', 'limit=abc', 'limit=1.5', 'offset=', 'limit=1e2', 'limit=1&limit=2']) {
      const res = await app.inject({ url: `${q}&${bad}` });
      expect(res.statusCode, bad).toBe(422);
      expect(Object.keys(json(res).errors).some((k) => k === 'limit' || k === 'offset'), bad).toBe(true);
    }
  });

  it('feed: articles of followed users only; 401 without token', async () => {
    const eve = await register(app, 'eve');
    expect(json(await app.inject({ url: '/api/articles/feed', headers: eve.auth }))).toEqual({ articles: [], articlesCount: 0 });
    await app.inject({ method: 'POST', url: `/api/profiles/${dave.username}/follow`, headers: eve.auth });
    const feed = json(await app.inject({ url: '/api/articles/feed', headers: eve.auth }));
    expect(feed.articlesCount).toBe(1);
    expect(feed.articles[0]).toMatchObject({ slug: slugs[5], author: { username: dave.username, following: true } });
    await app.inject({ method: 'POST', url: `/api/profiles/${carol.username}/follow`, headers: eve.auth });
    const both = json(await app.inject({ url: '/api/articles/feed?limit=2&offset=1', headers: eve.auth }));
    expect(both.articlesCount).toBe(6);
    expect(both.articles.map((a: { slug: string }) => a.slug)).toEqual([slugs[4], slugs[3]]);
    expect((await app.inject({ url: '/api/articles/feed' })).statusCode).toBe(401);
    expect((await app.inject({ url: '/api/articles/feed?limit=0', headers: eve.auth })).statusCode).toBe(422);
  });
});

describe('tags', () => {
  it('GET /api/tags lists used tags', async () => {
    const t = `tag${uid()}`;
    await createArticle(app, alice, { tagList: [t] });
    const res = await app.inject({ url: '/api/tags' });
    expect(res.statusCode).toBe(200);
    expect(json(res).tags).toContain(t);
  });
});
