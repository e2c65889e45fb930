import { defineProject } from 'vitest/config';

// Unit tests (topology, log parsers and index) need no servers; test/console.browser.test.ts brings up a
// small region of its own (ports 27xxx) and drives the console with Debian's chromium.
export default defineProject({
  test: {
    name: 'console',
    include: ['test/**/*.test.ts'],
    fileParallelism: false,
    pool: 'threads',
    testTimeout: 60_000,
    hookTimeout: 240_000,
  },
});
