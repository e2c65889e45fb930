// History routing: the URL is the state. parseRoute() is pure; navigate() pushes and notifies.
export type Route =
  | { name: 'home'; feed: 'global' | 'following'; tag: null; page: number }
  | { name: 'tag'; feed: 'tag'; tag: string; page: number }
  | { name: 'login' }
  | { name: 'register' }
  | { name: 'settings' }
  | { name: 'editor'; slug: string | null }
  | { name: 'article'; slug: string }
  | { name: 'profile'; username: string; tab: 'articles' | 'favorites'; page: number }
  | { name: 'notFound'; path: string };

function pageOf(search: URLSearchParams): number {
  const n = Number.parseInt(search.get('page') ?? '1', 10);
  return Number.isFinite(n) && n >= 1 ? n : 1;
}

function decode(s: string): string {
  try { return decodeURIComponent(s); } catch { return s; }
}

export function parseRoute(pathname: string, searchString = ''): Route {
  const search = new URLSearchParams(searchString);
  const path = pathname.replace(/\/+$/, '') || '/';
  const parts = path.split('/').filter(Boolean).map(decode);
  const page = pageOf(search);
  if (parts.length === 0) return { name: 'home', feed: search.get('feed') === 'following' ? 'following' : 'global', tag: null, page };
  const [head, a, b] = parts;
  switch (head) {
    case 'login': if (parts.length === 1) return { name: 'login' }; break;
    case 'register': if (parts.length === 1) return { name: 'register' }; break;
    case 'settings': if (parts.length === 1) return { name: 'settings' }; break;
    case 'editor': if (parts.length <= 2) return { name: 'editor', slug: a ?? null }; break;
    case 'article': if (parts.length === 2) return { name: 'article', slug: a! }; break;
    case 'tag': if (parts.length === 2) return { name: 'tag', feed: 'tag', tag: a!, page }; break;
    case 'profile':
      if (parts.length === 2) return { name: 'profile', username: a!, tab: 'articles', page };
      if (parts.length === 3 && b === 'favorites') return { name: 'profile', username: a!, tab: 'favorites', page };
      break;
  }
  return { name: 'notFound', path: pathname };
}

export const paths = {
  home: (page = 1) => (page > 1 ? `/?page=${page}` : '/'),
  yourFeed: (page = 1) => (page > 1 ? `/?feed=following&page=${page}` : '/?feed=following'),
  tag: (tag: string, page = 1) => `/tag/${encodeURIComponent(tag)}${page > 1 ? `?page=${page}` : ''}`,
  article: (slug: string) => `/article/${encodeURIComponent(slug)}`,
  editor: (slug?: string) => (slug ? `/editor/${encodeURIComponent(slug)}` : '/editor'),
  profile: (username: string, page = 1) => `/profile/${encodeURIComponent(username)}${page > 1 ? `?page=${page}` : ''}`,
  favorites: (username: string, page = 1) => `/profile/${encodeURIComponent(username)}/favorites${page > 1 ? `?page=${page}` : ''}`,
  login: () => '/login',
  register: () => '/register',
  settings: () => '/settings',
};

type Listener = () => void;
const listeners = new Set<Listener>();

export function onNavigate(fn: Listener): () => void {
  listeners.add(fn);
  return () => { listeners.delete(fn); };
}

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (opts.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  window.scrollTo?.(0, 0);
  for (const l of listeners) l();
}

/** Sends clicks on same-origin links through navigate() instead of reloading the page. */
export function installLinkInterception(doc: Document): void {
  window.addEventListener('popstate', () => { for (const l of listeners) l(); });
  doc.addEventListener('click', (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = (e.target as Element | null)?.closest?.('a');
    if (!a || !a.hasAttribute('href') || a.target === '_blank' || a.hasAttribute('download')) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || url.pathname.startsWith('/api/')) return;
    e.preventDefault();
    navigate(url.pathname + url.search);
  });
}
