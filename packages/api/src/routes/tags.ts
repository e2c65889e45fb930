// GET /tags: the most used tags (cached).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import * as reads from '../cache/reads.js';
import { getTagsSchema } from '../schemas/tags.js';
import { sendOut } from './send.js';

const tagsRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get('/tags', { schema: getTagsSchema, config: { publicCache: 5 } }, async (_req, reply) => sendOut(reply, await reads.tags(app)));
};

export default tagsRoutes;
