// The bundle budget: the JavaScript the home page loads, gzipped, must stay under a limit.
// Pure functions over the built index.html and the chunks' bytes, so the rule is testable.
import { gzipSync } from 'node:zlib';

export const BUDGET_BYTES = 100 * 1024;

export interface BundleReport {
  /** Files (relative to dist) the home page loads as JavaScript: entry script + modulepreloads. */
  homePageScripts: string[];
  /** Sum of their gzipped sizes, in bytes. */
  gzipBytes: number;
  budgetBytes: number;
  withinBudget: boolean;
}

/** The JS files index.html makes the browser load: module scripts and modulepreload links. */
export function scriptsLoadedBy(indexHtml: string): string[] {
  const found = new Set<string>();
  for (const m of indexHtml.matchAll(/<script\b[^>]*\bsrc="([^"]+\.js)"/g)) found.add(m[1]!);
  for (const m of indexHtml.matchAll(/<link\b[^>]*\brel="modulepreload"[^>]*\bhref="([^"]+\.js)"/g)) found.add(m[1]!);
  return [...found].map((p) => p.replace(/^\//, ''));
}

export function bundleReport(indexHtml: string, read: (file: string) => Uint8Array | string, budgetBytes = BUDGET_BYTES): BundleReport {
  const homePageScripts = scriptsLoadedBy(indexHtml);
  const gzipBytes = homePageScripts.reduce((sum, f) => sum + gzipSync(read(f), { level: 9 }).length, 0);
  return { homePageScripts, gzipBytes, budgetBytes, withinBudget: gzipBytes <= budgetBytes };
}

export function formatReport(r: BundleReport): string {
  const kb = (n: number) => (n / 1024).toFixed(1);
  return `home page JavaScript: ${kb(r.gzipBytes)} KB gzipped in ${r.homePageScripts.length} file(s) ` +
    `(budget ${kb(r.budgetBytes)} KB): ${r.withinBudget ? 'OK' : 'OVER BUDGET'}`;
}
