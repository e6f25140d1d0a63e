import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two cores in CI: a few files at once, each with its own Redis prefix and database.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
