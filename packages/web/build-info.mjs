// Where the built SPA lives and how to (re)build it, usable from plain Node by the other packages
// (the local region's front tier serves `distDir`; tests call `ensureBuilt()`).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of packages/web. */
export const webDir = dirname(fileURLToPath(import.meta.url));
/** Absolute path of the built site: index.html, default-avatar.svg and assets/ (content-hashed). */
export const distDir = join(webDir, 'dist');
/** The SPA fallback: every path that is not a file is answered with this file. */
export const indexHtml = join(distDir, 'index.html');
/** Folder (under distDir) holding only content-hashed files. */
export const hashedAssetsPrefix = '/assets/';

/** Cache-Control for hashed assets: the name changes whenever the content does. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Cache-Control for index.html and the other unhashed files: always revalidated. */
export const REVALIDATE = 'no-cache';

/** The Cache-Control header a front-tier server (or the CDN) should send for a URL path. */
export function cacheControlFor(urlPath) {
  return urlPath.startsWith(hashedAssetsPrefix) ? IMMUTABLE : REVALIDATE;
}

const sources = ['index.html', 'vite.config.ts', 'package.json', 'src', 'public', 'build'];

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

/** True when dist/index.html exists and is newer than every source file. */
export function isBuildFresh() {
  if (!existsSync(indexHtml)) return false;
  const built = statSync(indexHtml).mtimeMs;
  return sources.every((s) => newestMtime(join(webDir, s)) <= built);
}

/** Runs the Vite production build into distDir; resolves with the bundle report (sizes, budget). */
export async function buildWeb({ quiet = false } = {}) {
  const { build } = await import('vite');
  await build({ root: webDir, configFile: join(webDir, 'vite.config.ts'), logLevel: quiet ? 'warn' : 'info' });
  const { readFileSync } = await import('node:fs');
  return JSON.parse(readFileSync(join(distDir, 'bundle-report.json'), 'utf8'));
}

/** Builds only when dist is missing or older than the sources. Returns true when it built. */
export async function ensureBuilt(opts = {}) {
  if (isBuildFresh()) return false;
  await buildWeb(opts);
  return true;
}
