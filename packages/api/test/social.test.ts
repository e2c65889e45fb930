import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createArticle, json, makeApp, register, uid, type TestUser } from './helpers.js';

let app: FastifyInstance;
let alice: TestUser;
let bob: TestUser;
beforeAll(async () => {
  app = await makeApp();
  [alice, bob] = await Promise.all([register(app, 'alice'), register(app, 'bob')]);
});
afterAll(async () => { await app.close(); });

describe('profiles and follows', () => {
  it('GET a profile (anonymous and signed in), follow, unfollow', async () => {
    const anon = await app.inject({ url: `/api/profiles/${alice.username}` });
    expect(anon.statusCode).toBe(200);
    expect(json(anon)).toEqual({ profile: { username: alice.username, bio: null, image: null, following: false } });
    const f = await app.inject({ method: 'POST', url: `/api/profiles/${alice.username}/follow`, headers: bob.auth });
    expect(f.statusCode).toBe(200);
    expect(json(f).profile).toMatchObject({ username: alice.username, following: true });
    expect(json(await app.inject({ url: `/api/profiles/${alice.username}`, headers: bob.auth })).profile.following).toBe(true);
    expect(json(await app.inject({ url: `/api/profiles/${alice.username}` })).profile.following).toBe(false);
    expect(json(await app.inject({ method: 'POST', url: `/api/profiles/${alice.username}/follow`, headers: bob.auth })).profile.following).toBe(true);
    const u = await app.inject({ method: 'DELETE', url: `/api/profiles/${alice.username}/follow`, headers: bob.auth });
    expect(json(u).profile.following).toBe(false);
    expect(json(await app.inject({ url: `/api/profiles/${alice.username}`, headers: bob.auth })).profile.following).toBe(false);
  });

  it('404 unknown user, 401 without token, 422 following oneself', async () => {
    const nf = await app.inject({ url: `/api/profiles/nobody${uid()}` });
    expect(nf.statusCode).toBe(404);
    expect(json(nf)).toEqual({ errors: { profile: ['not found'] } });
    expect((await app.inject({ method: 'POST', url: `/api/profiles/nobody${uid()}/follow`, headers: bob.auth })).statusCode).toBe(404);
    expect((await app.inject({ method: 'DELETE', url: `/api/profiles/nobody${uid()}/follow`, headers: bob.auth })).statusCode).toBe(404);
    expect((await app.inject({ method: 'POST', url: `/api/profiles/${alice.username}/follow` })).statusCode).toBe(401);
    expect((await app.inject({ method: 'DELETE', url: `/api/profiles/${alice.username}/follow` })).statusCode).toBe(401);
    expect((await app.inject({ method: 'POST', url: `/api/profiles/${bob.username}/follow`, headers: bob.auth })).statusCode).toBe(422);
    expect((await app.inject({ url: `/api/profiles/${alice.username}`, headers: { authorization: 'Token bad.to.ken' } })).statusCode).toBe(401);
  });
});

describe('comments', () => {
  it('create (201), list (oldest first, following per viewer), delete (204)', async () => {
    const a = await createArticle(app, alice);
    const c1 = await app.inject({ method: 'POST', url: `/api/articles/${a.slug}/comments`, headers: bob.auth, payload: { comment: { body: 'First!' } } });
    expect(c1.statusCode).toBe(201);
    const comment = json(c1).comment;
    expect(comment).toMatchObject({ id: expect.any(Number), body: 'First!', author: { username: bob.username, bio: null, image: null, following: false } });
    expect(comment.createdAt).toBe(comment.updatedAt);
    await app.inject({ method: 'POST', url: `/api/articles/${a.slug}/comments`, headers: alice.auth, payload: { comment: { body: 'Thanks' } } });
    const list = await app.inject({ url: `/api/articles/${a.slug}/comments` });
    expect(list.statusCode).toBe(200);
    expect(json(list).comments.map((c: { body: string }) => c.body)).toEqual(['First!', 'Thanks']);
    await app.inject({ method: 'POST', url: `/api/profiles/${bob.username}/follow`, headers: alice.auth });
    const asAlice = json(await app.inject({ url: `/api/articles/${a.slug}/comments`, headers: alice.auth }));
    expect(asAlice.comments[0].author.following).toBe(true);
    const del = await app.inject({ method: 'DELETE', url: `/api/articles/${a.slug}/comments/${comment.id}`, headers: bob.auth });
    expect(del.statusCode).toBe(204);
    expect(json(await app.inject({ url: `/api/articles/${a.slug}/comments` })).comments.map((c: { body: string }) => c.body)).toEqual(['Thanks']);
  });

  it('403 deleting another user\'s comment, 404 unknown comment/article, comment of another article, 401, 422', async () => {
    const a = await createArticle(app, alice);
    const b = await createArticle(app, alice);
    const c = json(await app.inject({ method: 'POST', url: `/api/articles/${a.slug}/comments`, headers: bob.auth, payload: { comment: { body: 'mine' } } })).comment;
    const forb = await app.inject({ method: 'DELETE', url: `/api/articles/${a.slug}/comments/${c.id}`, headers: alice.auth });
    expect(forb.statusCode).toBe(403);
    expect(json(forb)).toEqual({ errors: { comment: ['forbidden'] } });
    const wrongArticle = await app.inject({ method: 'DELETE', url: `/api/articles/${b.slug}/comments/${c.id}`, headers: bob.auth });
    expect(wrongArticle.statusCode).toBe(404);
    expect(json(wrongArticle)).toEqual({ errors: { comment: ['not found'] } });
    expect((await app.inject({ method: 'DELETE', url: `/api/articles/${a.slug}/comments/999999999`, headers: bob.auth })).statusCode).toBe(404);
    expect((await app.inject({ method: 'DELETE', url: `/api/articles/nope-${uid()}/comments/${c.id}`, headers: bob.auth })).statusCode).toBe(404);
    expect((await app.inject({ method: 'DELETE', url: `/api/articles/${a.slug}/comments/abc`, headers: bob.auth })).statusCode).toBe(422);
    expect((await app.inject({ method: 'DELETE', url: `/api/articles/${a.slug}/comments/${c.id}` })).statusCode).toBe(401);
    expect((await app.inject({ method: 'POST', url: `/api/articles/${a.slug}/comments`, payload: { comment: { body: 'x' } } })).statusCode).toBe(401);
    expect((await app.inject({ method: 'POST', url: `/api/articles/nope-${uid()}/comments`, headers: bob.auth, payload: { comment: { body: 'x' } } })).statusCode).toBe(404);
    expect((await app.inject({ url: `/api/articles/nope-${uid()}/comments` })).statusCode).toBe(404);
    const empty = await app.inject({ method: 'POST', url: `/api/articles/${a.slug}/comments`, headers: bob.auth, payload: { comment: { body: '' } } });
    expect(empty.statusCode).toBe(422);
    expect(json(empty).errors.body).toBeDefined();
    // still there
    expect(json(await app.inject({ url: `/api/articles/${a.slug}/comments` })).comments.length).toBe(1);
  });
});
