import { useEffect, useErrorBoundary, useState } from 'preact/hooks';
import type { Api } from './api.ts';
import type { Auth } from './auth.ts';
import { Services, useAuth } from './context.ts';
import { onNavigate, parseRoute, paths, type Route } from './router.ts';
import { ArticlePage } from './views/article.tsx';
import { AuthPage, Settings } from './views/auth-pages.tsx';
import { Avatar, ErrorList } from './views/common.tsx';
import { Editor } from './views/editor.tsx';
import { Home } from './views/home.tsx';
import { ProfilePage } from './views/profile.tsx';
import { Redirect } from './views/redirect.tsx';

function currentRoute(): Route {
  return parseRoute(location.pathname, location.search);
}

function Header({ route }: { route: Route }) {
  const { state, user } = useAuth();
  const link = (href: string, label: preact.ComponentChildren, active: boolean) => (
    <li class="nav-item"><a class={`nav-link${active ? ' active' : ''}`} href={href}>{label}</a></li>
  );
  return (
    <nav class="navbar navbar-light">
      <div class="container">
        <a class="navbar-brand" href="/">conduit</a>
        <ul class="nav navbar-nav pull-xs-right">
          {link(paths.home(), 'Home', route.name === 'home')}
          {state === 'authenticated' && user ? (
            <>
              {link(paths.editor(), <><i class="ion-compose" /> New Article</>, route.name === 'editor')}
              {link(paths.settings(), <><i class="ion-gear-a" /> Settings</>, route.name === 'settings')}
              {link(paths.profile(user.username), <><Avatar src={user.image} class="user-pic" alt={user.username} /> {user.username}</>,
                route.name === 'profile' && route.username === user.username)}
            </>
          ) : (
            <>
              {link(paths.login(), 'Sign in', route.name === 'login')}
              {link(paths.register(), 'Sign up', route.name === 'register')}
            </>
          )}
        </ul>
      </div>
    </nav>
  );
}

function Footer() {
  return (
    <footer>
      <div class="container">
        <a href="/" class="logo-font">conduit</a>
        <span class="attribution">An interactive learning project. Code &amp; design licensed under MIT.</span>
      </div>
    </footer>
  );
}

const titles: Record<Route['name'], string> = {
  home: 'Home', tag: 'Tag', login: 'Sign in', register: 'Sign up', settings: 'Settings',
  editor: 'Editor', article: 'Article', profile: 'Profile', notFound: 'Not found',
};

function pageTitle(route: Route): string {
  if (route.name === 'tag') return `#${route.tag}`;
  if (route.name === 'profile') return route.username;
  return titles[route.name];
}

function Body({ route }: { route: Route }) {
  const { state } = useAuth();
  useEffect(() => { document.title = `${pageTitle(route)} — Conduit`; }, [route]);
  const needsAuth = route.name === 'settings' || route.name === 'editor';
  const guestOnly = route.name === 'login' || route.name === 'register';
  if (needsAuth && state === 'loading') return <div class="container page">Loading...</div>;
  if (needsAuth && state !== 'authenticated') return <Redirect to={paths.login()} />;
  if (guestOnly && state === 'authenticated') return <Redirect to={paths.home()} />;
  switch (route.name) {
    case 'home':
    case 'tag': return <Home route={route} />;
    case 'login': return <AuthPage key="login" mode="login" />;
    case 'register': return <AuthPage key="register" mode="register" />;
    case 'settings': return <Settings />;
    case 'editor': return <Editor key={route.slug ?? 'new'} slug={route.slug} />;
    case 'article': return <ArticlePage slug={route.slug} />;
    case 'profile': return <ProfilePage username={route.username} tab={route.tab} page={route.page} />;
    case 'notFound': return (
      <div class="container page"><h1>Page not found</h1><p>Nothing lives at {route.path}. <a href="/">Back to the feed</a>.</p></div>
    );
  }
}

/** Any rendering bug shows a message and a way out instead of a blank page. */
function Guarded({ route }: { route: Route }) {
  const [error, reset] = useErrorBoundary();
  useEffect(() => { if (error) reset(); }, [route]);
  if (error) return <div class="container page"><ErrorList error={error} /><a href="/">Back to the feed</a></div>;
  return <Body route={route} />;
}

/** Shown while the session cannot be checked: the token is kept and the check retried in the background. */
function Unavailable() {
  const { state } = useAuth();
  if (state !== 'unavailable') return null;
  return (
    <div class="container">
      <p class="connecting-notice" role="status">Connecting… The server is not answering right now; you stay signed in and
        public pages still work. This clears by itself once the server is back.</p>
    </div>
  );
}

export function App({ api, auth }: { api: Api; auth: Auth }) {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => onNavigate(() => setRoute(currentRoute())), []);
  return (
    <Services.Provider value={{ api, auth }}>
      <Header route={route} />
      <Unavailable />
      <Guarded route={route} />
      <Footer />
    </Services.Provider>
  );
}
