import { render } from 'preact';
import { createApi } from './api.ts';
import { createAuth, debugHooks } from './auth.ts';
import { App } from './app.tsx';
import { installLinkInterception } from './router.ts';
import './styles.css';

declare global {
  interface Window { __conduit_debug__: ReturnType<typeof debugHooks> }
}

const auth = createAuth(window.localStorage);
const api = createApi({ baseUrl: '/api', getToken: () => auth.getToken() });
window.__conduit_debug__ = debugHooks(auth);
installLinkInterception(document);
const root = document.getElementById('app')!;
root.textContent = '';
render(<App api={api} auth={auth} />, root);
void auth.restore(api);
