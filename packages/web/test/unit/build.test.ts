import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundleReport, formatReport, scriptsLoadedBy } from '../../build/budget.ts';
import { cacheControlFor, distDir, IMMUTABLE, indexHtml, isBuildFresh, REVALIDATE } from '../../build-info.mjs';

describe('bundle budget', () => {
  it('finds the entry script and module preloads in index.html', () => {
    const html = '<script type="module" crossorigin src="/assets/index-abc.js"></script>' +
      '<link rel="modulepreload" crossorigin href="/assets/vendor-def.js"><link rel="stylesheet" href="/assets/index-x.css">';
    expect(scriptsLoadedBy(html)).toEqual(['assets/index-abc.js', 'assets/vendor-def.js']);
  });

  it('sums gzipped sizes and compares them with the budget', () => {
    const html = '<script type="module" src="/assets/a.js"></script>';
    const big = bundleReport(html, () => crypto.getRandomValues(new Uint8Array(4096)), 1024);
    expect(big.withinBudget).toBe(false);
    expect(formatReport(big)).toMatch(/OVER BUDGET/);
    const small = bundleReport(html, () => 'x'.repeat(10_000), 1024);
    expect(small.withinBudget).toBe(true);
    expect(small.gzipBytes).toBeLessThan(200);
  });

  it('the built home page loads at most 100 KB of gzipped JavaScript', () => {
    const report = JSON.parse(readFileSync(join(distDir, 'bundle-report.json'), 'utf8'));
    const recomputed = bundleReport(readFileSync(indexHtml, 'utf8'), (f) => readFileSync(join(distDir, f)));
    expect(recomputed).toEqual(report);
    expect(report.withinBudget).toBe(true);
    expect(report.gzipBytes).toBeLessThanOrEqual(100 * 1024);
    console.log(`[web] ${formatReport(report)}`);
  });
});

describe('built files', () => {
  it('dist is fresh and holds index.html, the default avatar and content-hashed assets only', () => {
    expect(isBuildFresh()).toBe(true);
    const html = readFileSync(indexHtml, 'utf8');
    const refs = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThanOrEqual(2);
    for (const ref of refs) {
      expect(ref).toMatch(/^\/assets\/[\w.-]+-[\w-]{8}\.(js|css)$/);
      expect(existsSync(join(distDir, ref))).toBe(true);
    }
    expect(html).not.toMatch(/https?:\/\//); // nothing from a CDN: the machine may be offline
    expect(readFileSync(join(distDir, 'default-avatar.svg'), 'utf8')).toContain('<svg');
  });

  it('tells servers which Cache-Control to send', () => {
    expect(cacheControlFor('/assets/index-DZk7KzJJ.js')).toBe('public, max-age=31536000, immutable');
    expect(IMMUTABLE).toBe('public, max-age=31536000, immutable');
    for (const p of ['/', '/index.html', '/article/x', '/default-avatar.svg']) expect(cacheControlFor(p)).toBe(REVALIDATE);
    expect(REVALIDATE).toBe('no-cache');
  });
});
