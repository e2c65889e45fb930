// Profiles and follows: GET /profiles/:username, POST and DELETE /profiles/:username/follow.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import * as reads from '../cache/reads.js';
import { findAuthorByUsername, follow, unfollow } from '../db/users.js';
import { notFound, unprocessable } from '../errors.js';
import { followSchema, getProfileSchema, unfollowSchema } from '../schemas/profiles.js';
import { sendOut } from './send.js';

const profilesRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get('/profiles/:username', { schema: getProfileSchema, config: { auth: 'optional', publicCache: 5 } }, async (req, reply) => {
    const out = await reads.profile(app, { userId: req.userId, pool: () => req.readPool() }, req.params.username);
    if (!out) throw notFound('profile');
    return sendOut(reply, out);
  });

  for (const [method, schema, following] of [['POST', followSchema, true], ['DELETE', unfollowSchema, false]] as const) {
    app.route({
      method,
      url: '/profiles/:username/follow',
      schema,
      config: { auth: 'required' },
      handler: async (req) => {
        const me = req.userId!;
        const target = await findAuthorByUsername(app.db.writer, req.params.username);
        if (!target) throw notFound('profile');
        if (target.id === me && following) throw unprocessable('username', 'cannot follow yourself');
        // `following` is in the viewer's sets: a new version also when the outcome is unknown (a 503 after COMMIT).
        try {
          await app.db.tx((conn) => (following ? follow(conn, me, target.id) : unfollow(conn, me, target.id)));
        } finally {
          await reads.viewerWrote(app, me);
        }
        return { profile: reads.profileOf(target, following) };
      },
    });
  }
};

export default profilesRoutes;
