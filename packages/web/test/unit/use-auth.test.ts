// @vitest-environment happy-dom
import { h, render } from 'preact';
import { describe, expect, it } from 'vitest';
import { createApi } from '../../src/api.ts';
import { createAuth, TOKEN_KEY } from '../../src/auth.ts';
import { Services, useAuth } from '../../src/context.ts';
import { ErrorList, Pagination } from '../../src/views/common.tsx';

const settle = () => new Promise((r) => setTimeout(r, 50));

function Probe() {
  const { state, user } = useAuth();
  return h('span', { id: 'probe' }, `${state}:${user?.username ?? '-'}`);
}

describe('useAuth', () => {
  it('sees a sign-in that happens between the first render and its subscription', async () => {
    localStorage.setItem(TOKEN_KEY, 'tok');
    const auth = createAuth(localStorage);
    const api = createApi({ getToken: () => auth.getToken(), fetch: (async () => new Response('{}')) as typeof fetch });
    const root = document.createElement('div');
    render(h(Services.Provider, { value: { api, auth } }, h(Probe, null)), root);
    expect(root.textContent).toBe('loading:-');
    // Before Preact runs the effects (they run after paint):
    auth.signIn({ username: 'jake', email: 'j@x', bio: null, image: null, token: 'tok' });
    await settle();
    expect(root.textContent).toBe('authenticated:jake');
    auth.signOut();
    await settle();
    expect(root.textContent).toBe('unauthenticated:-');
    render(null, root);
  });
});

describe('small views', () => {
  it('ErrorList lists messages in ul.error-messages and renders nothing without errors', () => {
    const root = document.createElement('div');
    render(h(ErrorList, { messages: ['email is invalid', 'password is too short'] }), root);
    expect(root.querySelectorAll('ul.error-messages > li').length).toBe(2);
    render(h(ErrorList, { error: null }), root);
    expect(root.innerHTML).toBe('');
  });

  it('Pagination marks the current page and links every page', () => {
    const root = document.createElement('div');
    render(h(Pagination, { count: 25, limit: 10, page: 2, href: (p: number) => `/?page=${p}` }), root);
    const items = [...root.querySelectorAll('.pagination .page-item')];
    expect(items.map((i) => i.querySelector('a.page-link')?.getAttribute('href'))).toEqual(['/?page=1', '/?page=2', '/?page=3']);
    expect(items.map((i) => i.classList.contains('active'))).toEqual([false, true, false]);
    render(h(Pagination, { count: 10, limit: 10, page: 1, href: String }), root);
    expect(root.querySelector('.pagination')).toBeNull();
  });
});
