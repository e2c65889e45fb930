import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'definition', include: ['test/**/*.test.ts'] },
});
