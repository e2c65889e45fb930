import { describe, expect, it } from 'vitest';
import { parseRoute, paths } from '../../src/router.ts';

describe('routes', () => {
  it.each([
    ['/', '', { name: 'home', feed: 'global', tag: null, page: 1 }],
    ['/', '?feed=following', { name: 'home', feed: 'following', tag: null, page: 1 }],
    ['/', '?page=3', { name: 'home', feed: 'global', tag: null, page: 3 }],
    ['/', '?page=-2', { name: 'home', feed: 'global', tag: null, page: 1 }],
    ['/', '?page=abc', { name: 'home', feed: 'global', tag: null, page: 1 }],
    ['/tag/dragons', '?page=2', { name: 'tag', feed: 'tag', tag: 'dragons', page: 2 }],
    ['/tag/a%20b', '', { name: 'tag', feed: 'tag', tag: 'a b', page: 1 }],
    ['/login', '', { name: 'login' }],
    ['/register/', '', { name: 'register' }],
    ['/settings', '', { name: 'settings' }],
    ['/editor', '', { name: 'editor', slug: null }],
    ['/editor/how-to', '', { name: 'editor', slug: 'how-to' }],
    ['/article/how-to-train', '', { name: 'article', slug: 'how-to-train' }],
    ['/profile/johndoe', '', { name: 'profile', username: 'johndoe', tab: 'articles', page: 1 }],
    ['/profile/johndoe/favorites', '?page=2', { name: 'profile', username: 'johndoe', tab: 'favorites', page: 2 }],
    ['/profile/%E0%A4%A', '', { name: 'profile', username: '%E0%A4%A', tab: 'articles', page: 1 }],
    ['/nope', '', { name: 'notFound', path: '/nope' }],
    ['/article', '', { name: 'notFound', path: '/article' }],
  ])('%s%s', (path, search, expected) => {
    expect(parseRoute(path, search)).toEqual(expected);
  });

  it('builds links that parse back to the same route', () => {
    expect(paths.home()).toBe('/');
    expect(paths.home(2)).toBe('/?page=2');
    expect(paths.yourFeed(3)).toBe('/?feed=following&page=3');
    expect(paths.tag('a b', 2)).toBe('/tag/a%20b?page=2');
    expect(parseRoute('/tag/a%20b', '?page=2')).toMatchObject({ tag: 'a b', page: 2 });
    expect(paths.favorites('jo/hn')).toBe('/profile/jo%2Fhn/favorites');
    expect(paths.editor('s')).toBe('/editor/s');
    expect(paths.article('s?x')).toBe('/article/s%3Fx');
  });
});
