import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Project `web`: unit tests (node or happy-dom per file) and the browser tests (test/browser),
// which drive Debian's chromium against CONDUIT_URL or a stand-in region they start themselves.
export default defineConfig({
  test: {
    name: 'web',
    root: fileURLToPath(new URL('.', import.meta.url)),
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    // Builds dist when it is missing or older than the sources, so a fresh clone's `npm test` works.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 240_000,
  },
});
