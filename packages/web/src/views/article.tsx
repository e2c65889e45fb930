import { useState } from 'preact/hooks';
import { formatDate, useAsync, useAuth, useServices } from '../context.ts';
import { navigate, paths } from '../router.ts';
import type { Article, Comment, Profile } from '../types.ts';
import { ArticleMeta, useFavorite, useSignedInToggle } from './articles.tsx';
import { Avatar, ErrorList, TagList } from './common.tsx';

/** Follow / Unfollow {username}; signed-out users go to /login. */
export function FollowButton({ profile, onChange }: { profile: Profile; onChange: (p: Profile) => void }) {
  const { api } = useServices();
  const { busy, error, toggle } = useSignedInToggle(
    () => (profile.following ? api.unfollow(profile.username) : api.follow(profile.username)),
    onChange,
  );
  return (
    <>
      <button type="button" disabled={busy} onClick={toggle}
        class={`btn btn-sm action-btn ${profile.following ? 'btn-secondary' : 'btn-outline-secondary'}`}>
        <i class="ion-plus-round" /> {profile.following ? 'Unfollow' : 'Follow'} {profile.username}
      </button>
      <ErrorList error={error} />
    </>
  );
}

function ArticleActions({ article, onChange }: { article: Article; onChange: (a: Article) => void }) {
  const { api } = useServices();
  const { user } = useAuth();
  const fav = useFavorite(article, onChange);
  const [error, setError] = useState<unknown>(null);
  if (user && user.username === article.author.username) {
    const remove = async () => {
      setError(null);
      try { await api.deleteArticle(article.slug); navigate(paths.home()); } catch (e) { setError(e); }
    };
    return (
      <span class="article-actions-buttons">
        <a class="btn btn-outline-secondary btn-sm" href={paths.editor(article.slug)}><i class="ion-edit" /> Edit Article</a>
        {' '}
        <button type="button" class="btn btn-outline-danger btn-sm" onClick={remove}><i class="ion-trash-a" /> Delete Article</button>
        <ErrorList error={error} />
      </span>
    );
  }
  return (
    <span class="article-actions-buttons">
      <FollowButton profile={article.author} onChange={(author) => onChange({ ...article, author })} />
      {' '}
      <button type="button" disabled={fav.busy} onClick={fav.toggle}
        class={`btn btn-sm ${article.favorited ? 'btn-primary' : 'btn-outline-primary'}`}>
        <i class="ion-heart" /> {article.favorited ? 'Unfavorite' : 'Favorite'} Article <span class="counter">({article.favoritesCount})</span>
      </button>
      <ErrorList error={fav.error} />
    </span>
  );
}

function Comments({ slug }: { slug: string }) {
  const { api } = useServices();
  const { state, user } = useAuth();
  const comments = useAsync(() => api.comments(slug), [slug]);
  const [body, setBody] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const list: Comment[] = comments.data ?? [];
  const post = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const c = await api.addComment(slug, body);
      comments.set([c, ...list]);
      setBody('');
    } catch (err) { setError(err); }
    setBusy(false);
  };
  const remove = async (id: number) => {
    setError(null);
    try { await api.deleteComment(slug, id); comments.set(list.filter((c) => c.id !== id)); } catch (err) { setError(err); }
  };
  return (
    <div class="col-xs-12 col-md-8 offset-md-2">
      <ErrorList error={error ?? comments.error} />
      {state === 'authenticated' && user ? (
        <form class="card comment-form" onSubmit={post}>
          <div class="card-block">
            <textarea class="form-control" placeholder="Write a comment..." rows={3} value={body} disabled={busy}
              onInput={(e) => setBody((e.currentTarget as HTMLTextAreaElement).value)} />
          </div>
          <div class="card-footer">
            <Avatar src={user.image} class="comment-author-img" alt={user.username} />
            <button class="btn btn-sm btn-primary" type="submit" disabled={busy}>Post Comment</button>
          </div>
        </form>
      ) : (
        <p><a href={paths.login()}>Sign in</a> or <a href={paths.register()}>sign up</a> to add comments on this article.</p>
      )}
      {list.map((c) => (
        <div class="card" key={c.id}>
          <div class="card-block"><p class="card-text">{c.body}</p></div>
          <div class="card-footer">
            <a class="comment-author" href={paths.profile(c.author.username)}><Avatar src={c.author.image} class="comment-author-img" alt={c.author.username} /></a>
            {' '}
            <a class="comment-author" href={paths.profile(c.author.username)}>{c.author.username}</a>
            <span class="date-posted">{formatDate(c.createdAt)}</span>
            {user && user.username === c.author.username && (
              <span class="mod-options"><i class="ion-trash-a" role="button" aria-label="Delete comment" onClick={() => remove(c.id)} /></span>
            )}
          </div>
        </div>
      ))}
    </div>
  );
}

/** The only HTML from data in the app, sanitised by renderMarkdown (DOMPurify), loaded on demand. */
function ArticleBody({ markdown }: { markdown: string }) {
  const html = useAsync(() => import('../markdown.ts').then((m) => m.renderMarkdown(markdown)), [markdown]);
  if (html.error) return <ErrorList error={html.error} />;
  if (html.data === undefined) return <div class="article-body">Loading...</div>;
  return <div class="article-body" dangerouslySetInnerHTML={{ __html: html.data }} />;
}

export function ArticlePage({ slug }: { slug: string }) {
  const { api } = useServices();
  const { state } = useAuth();
  const article = useAsync(() => api.article(slug), [slug, state === 'authenticated']);
  if (article.loading && !article.data) return <div class="article-page"><div class="container page">Loading article...</div></div>;
  if (article.error || !article.data) {
    return <div class="article-page"><div class="container page"><ErrorList error={article.error ?? new Error('article missing')} /></div></div>;
  }
  const a = article.data;
  document.title = `${a.title} — Conduit`;
  return (
    <div class="article-page">
      <div class="banner">
        <div class="container">
          <h1>{a.title}</h1>
          <ArticleMeta article={a}><ArticleActions article={a} onChange={article.set} /></ArticleMeta>
        </div>
      </div>
      <div class="container page">
        <div class="row article-content">
          <div class="col-md-12">
            <ArticleBody markdown={a.body ?? ''} />
            <TagList tags={a.tagList} />
          </div>
        </div>
        <hr />
        <div class="article-actions"><ArticleMeta article={a} /></div>
        <div class="row"><Comments slug={a.slug} /></div>
      </div>
    </div>
  );
}
