import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    // Real sockets and real SQLite files: generous per-test time, never a timing assertion.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
