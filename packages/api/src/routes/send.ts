import type { FastifyReply } from 'fastify';
import type { Out } from '../cache/reads.js';

/**
 * Sends a hot read as JSON text. These bodies are built only by the typed renderers in cache/reads.ts
 * (checked by the compiler against the response schemas, and by the tests against the contract), so
 * the per-request schema encoding is skipped on the hottest routes; every other route goes through it.
 */
export function sendOut<T>(reply: FastifyReply, out: Out<T>, code = 200): FastifyReply {
  reply.code(code).type('application/json; charset=utf-8');
  if (!('raw' in out)) return reply.send(JSON.stringify(out.obj));
  // The anonymous copy is what an edge may share: tag it so that writes can purge it (../edge/keys.ts).
  if (out.keys) reply.header('surrogate-key', out.keys);
  return reply.send(out.raw);
}
