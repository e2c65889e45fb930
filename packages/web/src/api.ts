// The API client: one function per RealWorld endpoint, over fetch, against `/api` on the same origin.
// Errors come out as two kinds: ApiError (the server answered with a status >= 400; `errors` is the
// RealWorld error map) and NetworkError (no usable answer: offline, refused, timed out, not JSON).
import type { Article, ArticleList, ArticleQuery, Comment, NewArticle, Profile, User, UserUpdate } from './types.ts';

export type ErrorMap = Record<string, string[]>;

export class ApiError extends Error {
  constructor(readonly status: number, readonly errors: ErrorMap) {
    super(`API answered ${status}: ${formatErrors(errors).join('; ')}`);
    this.name = 'ApiError';
  }
}

export class NetworkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NetworkError';
  }
}

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
      throw new NetworkError(`Cannot reach the server (${why}). Check your connection and try again.`);
    } finally {
      clearTimeout(timer);
    }
    const text = await res.text().catch(() => '');
    let data: unknown = undefined;
    if (text) {
      try { data = JSON.parse(text); } catch { data = undefined; }
    }
    if (res.ok) {
      if (text && data === undefined) throw new NetworkError(`The server sent an unreadable answer (HTTP ${res.status}). Try again later.`);
      return data as T;
    }
    const errs = (data as { errors?: unknown } | undefined)?.errors;
    if (errs && typeof errs === 'object' && !Array.isArray(errs)) throw new ApiError(res.status, errs as ErrorMap);
    if (res.status >= 500 || data === undefined) {
      throw new NetworkError(`The server is not available right now (HTTP ${res.status}). Try again in a moment.`);
    }
    throw new ApiError(res.status, { error: [res.statusText || `HTTP ${res.status}`] });
  }

  return {
    login: (email: string, password: string) => request<{ user: User }>('POST', '/users/login', { user: { email, password } }).then((r) => r.user),
    register: (username: string, email: string, password: string) =>
      request<{ user: User }>('POST', '/users', { user: { username, email, password } }).then((r) => r.user),
    currentUser: () => request<{ user: User }>('GET', '/user').then((r) => r.user),
    updateUser: (user: UserUpdate) => request<{ user: User }>('PUT', '/user', { user }).then((r) => r.user),

    profile: (username: string) => request<{ profile: Profile }>('GET', `/profiles/${enc(username)}`).then((r) => r.profile),
    follow: (username: string) => request<{ profile: Profile }>('POST', `/profiles/${enc(username)}/follow`).then((r) => r.profile),
    unfollow: (username: string) => request<{ profile: Profile }>('DELETE', `/profiles/${enc(username)}/follow`).then((r) => r.profile),

    articles: (q: ArticleQuery = {}) => request<ArticleList>('GET', `/articles${query({ ...q })}`),
    feed: (q: { limit?: number; offset?: number } = {}) => request<ArticleList>('GET', `/articles/feed${query({ ...q })}`),
    article: (slug: string) => request<{ article: Article }>('GET', `/articles/${enc(slug)}`).then((r) => r.article),
    createArticle: (article: NewArticle) => request<{ article: Article }>('POST', '/articles', { article }).then((r) => r.article),
    updateArticle: (slug: string, article: Partial<NewArticle>) =>
      request<{ article: Article }>('PUT', `/articles/${enc(slug)}`, { article }).then((r) => r.article),
    deleteArticle: (slug: string) => request<unknown>('DELETE', `/articles/${enc(slug)}`).then(() => undefined),
    favorite: (slug: string) => request<{ article: Article }>('POST', `/articles/${enc(slug)}/favorite`).then((r) => r.article),
    unfavorite: (slug: string) => request<{ article: Article }>('DELETE', `/articles/${enc(slug)}/favorite`).then((r) => r.article),

    comments: (slug: string) => request<{ comments: Comment[] }>('GET', `/articles/${enc(slug)}/comments`).then((r) => r.comments),
    addComment: (slug: string, body: string) =>
      request<{ comment: Comment }>('POST', `/articles/${enc(slug)}/comments`, { comment: { body } }).then((r) => r.comment),
    deleteComment: (slug: string, id: number) => request<unknown>('DELETE', `/articles/${enc(slug)}/comments/${id}`).then(() => undefined),

    tags: () => request<{ tags: string[] }>('GET', '/tags').then((r) => r.tags),
  };
}

export type Api = ReturnType<typeof createApi>;
