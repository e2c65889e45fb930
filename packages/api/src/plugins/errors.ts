// One error handler: every error becomes the RealWorld shape {"errors": {"field": ["message"]}}.
// Client mistakes keep their 4xx code (validation: 422 with field names); an unavailable database is a
// 503 with Retry-After; anything else is a 500 whose body says nothing about the cause (it is logged).
import fp from 'fastify-plugin';
import type { FastifyError } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { HttpError } from '../errors.js';
import { isDbUnavailable, isReadOnly } from '../db/pool.js';

type Issue = { instancePath: string; message?: string };

export function fieldErrors(issues: Issue[], context: string | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const i of issues) {
    const segs = i.instancePath.split('/').filter((s) => s !== '');
    // body: /user/email -> email, /article/tagList/0 -> tagList, /user -> user; query/params: /limit -> limit
    const field = context === 'body' ? (segs[1] ?? segs[0] ?? 'body') : (segs[0] ?? context ?? 'body');
    // Zod's type errors: a missing or null field is "can't be blank", any other wrong type "is invalid".
    let msg = i.message ?? 'is invalid';
    if (/received (undefined|null)$/.test(msg)) msg = "can't be blank";
    else if (/^Invalid input/.test(msg)) msg = 'is invalid';
    (out[field] ??= []).includes(msg) || out[field]!.push(msg);
  }
  return Object.keys(out).length ? out : { body: ['is invalid'] };
}

export default fp(
  async (app) => {
    app.setErrorHandler((err: FastifyError, req, reply) => {
      if (err instanceof HttpError) {
        return reply.code(err.statusCode).send({ errors: err.errors });
      }
      if (hasZodFastifySchemaValidationErrors(err)) {
        return reply.code(422).send({ errors: fieldErrors(err.validation as Issue[], err.validationContext) });
      }
      if (err.validation) {
        return reply.code(422).send({ errors: fieldErrors(err.validation as Issue[], err.validationContext) });
      }
      const code = (err as { code?: string }).code;
      if (code === 'ER_NO_REFERENCED_ROW_2' || code === 'ER_NO_REFERENCED_ROW') {
        // A row we point at vanished: the signed-in user (token of a deleted account) or the article.
        return /fk_\w+_(author|user|follower)`/.test(err.message)
          ? reply.code(401).send({ errors: { token: ['is invalid'] } })
          : reply.code(404).send({ errors: { resource: ['not found'] } });
      }
      if (isReadOnly(err) && app.db.recycleWriter()) {
        req.log.warn({ err: { code, message: err.message } }, 'the writer refuses writes (failover?): reconnecting the writer pool through its endpoint');
      }
      if (isDbUnavailable(err)) {
        req.log.warn({ err: { code: (err as { code?: string }).code, message: err.message } }, 'database unavailable');
        return reply.code(503).header('retry-after', '1').send({ errors: { database: ['is unavailable, retry shortly'] } });
      }
      const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
      if (status >= 400 && status < 500) {
        // Fastify's own client errors (bad JSON, body too large, wrong content type, rate limit): safe messages.
        const message = status === 400 && err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ? 'is not valid JSON' : err.message;
        return reply.code(status).send({ errors: { body: [message] } });
      }
      req.log.error({ err }, 'unhandled error');
      return reply.code(500).send({ errors: { body: ['internal error'] } });
    });

    app.setNotFoundHandler((_req, reply) => {
      reply.code(404).send({ errors: { route: ['not found'] } });
    });
  },
  { name: 'errors', dependencies: ['db'] },
);
