// Comments of an article, oldest first.
import { exec, rows, type Queryable } from './pool.js';
import type { AuthorRecord } from './users.js';

export interface CommentRecord {
  id: number;
  articleId: number;
  body: string;
  createdAt: string;
  updatedAt: string;
  author: AuthorRecord;
}

interface CommentRow {
  id: number;
  article_id: number;
  body: string;
  created_at: Date;
  updated_at: Date;
  author_id: number;
  username: string;
  bio: string | null;
  image: string | null;
}

const SELECT = `SELECT c.id, c.article_id, c.body, c.created_at, c.updated_at, c.author_id, u.username, u.bio, u.image
  FROM comments c JOIN users u ON u.id = c.author_id`;

const toRecord = (r: CommentRow): CommentRecord => ({
  id: Number(r.id),
  articleId: Number(r.article_id),
  body: r.body,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
  author: { id: Number(r.author_id), username: r.username, bio: r.bio, image: r.image },
});

/** At most `limit` comments (newest `limit` if more), returned oldest first. */
export async function listComments(q: Queryable, articleId: number, limit = 500): Promise<CommentRecord[]> {
  const r = await rows<CommentRow>(q, `${SELECT} WHERE c.article_id = ? ORDER BY c.id DESC LIMIT ?`, [articleId, limit]);
  return r.map(toRecord).reverse();
}

export async function findComment(q: Queryable, id: number): Promise<CommentRecord | null> {
  const r = await rows<CommentRow>(q, `${SELECT} WHERE c.id = ?`, [id]);
  return r[0] ? toRecord(r[0]) : null;
}

/**
 * Adds a comment to the article with this slug in one statement (no separate lookup of the article: one
 * round trip less on the write path). The id of the new comment, or null when no article has this slug.
 */
export async function insertCommentOnSlug(q: Queryable, slug: string, authorId: number, body: string): Promise<number | null> {
  const r = await exec(q, 'INSERT INTO comments (article_id, author_id, body) SELECT id, ?, ? FROM articles WHERE slug = ?', [authorId, body, slug]);
  return r.affectedRows === 1 ? r.insertId : null;
}

export async function insertComment(q: Queryable, articleId: number, authorId: number, body: string): Promise<number> {
  const r = await exec(q, 'INSERT INTO comments (article_id, author_id, body) VALUES (?, ?, ?)', [articleId, authorId, body]);
  return r.insertId;
}

export async function deleteComment(q: Queryable, id: number): Promise<void> {
  await exec(q, 'DELETE FROM comments WHERE id = ?', [id]);
}
