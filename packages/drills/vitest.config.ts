import { defineProject } from 'vitest/config';

// Drills run last in `npm test`: unit tests of the checker and the load generator, then the short scenarios
// against one small region (see test/scenarios.test.ts), one file at a time.
export default defineProject({
  test: {
    name: 'drills',
    include: ['test/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 240_000,
  },
});
