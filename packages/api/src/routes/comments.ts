// Comments: GET, POST /articles/:slug/comments, DELETE /articles/:slug/comments/:id. Not cached: a write
// marks the article's comments as just written, so every reader (not only the writer) reads them from the
// writer until the replicas surely have it (../plugins/read-your-writes.ts).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import * as reads from '../cache/reads.js';
import { findArticleRef } from '../db/articles.js';
import { deleteComment, findComment, insertCommentOnSlug, listComments, type CommentRecord } from '../db/comments.js';
import { followedAmong } from '../db/users.js';
import type { Queryable } from '../db/pool.js';
import { forbidden, notFound } from '../errors.js';
import { createCommentSchema, deleteCommentSchema, listCommentsSchema, type Comment } from '../schemas/comments.js';

const render = (c: CommentRecord, following: boolean): Comment => ({
  id: c.id, createdAt: c.createdAt, updatedAt: c.updatedAt, body: c.body, author: reads.profileOf(c.author, following),
});

const commentsOf = (slug: string) => `comments:${slug}`;

const commentsRoutes: FastifyPluginAsyncZod = async (app) => {
  async function articleRef(pool: Queryable, slug: string) {
    const ref = (await findArticleRef(pool, slug)) ?? (pool === app.db.writer ? null : await findArticleRef(app.db.writer, slug));
    if (!ref) throw notFound('article');
    return ref;
  }

  app.get('/articles/:slug/comments', { schema: listCommentsSchema, config: { auth: 'optional' } }, async (req) => {
    const pool = await req.readPoolFor(commentsOf(req.params.slug));
    const ref = await articleRef(pool, req.params.slug);
    const list = await listComments(pool, ref.id);
    const fol = req.userId === null ? new Set<number>() : await followedAmong(pool, req.userId, list.map((c) => c.author.id));
    return { comments: list.map((c) => render(c, fol.has(c.author.id))) };
  });

  app.post('/articles/:slug/comments', { schema: createCommentSchema, config: { auth: 'required' } }, async (req, reply) => {
    const me = req.userId!;
    const id = await app.db.tx((conn) => insertCommentOnSlug(conn, req.params.slug, me, req.body.comment.body));
    if (id === null) throw notFound('article');
    // Sent now with the user's own mark (one round trip, while findComment runs), awaited before the response leaves.
    req.markWritten(commentsOf(req.params.slug));
    const c = (await findComment(app.db.writer, id))!;
    return reply.code(201).send({ comment: render(c, false) });
  });

  app.delete('/articles/:slug/comments/:id', { schema: deleteCommentSchema, config: { auth: 'required' } }, async (req, reply) => {
    const me = req.userId!;
    const ref = await articleRef(app.db.writer, req.params.slug);
    const c = await findComment(app.db.writer, req.params.id);
    if (!c || c.articleId !== ref.id) throw notFound('comment');
    if (c.author.id !== me) throw forbidden('comment');
    await app.db.tx((conn) => deleteComment(conn, c.id));
    req.markWritten(commentsOf(req.params.slug));
    return reply.code(204).send();
  });
};

export default commentsRoutes;
