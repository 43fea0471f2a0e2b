import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

// Three projects, one per environment: the core in Node, the window's components in a DOM
// (happy-dom), and the window end to end in a real Chromium against a real `serve`.
export default defineConfig({
  test: {
    // Real sockets and real SQLite files: generous per-test time, never a timing assertion.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          include: ['test/**/*.test.ts'],
          exclude: ['test/renderer/**', 'test/e2e/**', '**/node_modules/**'],
          environment: 'node',
        },
      },
      {
        extends: true,
        plugins: [react()],
        test: {
          name: 'renderer',
          include: ['test/renderer/**/*.test.{ts,tsx}'],
          environment: 'happy-dom',
          setupFiles: ['test/renderer/setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          // Builds the renderer once, before any browser opens it.
          globalSetup: ['test/e2e/build-renderer.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
