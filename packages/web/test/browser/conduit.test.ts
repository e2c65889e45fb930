// The whole site through a browser: Debian's chromium (playwright-core) against the target from
// test/helpers/target.ts (CONDUIT_URL, e.g. the local region's edge, or a stand-in).
// Steps share one site and run in order; names carry a run id so the site may be reused.
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from 'vitest';
import { webDir } from '../../build-info.mjs';
import { launchChromium } from '../helpers/chromium.ts';
import { resolveTarget, type Target } from '../helpers/target.ts';

const shots = join(webDir, 'test-output');
const run = Date.now().toString(36);
const alice = { username: `alice${run}`, email: `alice${run}@example.com`, password: 'alice-password-1' };
const bob = { username: `bob${run}`, email: `bob${run}@example.com`, password: 'bob-password-1' };
const tag = `tag${run}`;
const title = `Dragons <script>window.__xss = 1</script> ${run}`;
const body = [
  '# How to train your dragon',
  '',
  'Markdown **works** and `code` too.',
  '',
  '<img src="x" onerror="window.__xss = 2"> <a href="javascript:window.__xss = 3">click</a>',
  '',
  '<script>window.__xss = 4</script>',
].join('\n');

let target: Target;
let browser: Browser;
let A: BrowserContext; // alice's browser
let B: BrowserContext; // bob's browser
let a: Page;
let b: Page;
let slug = '';
const consoleErrors: string[] = [];
const apiTrouble: string[] = []; // failed or 5xx API calls, printed when a test fails

async function newUserPage(ctx: BrowserContext): Promise<Page> {
  const page = await ctx.newPage();
  page.setDefaultTimeout(10_000);
  page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => { if (r.url().includes('/api/')) apiTrouble.push(`${r.method()} ${r.url()} failed: ${r.failure()?.errorText}`); });
  page.on('response', (r) => { if (r.url().includes('/api/') && r.status() >= 500) apiTrouble.push(`${r.request().method()} ${r.url()} -> ${r.status()}`); });
  return page;
}

const debug = (page: Page) => page.evaluate(() => {
  const d = (window as unknown as { __conduit_debug__: { getToken(): string | null; getAuthState(): string; getCurrentUser(): { username: string; bio: string | null } | null } }).__conduit_debug__;
  return { token: d.getToken(), state: d.getAuthState(), user: d.getCurrentUser(), stored: localStorage.getItem('jwtToken') };
});

async function signUp(page: Page, u: typeof alice): Promise<void> {
  await page.goto(`${target.url}/register`);
  await expect.poll(() => page.locator('h1').textContent()).toBe('Sign up');
  await page.fill('input[name=username]', u.username);
  await page.fill('input[name=email]', u.email);
  await page.fill('input[name=password]', u.password);
  await page.click('button:has-text("Sign up")');
  await page.waitForURL(`${target.url}/`);
  await page.locator(`nav.navbar a.nav-link:has-text("${u.username}")`).waitFor();
}

