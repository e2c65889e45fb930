import { useAsync, useAuth, useServices } from '../context.ts';
import { paths, type Route } from '../router.ts';
import { ArticleList } from './articles.tsx';
import { ErrorList } from './common.tsx';
import { Redirect } from './redirect.tsx';

type HomeRoute = Extract<Route, { name: 'home' | 'tag' }>;

function PopularTags() {
  const { api } = useServices();
  const tags = useAsync(() => api.tags(), []);
  return (
    <div class="sidebar">
      <p>Popular Tags</p>
      {tags.loading ? <div>Loading tags...</div> : tags.error ? <ErrorList error={tags.error} /> : (
        tags.data!.length === 0 ? <div>No tags are here... yet.</div> : (
          <div class="tag-list">
            {tags.data!.map((t) => <a key={t} href={paths.tag(t)}><span class="tag-default tag-pill">{t}</span></a>)}
          </div>
        )
      )}
    </div>
  );
}

export function Home({ route }: { route: HomeRoute }) {
  const { api } = useServices();
  const { state } = useAuth();
  if (route.feed === 'following' && state === 'unauthenticated') return <Redirect to={paths.login()} />;
  const signedIn = state === 'authenticated';
  const load = route.feed === 'following'
    ? (q: { limit: number; offset: number }) => api.feed(q)
    : (q: { limit: number; offset: number }) => api.articles({ ...q, tag: route.tag ?? undefined });
  const href = route.feed === 'following' ? paths.yourFeed : route.tag ? (p: number) => paths.tag(route.tag!, p) : paths.home;
  return (
    <div class="home-page">
      <div class="banner">
        <div class="container">
          <h1 class="logo-font">conduit</h1>
          <p>A place to share your knowledge.</p>
        </div>
      </div>
      <div class="container page">
        <div class="row">
          <div class="col-md-9">
            <div class="feed-toggle">
              <ul class="nav nav-pills outline-active">
                {signedIn && (
                  <li class="nav-item"><a class={`nav-link${route.feed === 'following' ? ' active' : ''}`} href={paths.yourFeed()}>Your Feed</a></li>
                )}
                <li class="nav-item"><a class={`nav-link${route.feed === 'global' ? ' active' : ''}`} href={paths.home()}>Global Feed</a></li>
                {route.tag && (
                  <li class="nav-item"><a class="nav-link active" href={paths.tag(route.tag)}><i class="ion-pound" /> {route.tag}</a></li>
                )}
              </ul>
            </div>
            {route.feed === 'following' && state === 'loading'
              ? <div class="article-preview">Loading articles...</div>
              : <ArticleList load={load} deps={[route.feed, route.tag, state]} page={route.page} href={href}
                  empty={route.feed === 'following' && (
                    <p class="empty-feed-help">Your Feed shows articles by the people you follow, and you follow nobody with articles yet.
                      {' '}<a href={paths.home()}>Browse the Global Feed</a> and follow authors you like.</p>
                  )} />}
          </div>
          <div class="col-md-3"><PopularTags /></div>
        </div>
      </div>
    </div>
  );
}
