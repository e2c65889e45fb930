import { defineProject } from 'vitest/config';

// One test file: builds the release into a temp folder and runs the bundled API against a throwaway
// MariaDB and Redis (ports 24500-24599), started and stopped by the test itself.
export default defineProject({
  test: { name: 'release', include: ['test/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 90_000, pool: 'forks', maxWorkers: 1 },
});
