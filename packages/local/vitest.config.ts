import { defineProject } from 'vitest/config';

// Integration tests start whole regions on ports 21000-21999: one file at a time.
export default defineProject({
  test: {
    name: 'local',
    include: ['test/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
