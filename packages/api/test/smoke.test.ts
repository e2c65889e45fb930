import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { makeApp, register, createArticle } from './helpers.js';

describe('smoke', () => {
  let app: FastifyInstance;
  beforeAll(async () => { app = await makeApp(); });
  afterAll(async () => { await app.close(); });
  it('registers, creates, lists', async () => {
    const u = await register(app);
    const a = await createArticle(app, u, { tagList: ['x', 'y'] });
    const list = await app.inject({ url: '/api/articles' });
    console.log(list.statusCode, list.headers, list.body.slice(0, 500));
    const one = await app.inject({ url: `/api/articles/${a.slug}`, headers: u.auth });
    console.log(one.statusCode, one.body.slice(0, 500));
    expect(list.statusCode).toBe(200);
  });
});
