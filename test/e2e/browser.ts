import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

/** Debian's Chromium, installed by .ci/run (`apt-get install -y chromium`); never a downloaded one. */
export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOTS = fileURLToPath(new URL('../../test-artifacts/screenshots/', import.meta.url));

/**
 * What the tests touch of the page inside `evaluate` callbacks. They run in Chromium, but are
 * type-checked with Node's types, which have no DOM: these name the little that is used.
 */
export interface Scrollable {
  scrollTop: number;
  scrollHeight: number;
}
export interface PageGlobals {
  requestAnimationFrame(callback: (now: number) => void): number;
  performance: { now(): number };
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Everything the page reported that a working window never does: errors, CSP violations, dialogs. */
  problems: string[];
  dialogs: string[];
  /** A screenshot of the whole view, however long, as test-artifacts/screenshots/<name>.png; returns its path. */
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * A fresh Chromium profile per run, headless, with nothing that phones home. `evil.test` resolves
 * to 127.0.0.1, so that a DNS-rebinding attack can be played for real.
 */
export async function openBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: install it with 'apt-get update && apt-get install -y chromium'`);
  }
  const profile = mkdtempSync(join(tmpdir(), 'sfm-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--host-resolver-rules=MAP evil.test 127.0.0.1',
    ],
    viewport: { width: 1280, height: 800 },
    acceptDownloads: true,
    colorScheme: 'light',
    locale: 'en-US',
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const problems: string[] = [];
  const dialogs: string[] = [];
  // Dialogs on any page (an alert() from injected markup would show here); errors on the window's page.
  const watchDialogs = (target: Page) =>
    target.on('dialog', (dialog) => {
      dialogs.push(`${dialog.type()}: ${dialog.message()}`);
      void dialog.dismiss();
    });
  watchDialogs(page);
  context.on('page', watchDialogs);
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  mkdirSync(SCREENSHOTS, { recursive: true });
  return {
    context,
    page,
    problems,
    dialogs,
    screenshot: async (name) => {
      const path = join(SCREENSHOTS, `${name}.png`);
      // The window scrolls inside <main>, not the document, so Playwright's fullPage alone would
      // still stop at the viewport: for the shot, the viewport grows to the height of the content.
      const viewport = page.viewportSize() ?? { width: 1280, height: 800 };
      const content = Number(
        await page.evaluate(
          'Math.max(document.documentElement.scrollHeight, ...[...document.querySelectorAll("main")].map((m) => m.scrollHeight))',
        ),
      );
      const grown = content > viewport.height;
      if (grown) await page.setViewportSize({ width: viewport.width, height: Math.ceil(content) });
      try {
        await page.screenshot({ path, fullPage: true });
      } finally {
        if (grown) await page.setViewportSize(viewport);
      }
      return path;
    },
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A PNG's size in pixels, from its IHDR chunk (always the first, right after the signature). */
export function pngSize(file: string): { width: number; height: number } {
  const bytes = readFileSync(file);
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}
