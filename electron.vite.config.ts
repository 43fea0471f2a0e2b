import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';
import type { Plugin } from 'vite';
import { contentSecurityPolicy } from './electron/window.ts';

/**
 * electron-vite builds the three parts of the tray app from this repository's layout into out/:
 *   out/main/main.js          electron/main.ts — ESM (package.json "type": "module"); npm
 *                             dependencies stay external (localtunnel is CommonJS and is loaded
 *                             from node_modules in the asar), our own .ts files are bundled
 *   out/preload/preload.cjs   electron/preload.ts — CommonJS and self-contained, because a
 *                             sandboxed preload can neither be an ES module nor require packages
 *   out/renderer/index.html   renderer/index.html and what it imports (React); the dashboard
 *                             builds the same page separately (vite.config.ts → out/dashboard)
 */
const fromRoot = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * The window loads its page from file://, where no response header can carry a CSP: the built
 * page gets it as the first <meta> of its <head>. The dev server's responses get it as a header
 * (electron/window.ts, hardenSession), so this applies to builds only.
 */
export function cspMetaTag(): Plugin {
  return {
    name: 'singlefile-monitor:csp-meta',
    apply: 'build',
    transformIndexHtml: {
      order: 'pre',
      handler: () => [
        {
          tag: 'meta',
          attrs: { 'http-equiv': 'Content-Security-Policy', content: contentSecurityPolicy() },
          injectTo: 'head-prepend',
        },
      ],
    },
  };
}

export default defineConfig({
  main: {
    build: {
      outDir: fromRoot('./out/main'),
      externalizeDeps: true,
      rolldownOptions: { input: { main: fromRoot('./electron/main.ts') } },
    },
  },
  preload: {
    build: {
      outDir: fromRoot('./out/preload'),
      externalizeDeps: false,
      rolldownOptions: {
        input: { preload: fromRoot('./electron/preload.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: fromRoot('./renderer'),
    plugins: [react(), cspMetaTag()],
    build: {
      outDir: fromRoot('./out/renderer'),
      // No inline scripts or styles: the CSP allows only the page's own files.
      assetsInlineLimit: 0,
      rolldownOptions: { input: fromRoot('./renderer/index.html') },
    },
  },
});
