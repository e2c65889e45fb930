import { defineProject } from 'vitest/config';

// Synthesis is the cost: each test file synthesizes each example once (beforeAll) and shares it.
export default defineProject({
  test: { name: 'aws', include: ['test/**/*.test.ts'], testTimeout: 30_000, hookTimeout: 60_000 },
});
