import { z } from 'zod';
import { ErrorBody } from './common.js';

export const TagsResponse = z.object({ tags: z.array(z.string()) });
export const getTagsSchema = { tags: ['Tags'], summary: 'Most used tags', response: { 200: TagsResponse, 422: ErrorBody } };
