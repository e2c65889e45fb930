import type { FastifyReply } from 'fastify';
import type { Out } from '../cache/reads.js';

/** Sends either ready JSON text (bypassing the serializer: it was built from the same typed renderers) or an object. */
export function sendOut<T>(reply: FastifyReply, out: Out<T>, code = 200): FastifyReply {
  reply.code(code);
  if ('text' in out) return reply.type('application/json; charset=utf-8').send(out.text);
  return reply.send(out.obj);
}
