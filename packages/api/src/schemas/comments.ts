import { z } from 'zod';
import { ErrorBody, Profile, Slug, errorResponses, intQuery, nonBlank } from './common.js';

export const Comment = z
  .object({
    id: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
    body: z.string(),
    author: Profile,
  })
  .meta({ id: 'Comment' });
export type Comment = z.infer<typeof Comment>;

export const SingleCommentResponse = z.object({ comment: Comment });
export const MultipleCommentsResponse = z.object({ comments: z.array(Comment) });

const SlugParams = z.object({ slug: Slug });
export const CommentParams = z.object({ slug: Slug, id: intQuery(1, 2 ** 53 - 1) });

export const listCommentsSchema = {
  tags: ['Comments'],
  summary: 'Comments of an article (auth optional)',
  params: SlugParams,
  response: { 200: MultipleCommentsResponse, 404: ErrorBody, ...errorResponses },
};
export const createCommentSchema = {
  tags: ['Comments'],
  summary: 'Comment on an article',
  security: [{ Token: [] }],
  params: SlugParams,
  body: z.object({ comment: z.object({ body: nonBlank(10_000) }) }),
  response: { 201: SingleCommentResponse, 404: ErrorBody, ...errorResponses },
};
export const deleteCommentSchema = {
  tags: ['Comments'],
  summary: 'Delete a comment',
  security: [{ Token: [] }],
  params: CommentParams,
  response: { 204: z.undefined().describe('Deleted'), 403: ErrorBody, 404: ErrorBody, ...errorResponses },
};
