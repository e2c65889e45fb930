// Articles and favorites: list, feed, get, create, update, delete, favorite, unfavorite.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import * as reads from '../cache/reads.js';
import {
  addFavorite, deleteArticle, favoritedAmong, findArticleRef, insertArticle, loadArticles, removeFavorite, updateArticle,
} from '../db/articles.js';
import { followedAmong } from '../db/users.js';
import { forbidden, notFound } from '../errors.js';
import { purgeFor } from '../edge/keys.js';
import {
  createArticleSchema, deleteArticleSchema, favoriteSchema, feedSchema, getArticleSchema, listArticlesSchema, unfavoriteSchema,
  updateArticleSchema, type SingleArticleResponse,
} from '../schemas/articles.js';
import { sendOut } from './send.js';

/** Tags as given, first occurrence kept (order matters: tagList order is kept). */
const dedupe = (tags: string[]) => [...new Set(tags)];
const orNull = (s: string | undefined) => (s === undefined || s === '' ? null : s);

const articlesRoutes: FastifyPluginAsyncZod = async (app) => {
  /** The article as the writer sees it now, with the viewer's flags (used after a write). */
  async function fresh(articleId: number, userId: number): Promise<SingleArticleResponse> {
    const [rec] = await loadArticles(app.db.writer, [articleId], { withBody: true });
    if (!rec) throw notFound('article');
    const [fav, fol] = await Promise.all([favoritedAmong(app.db.writer, userId, [rec.id]), followedAmong(app.db.writer, userId, [rec.author.id])]);
    return { article: reads.renderArticle(rec, fav.has(rec.id), fol.has(rec.author.id)) };
  }

  async function owned(slug: string, userId: number): Promise<{ id: number; authorId: number }> {
    const ref = await findArticleRef(app.db.writer, slug);
    if (!ref) throw notFound('article');
    if (ref.authorId !== userId) throw forbidden('article');
    return ref;
  }

  app.get('/articles', { schema: listArticlesSchema, config: { auth: 'optional', publicCache: 5 } }, async (req, reply) => {
    const q = req.query;
    const out = await reads.articleList(app, { userId: req.userId, pool: () => req.readPool() }, {
      tag: orNull(q.tag), author: orNull(q.author), favorited: orNull(q.favorited), limit: q.limit ?? 20, offset: q.offset ?? 0,
    });
    return sendOut(reply, out);
  });

  app.get('/articles/feed', { schema: feedSchema, config: { auth: 'required' } }, async (req, reply) => {
    // Built by the typed renderers like the cached reads: sent without the per-request schema encoding (send.ts).
    return sendOut(reply, { obj: await reads.feed(app, { userId: req.userId!, pool: () => req.readPool() }, req.query.limit ?? 20, req.query.offset ?? 0) });
  });

  app.get('/articles/:slug', { schema: getArticleSchema, config: { auth: 'lenient', publicCache: 5 } }, async (req, reply) => {
    const out = await reads.articleBySlug(app, { userId: req.userId, pool: () => req.readPool() }, req.params.slug);
    if (!out) throw notFound('article');
    return sendOut(reply, out);
  });

  app.post('/articles', { schema: createArticleSchema, config: { auth: 'required' } }, async (req, reply) => {
    const a = req.body.article;
    const me = req.userId!;
    const id = await app.db.tx(async (conn) => (await insertArticle(conn, me, { ...a, tagList: dedupe(a.tagList ?? []) })).id);
    await app.cache.bump();
    req.purge(purgeFor.createArticle());
    return reply.code(201).send(await fresh(id, me));
  });

  app.put('/articles/:slug', { schema: updateArticleSchema, config: { auth: 'required' } }, async (req) => {
    const me = req.userId!;
    const ref = await owned(req.params.slug, me);
    const a = req.body.article;
    await app.db.tx(async (conn) => {
      await updateArticle(conn, ref.id, req.params.slug, { ...a, tagList: a.tagList === undefined ? undefined : dedupe(a.tagList) });
    });
    await app.cache.bump();
    req.purge(purgeFor.updateArticle(ref.id, a.tagList !== undefined));
    return fresh(ref.id, me);
  });

  app.delete('/articles/:slug', { schema: deleteArticleSchema, config: { auth: 'required' } }, async (req, reply) => {
    const me = req.userId!;
    const ref = await owned(req.params.slug, me);
    await app.db.tx((conn) => deleteArticle(conn, ref.id));
    await app.cache.bump();
    req.purge(purgeFor.deleteArticle(ref.id));
    return reply.code(204).send();
  });

  for (const [method, schema, add] of [['POST', favoriteSchema, true], ['DELETE', unfavoriteSchema, false]] as const) {
    app.route({
      method,
      url: '/articles/:slug/favorite',
      schema,
      config: { auth: 'required' },
      handler: async (req) => {
        const me = req.userId!;
        const ref = await findArticleRef(app.db.writer, req.params.slug);
        if (!ref) throw notFound('article');
        // `favorited` is in the viewer's sets: a new version also when the outcome is unknown (a 503 after COMMIT).
        try {
          await app.db.tx((conn) => (add ? addFavorite(conn, me, ref.id) : removeFavorite(conn, me, ref.id)));
        } finally {
          await reads.viewerWrote(app, me);
        }
        // favoritesCount is part of the cached article and list pages.
        await app.cache.bump();
        req.purge(purgeFor.favorite(ref.id, me));
        return fresh(ref.id, me);
      },
    });
  }
};

export default articlesRoutes;
