import { useState } from 'preact/hooks';
import type { ArticleList as ArticleListData, Article } from '../types.ts';
import { formatDate, useAsync, useAuth, useServices } from '../context.ts';
import { navigate, paths } from '../router.ts';
import { Avatar, ErrorList, Pagination, TagList } from './common.tsx';

export const PAGE_SIZE = 10;

export function ArticleMeta({ article, children }: { article: Article; children?: preact.ComponentChildren }) {
  const a = article.author;
  return (
    <div class="article-meta">
      <a href={paths.profile(a.username)}><Avatar src={a.image} alt={a.username} /></a>
      <div class="info">
        <a class="author" href={paths.profile(a.username)}>{a.username}</a>
        <span class="date">{formatDate(article.createdAt)}</span>
      </div>
      {children}
    </div>
  );
}

/**
 * A toggle that needs a signed-in user (favorite, follow): signed-out users go to /login, the call's
 * result goes to onDone, errors are shown inline, and the button is disabled while it runs.
 */
export function useSignedInToggle<T>(call: () => Promise<T>, onDone: (result: T) => void) {
  const { state } = useAuth();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const toggle = async () => {
    if (state !== 'authenticated') { navigate(paths.login()); return; }
    setBusy(true);
    setError(null);
    try { onDone(await call()); } catch (e) { setError(e); }
    setBusy(false);
  };
  return { busy, error, toggle };
}

/** Favorite / unfavorite an article. */
export function useFavorite(article: Article, onChange: (a: Article) => void) {
  const { api } = useServices();
  return useSignedInToggle(() => (article.favorited ? api.unfavorite(article.slug) : api.favorite(article.slug)), onChange);
}

function ArticlePreview({ article, onChange }: { article: Article; onChange: (a: Article) => void }) {
  const fav = useFavorite(article, onChange);
  return (
    <div class="article-preview">
      <ArticleMeta article={article}>
        <button type="button" disabled={fav.busy} onClick={fav.toggle}
          class={`btn btn-sm pull-xs-right ${article.favorited ? 'btn-primary' : 'btn-outline-primary'}`}
          aria-label={article.favorited ? 'Unfavorite' : 'Favorite'}>
          <i class="ion-heart" /> <span class="counter">{article.favoritesCount}</span>
        </button>
      </ArticleMeta>
      <ErrorList error={fav.error} />
      <a class="preview-link" href={paths.article(article.slug)}>
        <h1>{article.title}</h1>
        <p>{article.description}</p>
        <span>Read more...</span>
      </a>
      <TagList tags={article.tagList} />
    </div>
  );
}

/** A page of articles from `load`, with pagination links from `href`; `empty` explains an empty list. */
export function ArticleList({ load, deps, page, href, empty }: {
  load: (q: { limit: number; offset: number }) => Promise<ArticleListData>;
  deps: unknown[];
  page: number;
  href: (p: number) => string;
  empty?: preact.ComponentChildren;
}) {
  const list = useAsync(() => load({ limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE }), [...deps, page]);
  if (list.loading && !list.data) return <div class="article-preview">Loading articles...</div>;
  if (list.error) return <div class="article-preview"><ErrorList error={list.error} /></div>;
  const data = list.data!;
  const replace = (a: Article) => list.set({ ...data, articles: data.articles.map((x) => (x.slug === a.slug ? a : x)) });
  return (
    <>
      {data.articles.length === 0
        ? <div class="article-preview empty-feed-message">No articles are here... yet.{empty}</div>
        : data.articles.map((a) => <ArticlePreview key={a.slug} article={a} onChange={replace} />)}
      <Pagination count={data.articlesCount} limit={PAGE_SIZE} page={page} href={href} />
    </>
  );
}
