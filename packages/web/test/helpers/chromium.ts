// Debian's chromium driven by playwright-core (no browser download): one launch recipe for every test.
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run \`node scripts/bootstrap.mjs\` (installs Debian's chromium)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

/** Bundles one source module into a script that sets `globalThis[name]`, to load into a blank page. */
export async function bundleForPage(entry: string, name: string): Promise<string> {
  const { build } = await import('vite');
  const out = await build({
    configFile: false, logLevel: 'silent',
    build: { write: false, minify: false, lib: { entry, formats: ['iife'], name } },
  });
  const result = Array.isArray(out) ? out[0]! : out;
  if (!('output' in result)) throw new Error('unexpected vite build result');
  return result.output[0].code;
}
