import { fileURLToPath } from 'node:url';
import { build } from 'vite';

/**
 * Vitest global setup of the e2e project: builds the renderer into out/dashboard exactly as
 * `npm run build:renderer` does, so that the browser always opens the window of this checkout.
 */
export default async function buildRenderer(): Promise<void> {
  await build({ configFile: fileURLToPath(new URL('../../vite.config.ts', import.meta.url)), logLevel: 'warn' });
}
