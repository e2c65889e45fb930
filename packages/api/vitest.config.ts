import { defineProject } from 'vitest/config';

// One throwaway MariaDB and one Redis for the whole project (test/global-setup.ts); test files build
// their own apps against them. Files run in parallel on 2 workers (the machine has 2 cores).
export default defineProject({
  test: {
    name: 'api',
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
