import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Removes the temporary directories a test file made with scratchDir (test/helpers/scratch.ts).
    setupFiles: ['test/helpers/scratch-cleanup.ts'],
    // Replays measure wall time; running many test files at once on a small machine would
    // distort them, so files run one at a time in separate forks.
    fileParallelism: false,
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
