import { z } from 'zod';
import { ErrorBody, Profile, Slug, errorResponses, intQuery, nonBlank } from './common.js';

// Zero-width characters, bidi controls and other invisible format/control characters: two tags that look
// the same must be the same tag (no "java\u200Bscript" beside "javascript", no right-to-left overrides).
const INVISIBLE = /[\p{Cc}\p{Cf}]/gu;
/** A tag as stored and as filtered on: Unicode NFC, invisible characters removed, trimmed. */
export const normalizeTag = (s: string) => s.normalize('NFC').replace(INVISIBLE, '').trim();

const Tag = z
  .string()
  .max(64, 'is too long (maximum is 64 characters)')
  .transform(normalizeTag)
  .refine((s) => s.length > 0, "can't be blank");
const TagList = z.array(Tag).max(20, 'has too many tags (maximum is 20)');

export const ArticleListItem = z
  .object({
    slug: z.string(),
    title: z.string(),
    description: z.string(),
    tagList: z.array(z.string()),
    createdAt: z.string(),
    updatedAt: z.string(),
    favorited: z.boolean(),
    favoritesCount: z.number().int(),
    author: Profile,
  })
  .meta({ id: 'ArticleListItem' });
export const Article = ArticleListItem.extend({ body: z.string() }).meta({ id: 'Article' });
export type Article = z.infer<typeof Article>;
export type ArticleListItem = z.infer<typeof ArticleListItem>;

export const SingleArticleResponse = z.object({ article: Article });
export const MultipleArticlesResponse = z.object({ articles: z.array(ArticleListItem), articlesCount: z.number().int() });
export type SingleArticleResponse = z.infer<typeof SingleArticleResponse>;
export type MultipleArticlesResponse = z.infer<typeof MultipleArticlesResponse>;

export const NewArticleBody = z.object({
  article: z.object({
    title: nonBlank(255),
    description: nonBlank(2000),
    body: nonBlank(100_000),
    tagList: TagList.optional(),
  }),
});

export const UpdateArticleBody = z.object({
  article: z
    .object({
      title: nonBlank(255).optional(),
      description: nonBlank(2000).optional(),
      body: nonBlank(100_000).optional(),
      // absent: tags kept; []: tags removed; null: rejected (not nullable)
      tagList: TagList.optional(),
    })
    .refine((a) => Object.values(a).some((v) => v !== undefined), 'must contain at least one field'),
});

const filter = z.string().max(255).optional();
// Offsets are capped: MariaDB walks and discards every skipped row, so a deep offset costs a scan per
// request. 10,000 is a thousand pages of ten; deeper than that is a crawler, not a reader.
export const MAX_OFFSET = 10_000;
const pagination = { limit: intQuery(1, 100).optional(), offset: intQuery(0, MAX_OFFSET).optional() };
export const ListQuery = z.object({ tag: filter.transform((t) => (t === undefined ? t : normalizeTag(t))), author: filter, favorited: filter, ...pagination });
export const FeedQuery = z.object(pagination);
export const SlugParams = z.object({ slug: Slug });

export const listArticlesSchema = {
  tags: ['Articles'],
  summary: 'Recent articles globally (auth optional)',
  querystring: ListQuery,
  response: { 200: MultipleArticlesResponse, ...errorResponses },
};
export const feedSchema = {
  tags: ['Articles'],
  summary: 'Recent articles from followed users',
  security: [{ Token: [] }],
  querystring: FeedQuery,
  response: { 200: MultipleArticlesResponse, ...errorResponses },
};
export const getArticleSchema = {
  tags: ['Articles'],
  summary: 'Get an article',
  params: SlugParams,
  response: { 200: SingleArticleResponse, 404: ErrorBody, ...errorResponses },
};
export const createArticleSchema = {
  tags: ['Articles'],
  summary: 'Create an article',
  security: [{ Token: [] }],
  body: NewArticleBody,
  response: { 201: SingleArticleResponse, ...errorResponses },
};
export const updateArticleSchema = {
  tags: ['Articles'],
  summary: 'Update an article',
  security: [{ Token: [] }],
  params: SlugParams,
  body: UpdateArticleBody,
  response: { 200: SingleArticleResponse, 403: ErrorBody, 404: ErrorBody, ...errorResponses },
};
export const deleteArticleSchema = {
  tags: ['Articles'],
  summary: 'Delete an article',
  security: [{ Token: [] }],
  params: SlugParams,
  response: { 204: z.undefined().describe('Deleted'), 403: ErrorBody, 404: ErrorBody, ...errorResponses },
};
export const favoriteSchema = {
  tags: ['Favorites'],
  summary: 'Favorite an article',
  security: [{ Token: [] }],
  params: SlugParams,
  response: { 200: SingleArticleResponse, 404: ErrorBody, ...errorResponses },
};
export const unfavoriteSchema = { ...favoriteSchema, summary: 'Unfavorite an article' };
