// Sanitising is checked in the real browser (Debian's chromium): DOMPurify relies on the exact DOM
// a browser builds, which simulated DOMs (happy-dom) do not reproduce faithfully.
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { avatar, DEFAULT_AVATAR } from '../../src/images.ts';
import { bundleForPage, launchChromium } from '../helpers/chromium.ts';

let browser: Browser;
let page: Page;

beforeAll(async () => {
  const code = await bundleForPage(fileURLToPath(new URL('../../src/markdown.ts', import.meta.url)), 'ConduitMarkdown');
  browser = await launchChromium();
  page = await browser.newPage();
  await page.setContent('<!doctype html><html><body></body></html>');
  await page.addScriptTag({ content: code });
});
afterAll(async () => { await browser?.close(); });

const renderMarkdown = (source: string | undefined): Promise<string> =>
  page.evaluate((s) => (globalThis as unknown as { ConduitMarkdown: { renderMarkdown(x: string | undefined): string } }).ConduitMarkdown.renderMarkdown(s), source);

// The usual XSS payloads: none may leave anything executable in the rendered HTML.
const payloads = [
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '<svg/onload=alert(1)>',
  '<iframe src="javascript:alert(1)"></iframe>',
  '[click](javascript:alert(1))',
  '[click](JaVaScRiPt:alert(1))',
  '[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
  '![x](javascript:alert(1))',
  '<a href="javascript:alert(1)">x</a>',
  '<body onload=alert(1)>',
  '<details open ontoggle=alert(1)>',
  '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
  '<form action="javascript:alert(1)"><button>go</button></form>',
  '<div style="background:url(javascript:alert(1))">x</div>',
  '<object data="javascript:alert(1)"></object>',
  '<embed src="javascript:alert(1)">',
  '<input autofocus onfocus=alert(1)>',
  '"><script>alert(1)</script>',
  '<a href="&#106;avascript:alert(1)">x</a>',
  '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
  '<base href="javascript:alert(1)//">',
  '<link rel=stylesheet href=javascript:alert(1)>',
];

/** Parses the HTML in the browser (as innerHTML would) and lists anything that could run. */
function executableBits(html: string): Promise<string[]> {
  return page.evaluate((h) => {
    const box = document.createElement('div');
    box.innerHTML = h;
    const found: string[] = [];
    for (const el of Array.from(box.querySelectorAll('*'))) {
      const tag = el.tagName.toLowerCase();
      if (['script', 'iframe', 'object', 'embed', 'form', 'input', 'button', 'meta', 'base', 'link', 'style', 'svg', 'math'].includes(tag)) found.push(`<${tag}>`);
      for (const attr of Array.from(el.attributes)) {
        if (attr.name.startsWith('on')) found.push(`${tag}[${attr.name}]`);
        if (attr.name === 'style') found.push(`${tag}[style]`);
        if (/^\s*(javascript|data|vbscript):/i.test(attr.value)) found.push(`${tag}[${attr.name}=${attr.value}]`);
      }
    }
    return found;
  }, html);
}

describe('markdown rendering', () => {
  it('renders ordinary Markdown', async () => {
    const html = await renderMarkdown('# Title\n\nSome *emphasis* and `code`.\n\n- one\n- two\n\n[link](https://example.com)');
    expect(html).toContain('<h1>Title</h1>');
    expect(html).toContain('<em>emphasis</em>');
    expect(html).toContain('<code>code</code>');
    expect(html).toContain('<li>two</li>');
    expect(html).toContain('href="https://example.com"');
    expect(html).toContain('rel="noopener noreferrer nofollow"');
  });

  it('the detector itself sees the raw payloads', async () => {
    for (const payload of payloads.slice(0, 4)) expect(await executableBits(payload)).not.toEqual([]);
  });

  it.each(payloads)('strips everything executable from %s', async (payload) => {
    for (const source of [payload, `before\n\n${payload}\n\nafter`, `**${payload}**`]) {
      expect(await executableBits(await renderMarkdown(source))).toEqual([]);
    }
  });

  it('keeps the harmless text around a payload', async () => {
    const html = await renderMarkdown('hello <script>alert(1)</script> world');
    expect(html).toContain('hello');
    expect(html).toContain('world');
    expect(html).not.toContain('alert(1)</script>');
  });

  it('copes with empty and missing bodies', async () => {
    expect(await renderMarkdown('')).toBe('');
    expect(await renderMarkdown(undefined)).toBe('');
  });
});

describe('avatars', () => {
  it('falls back to the default avatar for null, empty and non-http URLs', () => {
    for (const url of [null, undefined, '', '   ', 'javascript:alert(1)', 'data:image/svg+xml,<svg onload=alert(1)>', '//evil.example/x.png']) {
      expect(avatar(url)).toBe(DEFAULT_AVATAR);
    }
    expect(DEFAULT_AVATAR).toContain('default-avatar.svg');
  });

  it('keeps http(s) and same-origin images', () => {
    expect(avatar('https://i.example/a.png')).toBe('https://i.example/a.png');
    expect(avatar('/img/a.png')).toBe('/img/a.png');
  });
});