async function apiCall(token: string, method: string, path: string, data?: unknown): Promise<unknown> {
  const res = await fetch(`${target.url}/api${path}`, {
    method, headers: { Authorization: `Token ${token}`, 'Content-Type': 'application/json' }, body: data === undefined ? undefined : JSON.stringify(data),
  });
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`);
  return res.status === 204 ? undefined : res.json();
}

beforeAll(async () => {
  const started = Date.now();
  target = await resolveTarget();
  browser = await launchChromium();
  A = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  B = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  a = await newUserPage(A);
  b = await newUserPage(B);
  mkdirSync(shots, { recursive: true });
  console.log(`[web] browser tests against ${target.description} (${target.url}), ready in ${Date.now() - started} ms`);
});

// On a failure, keep what both browsers showed and what the app believed, for a person to look at.
beforeEach((ctx) => {
  onTestFailed(async () => {
    const name = ctx.task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60);
    for (const [who, page] of [['alice', a], ['bob', b]] as const) {
      if (!page || page.isClosed()) continue;
      await page.screenshot({ path: join(shots, `failed-${name}-${who}.png`) }).catch(() => undefined);
      const state = await debug(page).catch((e: unknown) => String(e));
      console.log(`[web] after failure, ${who} at ${page.url()}: ${JSON.stringify(state)}`);
    }
    if (apiTrouble.length) console.log(`[web] API trouble so far:\n  ${apiTrouble.join('\n  ')}`);
  });
});

afterAll(async () => {
  await browser?.close();
  await target?.stop();
});

describe('Conduit in a browser', () => {
  it('opens the home page cold: navbar, banner, global feed, signed out', async () => {
    await a.goto(`${target.url}/`);
    await a.locator('nav.navbar a.navbar-brand').waitFor();
    await a.locator('.banner').waitFor();
    await a.locator('.feed-toggle a.nav-link:has-text("Global Feed")').waitFor();
    await a.locator('.article-preview').first().waitFor();
    expect(await a.locator('nav.navbar a.nav-link:has-text("Home")').count()).toBe(1);
    expect(await debug(a)).toEqual({ token: null, state: 'unauthenticated', user: null, stored: null });
  });

  it('shows API validation errors in ul.error-messages', async () => {
    await a.goto(`${target.url}/login`);
    await expect.poll(() => a.locator('h1').textContent()).toBe('Sign in');
    await a.fill('input[name=email]', `nobody${run}@example.com`);
    await a.fill('input[name=password]', 'wrong-password');
    await a.click('button:has-text("Sign in")');
    await a.locator('ul.error-messages li').first().waitFor();
    expect(a.url()).toBe(`${target.url}/login`);
  });

  it('registers, keeps the JWT in localStorage and shows the default avatar', async () => {
    await signUp(a, alice);
    const d = await debug(a);
    expect(d.state).toBe('authenticated');
    expect(d.token).toBeTruthy();
    expect(d.stored).toBe(d.token);
    expect(d.user?.username).toBe(alice.username);
    expect(await a.locator('img.user-pic').getAttribute('src')).toContain('default-avatar.svg');
  });

  it('refuses a taken username with an error message', async () => {
    await b.goto(`${target.url}/register`);
    await b.fill('input[name=username]', alice.username);
    await b.fill('input[name=email]', `other${run}@example.com`);
    await b.fill('input[name=password]', 'whatever-password');
    await b.click('button:has-text("Sign up")');
    await expect.poll(() => b.locator('ul.error-messages').textContent()).toMatch(/username/i);
  });

  it('publishes an article with tags; the body is Markdown with nothing executable', async () => {
    await a.click('nav.navbar a.nav-link:has-text("New Article")');
    await a.fill('input[name=title]', title);
    await a.fill('input[name=description]', 'About dragons');
    await a.fill('textarea[name=body]', body);
    await a.fill('input[placeholder="Enter tags"]', tag);
    await a.press('input[placeholder="Enter tags"]', 'Enter');
    await a.fill('input[placeholder="Enter tags"]', 'dragons');
    await a.press('input[placeholder="Enter tags"]', 'Enter');
    expect(await a.locator('.tag-list .tag-pill').allTextContents()).toEqual([tag, 'dragons']);
    await a.click('button:has-text("Publish Article")');
    await a.waitForURL(/\/article\//);
    slug = decodeURIComponent(new URL(a.url()).pathname.split('/')[2]!);
    await a.locator('.article-page .banner h1').waitFor();
    expect(await a.locator('.article-page .banner h1').textContent()).toBe(title);
    expect(await a.locator('.article-content h1').textContent()).toBe('How to train your dragon');
    expect(await a.locator('.article-content strong').textContent()).toBe('works');
    expect(await a.locator('.article-content .tag-list').textContent()).toContain(tag);
    expect(await a.locator('.article-content [onerror], .article-content script, .article-content a[href^="javascript"]').count()).toBe(0);
    await a.locator('.article-content a:has-text("click")').click({ trial: false }).catch(() => undefined);
    expect(await a.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(await a.locator('a:has-text("Edit Article")').count()).toBe(1);
    expect(await a.locator('button:has-text("Delete Article")').count()).toBe(1);
    expect(await a.locator('.article-meta img').first().getAttribute('src')).toContain('default-avatar.svg');
  });

  it('lists the article in the global feed and under its tag', async () => {
    await a.click('nav.navbar a.nav-link:has-text("Home")');
    await a.locator(`.article-preview h1:text-is("${title.replace(/"/g, '\\"')}")`).waitFor();
    await a.goto(`${target.url}/tag/${tag}`);
    await a.locator('.feed-toggle a.nav-link.active').filter({ hasText: tag }).waitFor();
    await a.locator('.article-preview a.preview-link').first().waitFor();
    expect(await a.locator('.article-preview').count()).toBe(1);
    expect(await a.locator('.article-preview a.author').textContent()).toBe(alice.username);
    expect(await a.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
  });

  it('comments and deletes the comment', async () => {
    await a.click('.article-preview a.preview-link');
    await a.waitForURL(/\/article\//);
    const text = `First! <img src=x onerror="window.__xss=5"> ${run}`;
    await a.fill('textarea[placeholder="Write a comment..."]', text);
    await a.click('button:has-text("Post Comment")');
    const card = a.locator('.card:not(.comment-form)').filter({ hasText: run });
    await card.waitFor();
    expect(await card.locator('.card-block').textContent()).toBe(text);
    expect(await card.locator('img.comment-author-img').getAttribute('src')).toContain('default-avatar.svg');
    await card.locator('span.mod-options > i.ion-trash-a').click();
    await card.waitFor({ state: 'detached' });
    await a.reload();
    await a.locator('.card.comment-form').waitFor();
    expect(await a.locator('.card:not(.comment-form)').count()).toBe(0);
    expect(await a.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
  });

  it('edits the article: new title, one tag removed, one added', async () => {
    await a.goto(`${target.url}/article/${encodeURIComponent(slug)}`);
    await a.click('a:has-text("Edit Article")');
    await a.waitForURL(/\/editor\//);
    await expect.poll(() => a.inputValue('input[name=title]')).toBe(title);
    expect(await a.inputValue('textarea[name=body]')).toBe(body);
    await a.fill('input[name=title]', `${title} (edited)`);
    await a.locator('.tag-list .tag-pill').filter({ hasText: 'dragons' }).locator('i.ion-close-round').click();
    await a.fill('input[placeholder="Enter tags"]', 'edited');
    await a.press('input[placeholder="Enter tags"]', 'Enter');
    await a.click('button:has-text("Publish Article")');
    await a.waitForURL(/\/article\//);
    await a.locator('.article-page .banner h1').filter({ hasText: '(edited)' }).waitFor();
    slug = decodeURIComponent(new URL(a.url()).pathname.split('/')[2]!);
    expect(await a.locator('.article-content .tag-list .tag-pill').allTextContents()).toEqual([tag, 'edited']);
    expect(await a.locator('.article-content h1').textContent()).toBe('How to train your dragon');
  });

  it('favorites, follows and sees the article in Your Feed', async () => {
    await signUp(b, bob);
    await b.goto(`${target.url}/article/${encodeURIComponent(slug)}`);
    const fav = b.locator('.article-page .banner button:has-text("Favorite")');
    await fav.waitFor();
    expect(await fav.getAttribute('class')).toContain('btn-outline-primary');
    await fav.click();
    await b.locator('.article-page .banner button.btn-primary:has-text("Unfavorite")').waitFor();
    await b.click(`button:has-text("Follow ${alice.username}")`);
    await b.locator(`button:has-text("Unfollow ${alice.username}")`).waitFor();
    await b.click('nav.navbar a.nav-link:has-text("Home")');
    await b.click('.feed-toggle a.nav-link:has-text("Your Feed")');
    await b.waitForURL(`${target.url}/?feed=following`);
    await b.locator('.article-preview a.preview-link').filter({ hasText: run }).waitFor();
    expect(await b.locator('.article-preview button.btn-primary').count()).toBeGreaterThanOrEqual(1);
    // Alice's profile lists it under her articles, with an Unfollow button for Bob.
    await b.click('.article-preview a.author');
    await b.waitForURL(`${target.url}/profile/${alice.username}`);
    await b.locator('.profile-page .user-info h4').filter({ hasText: alice.username }).waitFor();
    await b.locator(`.user-info button:has-text("Unfollow ${alice.username}")`).waitFor();
    await b.locator('.article-preview a.preview-link').filter({ hasText: run }).waitFor();
    // Bob's profile lists it under "Favorited".
    await b.goto(`${target.url}/profile/${bob.username}`);
    await b.click('a.nav-link:has-text("Favorited")');
    await b.waitForURL(/\/favorites$/);
    await b.locator('.article-preview a.preview-link').filter({ hasText: run }).waitFor();
  });

  it('edits the settings and logs out', async () => {
    await b.click('nav.navbar a.nav-link:has-text("Settings")');
    await b.locator('textarea[name=bio]').waitFor();
    // The current password, which the API asks for to change the email or password after a while (not sent empty).
    expect(await b.locator('input[name=currentPassword][type=password]').count()).toBe(1);
    await b.fill('textarea[name=bio]', `Bob likes dragons <b onmouseover="window.__xss=6">${run}</b>`);
    await b.click('button:has-text("Update Settings")');
    await b.waitForURL(`${target.url}/profile/${bob.username}`);
    await b.locator('.profile-page .user-info p').filter({ hasText: 'Bob likes dragons' }).waitFor();
    expect(await b.locator('.user-info img.user-img').getAttribute('src')).toContain('default-avatar.svg');
    expect(await b.locator('.user-info b').count()).toBe(0);
    expect(await b.locator('a:has-text("Edit Profile Settings")').count()).toBe(1);
    expect((await debug(b)).user?.bio).toContain('Bob likes dragons');
    await b.click('nav.navbar a.nav-link:has-text("Settings")');
    await b.click('button.btn-outline-danger:has-text("Or click here to logout")');
    await b.waitForURL(`${target.url}/`);
    await b.locator('nav.navbar a.nav-link:has-text("Sign in")').waitFor();
    expect(await debug(b)).toEqual({ token: null, state: 'unauthenticated', user: null, stored: null });
  });

  it('logs in again and stays signed in across a reload', async () => {
    await b.goto(`${target.url}/login`);
    await b.fill('input[name=email]', bob.email);
    await b.fill('input[name=password]', bob.password);
    await b.click('button:has-text("Sign in")');
    await b.waitForURL(`${target.url}/`);
    await b.reload();
    await b.locator(`nav.navbar a.nav-link:has-text("${bob.username}")`).waitFor();
    expect((await debug(b)).state).toBe('authenticated');
  });

  it('paginates the feed of a tag and the global feed', async () => {
    const token = (await debug(a)).token!;
    for (let i = 1; i <= 11; i++) {
      await apiCall(token, 'POST', '/articles', { article: { title: `Page filler ${i} ${run}`, description: 'filler', body: 'filler', tagList: [`page${run}`] } });
    }
    await a.goto(`${target.url}/tag/page${run}`);
    await a.locator('.pagination .page-item').first().waitFor();
    expect(await a.locator('.article-preview').count()).toBe(10);
    expect(await a.locator('.pagination .page-item').count()).toBe(2);
    expect(await a.locator('.pagination .page-item.active .page-link').textContent()).toBe('1');
    await a.click('.pagination .page-item:not(.active) .page-link');
    await a.waitForURL(`${target.url}/tag/page${run}?page=2`);
    await a.locator('.pagination .page-item.active .page-link:text-is("2")').waitFor();
    await expect.poll(() => a.locator('.article-preview').count()).toBe(1);
    expect(await a.locator('.article-preview h1').textContent()).toBe(`Page filler 1 ${run}`);
    await a.goto(`${target.url}/?page=2`);
    await a.locator('.pagination .page-item.active .page-link:text-is("2")').waitFor();
    await a.locator('.article-preview a.preview-link').first().waitFor();
  });

  it('opens a deep link cold and takes screenshots', async () => {
    const fresh = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const page = await newUserPage(fresh);
    const res = await page.goto(`${target.url}/article/${encodeURIComponent(slug)}`);
    expect(res?.status()).toBe(200);
    await page.locator('.article-page .article-content h1').waitFor();
    expect(await page.locator('.article-page .banner h1').textContent()).toBe(`${title} (edited)`);
    expect(await page.title()).toBe(`${title} (edited) — Conduit`);
    expect(await page.locator('.article-page .banner button:has-text("Favorite")').getAttribute('class')).toContain('btn-outline-primary');
    await page.screenshot({ path: join(shots, 'article.png'), fullPage: true });
    await page.goto(`${target.url}/`);
    await page.locator('.article-preview a.preview-link').first().waitFor();
    await page.locator('.sidebar .tag-list .tag-pill').first().waitFor();
    await page.screenshot({ path: join(shots, 'home.png'), fullPage: false });
    await fresh.close();
  });

  it('shows a message, not a blank page, when the API cannot be reached', async () => {
    const ctx = await browser.newContext();
    const page = await newUserPage(ctx);
    await page.route('**/api/**', (r) => r.abort('connectionrefused'));
    await page.goto(`${target.url}/`);
    await page.locator('ul.error-messages li').first().waitFor();
    expect(await page.locator('ul.error-messages').first().textContent()).toMatch(/Unable to connect to the server/);
    await page.locator('nav.navbar').waitFor();
    await ctx.close();
    apiTrouble.length = 0; // the failures above were made on purpose
  });

  describe('when things go wrong (the API made to fail by request interception)', () => {
    /** A fresh browser whose stored token is alice's, with `fail` answering GET /api/user. */
    async function withStoredToken(fail?: Parameters<Page['route']>[1]): Promise<{ ctx: BrowserContext; page: Page; token: string }> {
      const token = (await debug(a)).token!;
      const ctx = await browser.newContext();
      const page = await newUserPage(ctx);
      await page.goto(`${target.url}/login`);
      await page.evaluate((t) => localStorage.setItem('jwtToken', t), token);
      if (fail) await page.route('**/api/user', fail);
      await page.goto(`${target.url}/`);
      return { ctx, page, token };
    }

    it('a 401 or another 4xx on start drops the stored token and signs out', async () => {
      for (const status of [401, 404]) {
        const { ctx, page } = await withStoredToken((r) => r.fulfill({ status, contentType: 'application/json', body: '{"errors":{"token":["is invalid"]}}' }));
        await expect.poll(async () => (await debug(page)).state).toBe('unauthenticated');
        expect((await debug(page)).stored).toBeNull();
        await page.locator('nav.navbar a.nav-link:has-text("Sign in")').waitFor();
        await ctx.close();
      }
    });

    it('a 5xx, a network error, a timeout or malformed JSON on start keeps the token: "Connecting…", public pages work, it recovers by itself', async () => {
      const failures: Array<[string, Parameters<Page['route']>[1]]> = [
        ['503', (r) => r.fulfill({ status: 503, contentType: 'application/json', body: '{"errors":{"database":["is unavailable"]}}' })],
        ['network error', (r) => r.abort('connectionreset')],
        ['timeout', (r) => r.abort('timedout')],
        ['malformed JSON', (r) => r.fulfill({ status: 200, contentType: 'application/json', body: '{"user": {' })],
      ];
      for (const [what, fail] of failures) {
        const { ctx, page, token } = await withStoredToken(fail);
        await page.locator('.connecting-notice').waitFor();
        expect(await page.locator('.connecting-notice').textContent(), what).toContain('Connecting…');
        expect(await debug(page), what).toMatchObject({ state: 'unavailable', stored: token });
        // Public pages still work meanwhile.
        await page.locator('.article-preview a.preview-link').first().waitFor();
        if (what === '503') {
          await page.reload();
          await page.locator('.connecting-notice').waitFor();
          expect((await debug(page)).stored, 'a reload keeps the token').toBe(token);
        }
        // The API answers again: the app signs in by itself, without a reload.
        await page.unroute('**/api/user');
        await expect.poll(async () => (await debug(page)).state, { timeout: 15_000 }).toBe('authenticated');
        await page.locator(`nav.navbar a.nav-link:has-text("${alice.username}")`).waitFor();
        expect(await page.locator('.connecting-notice').count()).toBe(0);
        await ctx.close();
      }
      apiTrouble.length = 0;
    }, 90_000);

    it('a form that fails says why plainly and keeps what the user typed', async () => {
      const { ctx, page } = await withStoredToken();
      await page.goto(`${target.url}/editor`);
      await page.locator('input[name=title]').waitFor();
      await page.fill('input[name=title]', `Draft ${run}`);
      await page.fill('textarea[name=body]', 'A long draft that must survive.');
      for (const [fail, message] of [
        [(r: Parameters<Parameters<Page['route']>[1]>[0]) => r.abort('internetdisconnected'), /Unable to connect to the server.*Check your internet connection/],
        [(r: Parameters<Parameters<Page['route']>[1]>[0]) => r.fulfill({ status: 500, body: 'oops' }), /The server had a problem \(HTTP 500\)/],
      ] as const) {
        await page.route('**/api/articles', fail);
        await page.click('button:has-text("Publish Article")');
        await page.locator('ul.error-messages li').first().waitFor();
        expect(await page.locator('ul.error-messages').textContent()).toMatch(message);
        expect(await page.inputValue('input[name=title]')).toBe(`Draft ${run}`);
        expect(await page.inputValue('textarea[name=body]')).toBe('A long draft that must survive.');
        await page.unroute('**/api/articles');
      }
      await ctx.close();
      apiTrouble.length = 0;
    });

    it('an empty Your Feed explains why and links to the Global Feed', async () => {
      const { ctx, page } = await withStoredToken();
      await page.route('**/api/articles/feed**', (r) => r.fulfill({ status: 200, contentType: 'application/json', body: '{"articles":[],"articlesCount":0}' }));
      await page.goto(`${target.url}/?feed=following`);
      await page.locator('.empty-feed-message').waitFor();
      expect(await page.locator('.empty-feed-message').textContent()).toMatch(/No articles are here\.\.\. yet\..*people you follow/);
      await page.click('.empty-feed-message a:has-text("Global Feed")');
      await page.waitForURL(`${target.url}/`);
      await page.locator('.article-preview a.preview-link').first().waitFor();
      await ctx.close();
    });

    it('profiles: no bio shows nothing, an unknown user is a clean not-found page, a failure an error state', async () => {
      const ctx = await browser.newContext();
      const page = await newUserPage(ctx);
      await page.route('**/api/profiles/nobio*', (r) => r.fulfill({ status: 200, contentType: 'application/json', body: '{"profile":{"username":"nobio","bio":null,"image":null,"following":false}}' }));
      await page.goto(`${target.url}/profile/nobio`);
      await page.locator('.user-info h4:has-text("nobio")').waitFor();
      expect(await page.locator('.user-info').textContent()).not.toContain('null');
      await page.goto(`${target.url}/profile/nobody${run}`);
      await page.locator('h1:has-text("Profile not found")').waitFor();
      expect(await page.locator('img.user-img').count()).toBe(0);
      expect(await page.locator('button:has-text("Follow")').count()).toBe(0);
      expect(await page.locator('.articles-toggle').count()).toBe(0);
      await page.route('**/api/profiles/broken*', (r) => r.fulfill({ status: 503, contentType: 'application/json', body: '{"errors":{"database":["is unavailable, retry shortly"]}}' }));
      await page.goto(`${target.url}/profile/broken`);
      await page.locator('ul.error-messages li').first().waitFor();
      expect(await page.locator('button:has-text("Try again")').count()).toBe(1);
      expect(await page.locator('.articles-toggle').count()).toBe(0);
      expect(await page.locator('img.user-img').count()).toBe(0);
      await ctx.close();
      apiTrouble.length = 0;
    });

    it('an empty body or an unexpected shape from the API is an error state, not a crash', async () => {
      const ctx = await browser.newContext();
      const page = await newUserPage(ctx);
      const errorsBefore = consoleErrors.length;
      for (const body of ['', '{}', '{"articles":"nope"}']) {
        await page.route('**/api/articles?**', (r) => r.fulfill({ status: 200, contentType: 'application/json', body }));
        await page.route('**/api/tags', (r) => r.fulfill({ status: 200, contentType: 'application/json', body }));
        await page.goto(`${target.url}/`);
        await page.locator('.article-preview ul.error-messages li').waitFor();
        expect(await page.locator('.article-preview ul.error-messages').textContent(), body).toMatch(/unexpected answer|unreadable answer/);
        expect(await page.locator('.sidebar ul.error-messages').count(), body).toBe(1);
        await page.locator('nav.navbar').waitFor();
        await page.unroute('**/api/articles?**');
        await page.unroute('**/api/tags');
      }
      expect(consoleErrors.slice(errorsBefore)).toEqual([]);
      await ctx.close();
    });
  });

  it('works from a page on another origin (CORS): reads, signed-in calls with preflights, bodiless writes', async () => {
    const token = (await debug(a)).token!;
    const page$ = `<!doctype html><title>other origin</title><script>
      window.run = async (api, token, slug) => {
        const out = {};
        const call = async (name, path, init) => {
          try { const r = await fetch(api + path, init); out[name] = r.status; } catch (e) { out[name] = String(e); }
        };
        const auth = { Authorization: 'Token ' + token, 'Content-Type': 'application/json' };
        await call('tags', '/api/tags');
        await call('user', '/api/user', { headers: auth });
        await call('favorite', '/api/articles/' + slug + '/favorite', { method: 'POST', headers: auth });
        await call('unfavorite', '/api/articles/' + slug + '/favorite', { method: 'DELETE', headers: auth });
        await call('bearer', '/api/user', { headers: { Authorization: 'Bearer ' + token } });
        return out;
      };
    </script>`;
    const server = createServer((_req, res) => { res.setHeader('content-type', 'text/html'); res.end(page$); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const other = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const ctx = await browser.newContext();
    try {
      const page = await newUserPage(ctx);
      await page.goto(`${other}/`);
      const result = await page.evaluate(([api, t, s]) => (window as unknown as { run(a: string, b: string, c: string): Promise<Record<string, unknown>> }).run(api!, t!, s!), [target.url, token, slug]);
      expect(result).toEqual({ tags: 200, user: 200, favorite: 200, unfavorite: 200, bearer: 200 });
    } finally {
      await ctx.close();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('serves hashed assets as immutable and index.html revalidated, for every route', async () => {
    const index = await fetch(`${target.url}/profile/${alice.username}/favorites`);
    expect(index.status).toBe(200);
    expect(index.headers.get('cache-control')).toMatch(/no-cache|max-age=0/);
    const html = await index.text();
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const js = await fetch(`${target.url}${asset}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    // A missing asset (e.g. asked of an old instance during a rolling deploy) is a 404 that no cache
    // may keep for long, or the edge would serve that 404 for a year once the asset exists.
    const missing = await fetch(`${target.url}/assets/nope-${run}.js`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('cache-control') ?? '').not.toMatch(/immutable|max-age=[1-9]\d{3,}/);
  });

  it('deletes the article', async () => {
    await a.goto(`${target.url}/article/${encodeURIComponent(slug)}`);
    await a.click('button:has-text("Delete Article")');
    await a.waitForURL(`${target.url}/`);
    // Signed in, so no edge cache answers for the API (anonymous GETs may be cached for a few seconds).
    const gone = await apiCall((await debug(a)).token!, 'GET', `/articles/${encodeURIComponent(slug)}`).catch((e: Error) => e.message);
    expect(gone).toMatch(/HTTP 404/);
    expect(consoleErrors).toEqual([]);
  });
});
