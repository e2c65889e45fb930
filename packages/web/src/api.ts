// The API client: one function per RealWorld endpoint, over fetch, against `/api` on the same origin.
// Errors come out as two kinds: ApiError (the server answered with a status >= 400; `errors` is the
// RealWorld error map) and NetworkError (no usable answer: offline, refused, timed out, a 5xx, an empty or
// malformed body, or JSON of an unexpected shape). `kind` says which, so pages can say it plainly.
import type { Article, ArticleList, ArticleQuery, Comment, NewArticle, Profile, User, UserUpdate } from './types.ts';

export type ErrorMap = Record<string, string[]>;

export class ApiError extends Error {
  constructor(readonly status: number, readonly errors: ErrorMap) {
    super(`API answered ${status}: ${formatErrors(errors).join('; ')}`);
    this.name = 'ApiError';
  }
}

export type TroubleKind = 'offline' | 'server' | 'unexpected';

export class NetworkError extends Error {
  constructor(message: string, readonly kind: TroubleKind = 'offline') {
    super(message);
    this.name = 'NetworkError';
  }
}

const UNEXPECTED = 'The server sent an unexpected answer. Please try again in a moment.';

/** `r[key]` when it passes `ok`, else the answer is not what the contract promises: an error, not a crash. */
function field<T>(r: unknown, key: string, ok: (v: unknown) => boolean): T {
  const v = r !== null && typeof r === 'object' ? (r as Record<string, unknown>)[key] : undefined;
  if (!ok(v)) throw new NetworkError(UNEXPECTED, 'unexpected');
  return v as T;
}
const isObject = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);
const isList = (r: unknown) => Array.isArray((r as { articles?: unknown } | null)?.articles) && typeof (r as { articlesCount?: unknown }).articlesCount === 'number';
const list = <T>(r: T): T => { if (!isList(r)) throw new NetworkError(UNEXPECTED, 'unexpected'); return r; };

/** `{ email: ['is invalid'] }` -> `['email is invalid']`, as the RealWorld front ends list them. */
export function formatErrors(errors: ErrorMap): string[] {
  return Object.entries(errors).flatMap(([field, msgs]) => (Array.isArray(msgs) ? msgs : [String(msgs)]).map((m) => `${field} ${m}`));
}

/** Messages to show for any error thrown by the client (or by anything else). */
export function errorMessages(err: unknown): string[] {
  if (err instanceof ApiError) return formatErrors(err.errors);
  if (err instanceof NetworkError) return [err.message];
  return [`Something went wrong: ${err instanceof Error ? err.message : String(err)}`];
}

export interface ApiOptions {
  /** Base URL of the API, default `/api` (same origin). */
  baseUrl?: string;
  /** The JWT to send, read on every call (it changes on login/logout). */
  getToken: () => string | null;
  fetch?: typeof fetch;
  /** Give up on a request after this many ms, default 15000. */
  timeoutMs?: number;
}

function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

const enc = encodeURIComponent;

export function createApi(opts: ApiOptions) {
  const base = (opts.baseUrl ?? '/api').replace(/\/$/, '');
  const doFetch = opts.fetch ?? ((...a: Parameters<typeof fetch>) => fetch(...a));
  const timeoutMs = opts.timeoutMs ?? 15_000;

  async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    const token = opts.getToken();
    if (token) headers.Authorization = `Token ${token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), timeoutMs);
    let res: Response;
    try {
      res = await doFetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: ctrl.signal });
    } catch (e) {
      const why = ctrl.signal.aborted ? `no answer within ${timeoutMs / 1000} s` : (e instanceof Error ? e.message : String(e));
      throw new NetworkError(`Unable to connect to the server (${why}). Check your internet connection and try again.`, 'offline');
    } finally {
      clearTimeout(timer);
    }
    const text = await res.text().catch(() => '');
    let data: unknown = undefined;
    if (text) {
      try { data = JSON.parse(text); } catch { data = undefined; }
    }
    if (res.ok) {
      if (text && data === undefined) throw new NetworkError(`The server sent an unreadable answer (HTTP ${res.status}). Please try again in a moment.`, 'unexpected');
      // Only a 204 may be empty; an empty 200 is not an answer.
      if (!text && res.status !== 204) throw new NetworkError(UNEXPECTED, 'unexpected');
      return data as T;
    }
    const errs = (data as { errors?: unknown } | undefined)?.errors;
    if (errs && typeof errs === 'object' && !Array.isArray(errs)) throw new ApiError(res.status, errs as ErrorMap);
    if (res.status >= 500 || data === undefined) {
      throw new NetworkError(`The server had a problem (HTTP ${res.status}). Please try again in a moment.`, 'server');
    }
    throw new ApiError(res.status, { error: [res.statusText || `HTTP ${res.status}`] });
  }

  return {
    login: (email: string, password: string) => request('POST', '/users/login', { user: { email, password } }).then((r) => field<User>(r, 'user', isObject)),
    register: (username: string, email: string, password: string) =>
      request('POST', '/users', { user: { username, email, password } }).then((r) => field<User>(r, 'user', isObject)),
    currentUser: () => request('GET', '/user').then((r) => field<User>(r, 'user', isObject)),
    updateUser: (user: UserUpdate) => request('PUT', '/user', { user }).then((r) => field<User>(r, 'user', isObject)),

    profile: (username: string) => request('GET', `/profiles/${enc(username)}`).then((r) => field<Profile>(r, 'profile', isObject)),
    follow: (username: string) => request('POST', `/profiles/${enc(username)}/follow`).then((r) => field<Profile>(r, 'profile', isObject)),
    unfollow: (username: string) => request('DELETE', `/profiles/${enc(username)}/follow`).then((r) => field<Profile>(r, 'profile', isObject)),

    articles: (q: ArticleQuery = {}) => request<ArticleList>('GET', `/articles${query({ ...q })}`).then(list),
    feed: (q: { limit?: number; offset?: number } = {}) => request<ArticleList>('GET', `/articles/feed${query({ ...q })}`).then(list),
    article: (slug: string) => request('GET', `/articles/${enc(slug)}`).then((r) => field<Article>(r, 'article', isObject)),
    createArticle: (article: NewArticle) => request('POST', '/articles', { article }).then((r) => field<Article>(r, 'article', isObject)),
    updateArticle: (slug: string, article: Partial<NewArticle>) =>
      request('PUT', `/articles/${enc(slug)}`, { article }).then((r) => field<Article>(r, 'article', isObject)),
    deleteArticle: (slug: string) => request<unknown>('DELETE', `/articles/${enc(slug)}`).then(() => undefined),
    favorite: (slug: string) => request('POST', `/articles/${enc(slug)}/favorite`).then((r) => field<Article>(r, 'article', isObject)),
    unfavorite: (slug: string) => request('DELETE', `/articles/${enc(slug)}/favorite`).then((r) => field<Article>(r, 'article', isObject)),

    comments: (slug: string) => request('GET', `/articles/${enc(slug)}/comments`).then((r) => field<Comment[]>(r, 'comments', Array.isArray)),
    addComment: (slug: string, body: string) =>
      request('POST', `/articles/${enc(slug)}/comments`, { comment: { body } }).then((r) => field<Comment>(r, 'comment', isObject)),
    deleteComment: (slug: string, id: number) => request<unknown>('DELETE', `/articles/${enc(slug)}/comments/${id}`).then(() => undefined),

    tags: () => request('GET', '/tags').then((r) => field<string[]>(r, 'tags', Array.isArray)),
  };
}

export type Api = ReturnType<typeof createApi>;
