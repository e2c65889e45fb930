// An in-memory RealWorld API, used by the stand-in only while the real API (packages/api) cannot be
// started. It follows ../../../shared/realworld/openapi.yml closely enough for the SPA's browser tests;
// it is not a substitute for the real API's own tests.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

interface U { id: number; username: string; email: string; password: string; bio: string | null; image: string | null }
interface A { id: number; slug: string; title: string; description: string; body: string; tagList: string[]; createdAt: string; updatedAt: string; authorId: number }
interface C { id: number; articleId: number; body: string; authorId: number; createdAt: string; updatedAt: string }

export function createFakeApi(): Server {
  const users: U[] = [];
  const articles: A[] = [];
  const comments: C[] = [];
  const tokens = new Map<string, number>();
  const follows = new Set<string>(); // `${followerId}:${followedId}`
  const favorites = new Set<string>(); // `${userId}:${articleId}`
  let seq = 1;
  let clock = Date.now();
  const now = () => new Date(++clock).toISOString();

  const userOut = (u: U, token: string) => ({ username: u.username, email: u.email, bio: u.bio, image: u.image, token });
  const profileOut = (u: U, me: U | null) => ({ username: u.username, bio: u.bio, image: u.image, following: !!me && follows.has(`${me.id}:${u.id}`) });
  const articleOut = (a: A, me: U | null, withBody = true) => ({
    slug: a.slug, title: a.title, description: a.description, ...(withBody ? { body: a.body } : {}), tagList: a.tagList,
    createdAt: a.createdAt, updatedAt: a.updatedAt,
    favorited: !!me && favorites.has(`${me.id}:${a.id}`),
    favoritesCount: [...favorites].filter((f) => f.endsWith(`:${a.id}`)).length,
    author: profileOut(users.find((u) => u.id === a.authorId)!, me),
  });
  const commentOut = (c: C, me: U | null) => ({ id: c.id, body: c.body, createdAt: c.createdAt, updatedAt: c.updatedAt, author: profileOut(users.find((u) => u.id === c.authorId)!, me) });

  class HttpError extends Error { constructor(readonly status: number, readonly errors: Record<string, string[]>) { super('http'); } }
  const blank = (fields: Record<string, unknown>) => {
    const errors: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(fields)) if (typeof v !== 'string' || !v.trim()) errors[k] = ["can't be blank"];
    if (Object.keys(errors).length) throw new HttpError(422, errors);
  };
  const slugify = (t: string) => `${t.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'article'}-${randomBytes(3).toString('hex')}`;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname.replace(/^\/api/, '');
    const method = req.method ?? 'GET';
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let body: Record<string, Record<string, unknown>> = {};
    if (chunks.length) {
      try { body = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch { throw new HttpError(422, { body: ['is not JSON'] }); }
    }
    const auth = /^Token (.+)$/.exec(req.headers.authorization ?? '');
    const me = auth ? users.find((u) => u.id === tokens.get(auth[1]!)) ?? null : null;
    if (auth && !me) throw new HttpError(401, { token: ['is invalid'] });
    const need = () => { if (!me) throw new HttpError(401, { token: ['is missing'] }); return me; };
    const send = (status: number, data: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(data === undefined ? '' : JSON.stringify(data));
    };
    const issue = (u: U) => { const t = randomBytes(24).toString('hex'); tokens.set(t, u.id); return t; };
    const findUser = (name: string) => { const u = users.find((x) => x.username === name); if (!u) throw new HttpError(404, { profile: ['not found'] }); return u; };
    const findArticle = (slug: string) => { const a = articles.find((x) => x.slug === slug); if (!a) throw new HttpError(404, { article: ['not found'] }); return a; };
    const limit = Math.min(Number(url.searchParams.get('limit') ?? 20) || 20, 100);
    const offset = Number(url.searchParams.get('offset') ?? 0) || 0;
    const page = (list: A[]) => {
      const sorted = [...list].sort((x, y) => y.createdAt.localeCompare(x.createdAt));
      return { articles: sorted.slice(offset, offset + limit).map((a) => articleOut(a, me, false)), articlesCount: sorted.length };
    };
    let m: RegExpExecArray | null;
    const d = decodeURIComponent;

    if (method === 'POST' && path === '/users') {
      const u = body.user ?? {};
      blank({ username: u.username, email: u.email, password: u.password });
      const errors: Record<string, string[]> = {};
      if (users.some((x) => x.username === u.username)) errors.username = ['has already been taken'];
      if (users.some((x) => x.email === u.email)) errors.email = ['has already been taken'];
      if (Object.keys(errors).length) throw new HttpError(409, errors);
      const nu: U = { id: seq++, username: String(u.username), email: String(u.email), password: String(u.password), bio: null, image: null };
      users.push(nu);
      return send(201, { user: userOut(nu, issue(nu)) });
    }
    if (method === 'POST' && path === '/users/login') {
      const u = body.user ?? {};
      blank({ email: u.email, password: u.password });
      const found = users.find((x) => x.email === u.email && x.password === u.password);
      if (!found) throw new HttpError(401, { credentials: ['invalid'] });
      return send(200, { user: userOut(found, issue(found)) });
    }
    if (path === '/user' && method === 'GET') { const u = need(); return send(200, { user: userOut(u, auth![1]!) }); }
    if (path === '/user' && method === 'PUT') {
      const u = need();
      const p = body.user ?? {};
      for (const k of ['username', 'email', 'password'] as const) if (k in p && typeof p[k] === 'string' && p[k]) u[k] = p[k] as string;
      if ('bio' in p) u.bio = (p.bio as string | null) || null;
      if ('image' in p) u.image = (p.image as string | null) || null;
      return send(200, { user: userOut(u, auth![1]!) });
    }
    if ((m = /^\/profiles\/([^/]+)$/.exec(path)) && method === 'GET') return send(200, { profile: profileOut(findUser(d(m[1]!)), me) });
    if ((m = /^\/profiles\/([^/]+)\/follow$/.exec(path))) {
      const u = need(); const target = findUser(d(m[1]!));
      if (method === 'POST') follows.add(`${u.id}:${target.id}`); else follows.delete(`${u.id}:${target.id}`);
      return send(200, { profile: profileOut(target, u) });
    }
    if (path === '/articles/feed' && method === 'GET') { const u = need(); return send(200, page(articles.filter((a) => follows.has(`${u.id}:${a.authorId}`)))); }
    if (path === '/articles' && method === 'GET') {
      const tag = url.searchParams.get('tag'); const author = url.searchParams.get('author'); const fav = url.searchParams.get('favorited');
      const favUser = fav ? users.find((u) => u.username === fav) : undefined;
      return send(200, page(articles.filter((a) => (!tag || a.tagList.includes(tag))
        && (!author || users.find((u) => u.id === a.authorId)?.username === author)
        && (!fav || (!!favUser && favorites.has(`${favUser.id}:${a.id}`))))));
    }
    if (path === '/articles' && method === 'POST') {
      const u = need(); const p = body.article ?? {};
      blank({ title: p.title, description: p.description, body: p.body });
      const t = now();
      const a: A = { id: seq++, slug: slugify(String(p.title)), title: String(p.title), description: String(p.description), body: String(p.body),
        tagList: Array.isArray(p.tagList) ? [...new Set(p.tagList.map(String))] : [], createdAt: t, updatedAt: t, authorId: u.id };
      articles.push(a);
      return send(201, { article: articleOut(a, u) });
    }
    if ((m = /^\/articles\/([^/]+)$/.exec(path))) {
      const a = findArticle(d(m[1]!));
      if (method === 'GET') return send(200, { article: articleOut(a, me) });
      const u = need();
      if (a.authorId !== u.id) throw new HttpError(403, { article: ['forbidden'] });
      if (method === 'DELETE') { articles.splice(articles.indexOf(a), 1); return send(204, undefined); }
      const p = body.article ?? {};
      for (const k of ['title', 'description', 'body'] as const) if (typeof p[k] === 'string' && p[k]) a[k] = p[k] as string;
      if (Array.isArray(p.tagList)) a.tagList = p.tagList.map(String);
      a.updatedAt = now();
      return send(200, { article: articleOut(a, u) });
    }
    if ((m = /^\/articles\/([^/]+)\/favorite$/.exec(path))) {
      const u = need(); const a = findArticle(d(m[1]!));
      if (method === 'POST') favorites.add(`${u.id}:${a.id}`); else favorites.delete(`${u.id}:${a.id}`);
      return send(200, { article: articleOut(a, u) });
    }
    if ((m = /^\/articles\/([^/]+)\/comments$/.exec(path))) {
      const a = findArticle(d(m[1]!));
      if (method === 'GET') return send(200, { comments: comments.filter((c) => c.articleId === a.id).reverse().map((c) => commentOut(c, me)) });
      const u = need(); const p = body.comment ?? {};
      blank({ body: p.body });
      const t = now();
      const c: C = { id: seq++, articleId: a.id, body: String(p.body), authorId: u.id, createdAt: t, updatedAt: t };
      comments.push(c);
      return send(201, { comment: commentOut(c, u) });
    }
    if ((m = /^\/articles\/([^/]+)\/comments\/(\d+)$/.exec(path)) && method === 'DELETE') {
      const u = need(); findArticle(d(m[1]!));
      const c = comments.find((x) => x.id === Number(m![2]));
      if (!c) throw new HttpError(404, { comment: ['not found'] });
      if (c.authorId !== u.id) throw new HttpError(403, { comment: ['forbidden'] });
      comments.splice(comments.indexOf(c), 1);
      return send(204, undefined);
    }
    if (path === '/tags' && method === 'GET') {
      const counts = new Map<string, number>();
      for (const a of articles) for (const t of a.tagList) counts.set(t, (counts.get(t) ?? 0) + 1);
      return send(200, { tags: [...counts.entries()].sort((x, y) => y[1] - x[1]).slice(0, 20).map(([t]) => t) });
    }
    if (path === '/health') return send(200, { status: 'ok' });
    throw new HttpError(404, { route: ['not found'] });
  }

  return createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      const status = e instanceof HttpError ? e.status : 500;
      const errors = e instanceof HttpError ? e.errors : { server: ['internal error'] };
      if (!res.headersSent) res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(JSON.stringify({ errors }));
    });
  });
}
