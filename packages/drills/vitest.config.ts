import { defineProject } from 'vitest/config';

// Drills run last in `npm test`: unit tests of the checker and the load generator, then the short scenarios
// against one small region (see test/scenarios.test.ts), one file at a time.
export default defineProject({
  test: {
    name: 'drills',
    include: ['test/**/*.test.ts'],
    fileParallelism: false,
    // Threads, not forks: the drills signal processes by pid, and a test worker must never be a separate
    // short-lived process whose pid could be recycled into a region's process table.
    pool: 'threads',
    testTimeout: 120_000,
    hookTimeout: 240_000,
  },
});
