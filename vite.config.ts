import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * The renderer as the dashboard of `singlefile-monitor serve` serves it (`npm run build:renderer`).
 * The tray app builds the same renderer/index.html with electron.vite.config.ts; this build goes
 * to its own folder so that neither build overwrites the other's output.
 */
export default defineConfig({
  root: fileURLToPath(new URL('./renderer/', import.meta.url)),
  // Relative asset paths: the same files work from http://127.0.0.1:PORT/ and from a file:// URL.
  base: './',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('./out/dashboard/', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // No inline scripts or styles: the dashboard's Content-Security-Policy allows only our own files.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
});
