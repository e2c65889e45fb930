import { ApiError } from '../api.ts';
import { useAsync, useAuth, useServices } from '../context.ts';
import { paths } from '../router.ts';
import { ArticleList } from './articles.tsx';
import { FollowButton } from './article.tsx';
import { Avatar, ErrorList } from './common.tsx';

export function ProfilePage({ username, tab, page }: { username: string; tab: 'articles' | 'favorites'; page: number }) {
  const { api } = useServices();
  const { state, user } = useAuth();
  const profile = useAsync(() => api.profile(username), [username, state === 'authenticated']);
  const self = user?.username === username;
  const p = profile.data;
  // An unknown user: a plain not-found page, no half-drawn profile header.
  if (profile.error instanceof ApiError && profile.error.status === 404) {
    return (
      <div class="profile-page">
        <div class="container page">
          <h1>Profile not found</h1>
          <p>There is no user named “{username}”. <a href={paths.home()}>Back to the feed</a>.</p>
        </div>
      </div>
    );
  }
  // Any other failure: an error state with a way to retry, not half a page.
  if (profile.error) {
    return (
      <div class="profile-page">
        <div class="container page">
          <ErrorList error={profile.error} />
          <button type="button" class="btn btn-outline-secondary" onClick={profile.reload}>Try again</button>
        </div>
      </div>
    );
  }
  const load = tab === 'favorites'
    ? (q: { limit: number; offset: number }) => api.articles({ ...q, favorited: username })
    : (q: { limit: number; offset: number }) => api.articles({ ...q, author: username });
  return (
    <div class="profile-page">
      <div class="user-info">
        <div class="container">
          <div class="row">
            <div class="col-xs-12 col-md-10 offset-md-1">
              {!p ? <p>Loading profile...</p> : (
                <>
                  <Avatar src={p.image} class="user-img" alt={p.username} />
                  <h4>{p.username}</h4>
                  {p.bio && <p>{p.bio}</p>}
                  {self
                    ? <a class="btn btn-sm btn-outline-secondary action-btn" href={paths.settings()}><i class="ion-gear-a" /> Edit Profile Settings</a>
                    : <FollowButton profile={p} onChange={profile.set} />}
                </>
              )}
            </div>
          </div>
        </div>
      </div>
      <div class="container">
        <div class="row">
          <div class="col-xs-12 col-md-10 offset-md-1">
            <div class="articles-toggle">
              <ul class="nav nav-pills outline-active">
                <li class="nav-item"><a class={`nav-link${tab === 'articles' ? ' active' : ''}`} href={paths.profile(username)}>My Articles</a></li>
                <li class="nav-item"><a class={`nav-link${tab === 'favorites' ? ' active' : ''}`} href={paths.favorites(username)}>Favorited</a></li>
              </ul>
            </div>
            {p && <ArticleList load={load} deps={[username, tab, state]} page={page}
              href={(n) => (tab === 'favorites' ? paths.favorites(username, n) : paths.profile(username, n))} />}
          </div>
        </div>
      </div>
    </div>
  );
}
