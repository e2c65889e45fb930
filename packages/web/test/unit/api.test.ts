import { describe, expect, it } from 'vitest';
import { ApiError, createApi, errorMessages, formatErrors, NetworkError } from '../../src/api.ts';

interface Call { url: string; method: string; headers: Record<string, string>; body: unknown }

function fakeFetch(respond: (c: Call) => Response | Promise<Response>) {
  const calls: Call[] = [];
  const f = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const c: Call = {
      url: String(input), method: init?.method ?? 'GET', headers: (init?.headers ?? {}) as Record<string, string>,
      body: init?.body ? JSON.parse(String(init.body)) : undefined,
    };
    calls.push(c);
    return respond(c);
  }) as typeof fetch;
  return { f, calls };
}

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
const user = { username: 'jake', email: 'jake@jake.jake', bio: null, image: null, token: 'jwt.jwt.jwt' };

describe('API client', () => {
  it('logs in with the RealWorld body and returns the user', async () => {
    const { f, calls } = fakeFetch(() => json(200, { user }));
    const api = createApi({ fetch: f, getToken: () => null });
    expect(await api.login('jake@jake.jake', 'secret')).toEqual(user);
    expect(calls[0]).toMatchObject({ url: '/api/users/login', method: 'POST', body: { user: { email: 'jake@jake.jake', password: 'secret' } } });
    expect(calls[0]!.headers.Authorization).toBeUndefined();
    expect(calls[0]!.headers['Content-Type']).toBe('application/json');
  });

  it('sends the token as "Token <jwt>", read on every call', async () => {
    let token: string | null = 'first';
    const { f, calls } = fakeFetch(() => json(200, { user }));
    const api = createApi({ fetch: f, getToken: () => token });
    await api.currentUser();
    token = 'second';
    await api.currentUser();
    token = null;
    await api.currentUser();
    expect(calls.map((c) => c.headers.Authorization)).toEqual(['Token first', 'Token second', undefined]);
  });

  it('builds list queries, encodes path segments and drops empty parameters', async () => {
    const { f, calls } = fakeFetch(() => json(200, { articles: [], articlesCount: 0 }));
    const api = createApi({ fetch: f, getToken: () => null, baseUrl: 'http://x/api/' });
    await api.articles({ tag: 'a b&c', limit: 10, offset: 20 });
    await api.articles({ author: 'jo/hn', tag: undefined });
    await api.feed({ limit: 10, offset: 0 });
    await api.articles();
    expect(calls.map((c) => c.url)).toEqual([
      'http://x/api/articles?tag=a+b%26c&limit=10&offset=20',
      'http://x/api/articles?author=jo%2Fhn',
      'http://x/api/articles/feed?limit=10&offset=0',
      'http://x/api/articles',
    ]);
  });

  it('maps every endpoint to its method and path', async () => {
    const { f, calls } = fakeFetch((c) => {
      if (c.method === 'DELETE' && !c.url.includes('favorite') && !c.url.includes('follow')) return new Response(null, { status: 204 });
      return json(200, { user, profile: {}, article: {}, comment: {}, comments: [], tags: ['x'] });
    });
    const api = createApi({ fetch: f, getToken: () => 't' });
    await api.register('u', 'e@x', 'p');
    await api.updateUser({ bio: 'hi' });
    await api.profile('a b');
    await api.follow('a');
    await api.unfollow('a');
    await api.article('s');
    await api.createArticle({ title: 't', description: 'd', body: 'b', tagList: ['x'] });
    await api.updateArticle('s', { title: 't2' });
    await api.deleteArticle('s');
    await api.favorite('s');
    await api.unfavorite('s');
    await api.comments('s');
    await api.addComment('s', 'hello');
    await api.deleteComment('s', 7);
    expect(await api.tags()).toEqual(['x']);
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      'POST /api/users', 'PUT /api/user', 'GET /api/profiles/a%20b', 'POST /api/profiles/a/follow', 'DELETE /api/profiles/a/follow',
      'GET /api/articles/s', 'POST /api/articles', 'PUT /api/articles/s', 'DELETE /api/articles/s',
      'POST /api/articles/s/favorite', 'DELETE /api/articles/s/favorite', 'GET /api/articles/s/comments',
      'POST /api/articles/s/comments', 'DELETE /api/articles/s/comments/7', 'GET /api/tags',
    ]);
    expect(calls[0]!.body).toEqual({ user: { username: 'u', email: 'e@x', password: 'p' } });
    expect(calls[12]!.body).toEqual({ comment: { body: 'hello' } });
  });

  it('turns RealWorld error bodies into ApiError with readable messages', async () => {
    const { f } = fakeFetch(() => json(422, { errors: { email: ['is invalid', "can't be blank"], username: ['has already been taken'] } }));
    const api = createApi({ fetch: f, getToken: () => null });
    const err = await api.register('u', 'e', 'p').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(422);
    expect(errorMessages(err)).toEqual(['email is invalid', "email can't be blank", 'username has already been taken']);
  });

  it('reports a refused connection as a NetworkError with a message, not a crash', async () => {
    const api = createApi({ fetch: (async () => { throw new TypeError('Failed to fetch'); }) as typeof fetch, getToken: () => null });
    const err = await api.tags().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect(errorMessages(err)[0]).toMatch(/Unable to connect to the server \(Failed to fetch\)\. Check your internet connection/);
    expect((err as NetworkError).kind).toBe('offline');
  });

  it('reports a 502 HTML page from a proxy as the server being unavailable', async () => {
    const { f } = fakeFetch(() => new Response('<html>Bad Gateway</html>', { status: 502 }));
    const err = await createApi({ fetch: f, getToken: () => null }).tags().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as Error).message).toMatch(/The server had a problem \(HTTP 502\)/);
    expect((err as NetworkError).kind).toBe('server');
  });

  it('reports a non-JSON 200 (e.g. index.html served for /api) as unreadable', async () => {
    const { f } = fakeFetch(() => new Response('<!doctype html>', { status: 200 }));
    const err = await createApi({ fetch: f, getToken: () => null }).tags().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as Error).message).toMatch(/unreadable answer/);
  });

  it('reports an empty 200 or an answer of the wrong shape as unexpected, never as data', async () => {
    for (const body of ['', '{}', '{"articles":null,"articlesCount":1}', '[]']) {
      const { f } = fakeFetch(() => new Response(body, { status: 200 }));
      const api = createApi({ fetch: f, getToken: () => null });
      for (const call of [() => api.articles(), () => api.tags(), () => api.profile('x'), () => api.article('x'), () => api.currentUser()]) {
        const err = await call().catch((e: unknown) => e);
        expect(err, body).toBeInstanceOf(NetworkError);
        expect((err as NetworkError).kind).toBe('unexpected');
      }
    }
  });

  it('gives up after the timeout', async () => {
    const hang = ((_: unknown, init?: RequestInit) => new Promise((_r, reject) => {
      init?.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
    })) as typeof fetch;
    const err = await createApi({ fetch: hang, getToken: () => null, timeoutMs: 20 }).tags().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as Error).message).toMatch(/no answer within 0.02 s/);
  });

  it('maps a 404 without an error body to an ApiError', async () => {
    const { f } = fakeFetch(() => new Response('{}', { status: 404, statusText: 'Not Found' }));
    const err = await createApi({ fetch: f, getToken: () => null }).article('nope').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(errorMessages(err)).toEqual(['error Not Found']);
  });

  it('formats odd error maps and unknown errors', () => {
    expect(formatErrors({ body: 'is missing' as unknown as string[] })).toEqual(['body is missing']);
    expect(errorMessages(new Error('boom'))).toEqual(['Something went wrong: boom']);
    expect(errorMessages('x')).toEqual(['Something went wrong: x']);
  });
});
