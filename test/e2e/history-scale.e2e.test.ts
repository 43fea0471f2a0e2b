import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HISTORY_FILE } from '../../electron/core/monitor.ts';
import { openStore } from '../../electron/core/store.ts';
import { type ServeProcess, startServe } from '../helpers/cli.ts';
import { tempDir } from '../helpers/fixtures.ts';
import { type Browser, openBrowser, type PageGlobals, type Scrollable } from './browser.ts';

// The History view over a history of 100,000 events, in Chromium. What it pins: the page holds a
// screenful of rows however long the history, the rows are the right ones wherever one scrolls,
// and pages are fetched as the list scrolls. How smooth it is gets measured and written down
// (test-artifacts/measurements/), never asserted.

const COUNT = 100_000;
const ROW_HEIGHT = 60;
const MEASUREMENTS = fileURLToPath(new URL('../../test-artifacts/measurements/', import.meta.url));

describe('History with 100,000 events', () => {
  let dataDir: string;
  let serve: ServeProcess;
  let browser: Browser;
  let page: Page;
  const measured: Record<string, unknown> = {};

  beforeAll(async () => {
    dataDir = tempDir();
    // Stored through the store itself, in group-committed batches, as the receiver would.
    const store = openStore(join(dataDir, HISTORY_FILE));
    const started = performance.now();
    for (let first = 1; first <= COUNT; first += 5_000) {
      await Promise.all(
        Array.from({ length: 5_000 }, (_, i) =>
          store.append({ event: { event_type: 'order.completed', order_id: `ord_${first + i}`, status: 'completed' } }),
        ),
      );
    }
    measured.seedMs = Math.round(performance.now() - started);
    await store.close();
    serve = await startServe(dataDir);
    browser = await openBrowser();
    page = browser.page;
  });
  afterAll(async () => {
    mkdirSync(MEASUREMENTS, { recursive: true });
    writeFileSync(join(MEASUREMENTS, 'history-100k.json'), `${JSON.stringify(measured, null, 2)}\n`);
    await browser?.close();
    await serve?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const options = () => page.getByRole('option');
  const scroller = () => page.getByRole('listbox');

  it('opens with the newest events and only a screenful of rows in the page', async () => {
    const opened = performance.now();
    await page.goto(serve.ready.dashboardUrl ?? '');
    await page.getByRole('link', { name: /^History/ }).click();
    await page.locator('.row', { hasText: `ord_${COUNT}` }).waitFor();
    measured.firstRowsMs = Math.round(performance.now() - opened);
    expect(await options().count()).toBeLessThan(60);
    // The list's full height stands for all it has loaded, while the page holds a screenful.
    expect((await page.locator('.list-inner').boundingBox())?.height).toBeGreaterThan(100 * ROW_HEIGHT);
    await browser.screenshot('history-100k');
  });

  it('fetches the next pages as it scrolls, and shows the right rows at every depth', async () => {
    for (let page_ = 1; page_ <= 10; page_++) {
      // To the end of what is loaded: the list asks for the next page before it runs out.
      await scroller().evaluate((el) => {
        const list = el as unknown as Scrollable;
        list.scrollTop = list.scrollHeight;
      });
      await expect
        .poll(() => scroller().evaluate((el) => (el as unknown as Scrollable).scrollHeight))
        .toBeGreaterThan((page_ * 200 + 1) * ROW_HEIGHT - 1);
    }
    const depth = 1_750;
    await scroller().evaluate((el, top) => {
      (el as unknown as Scrollable).scrollTop = top;
    }, depth * ROW_HEIGHT);
    await page.locator('.row', { hasText: `ord_${COUNT - depth}` }).waitFor();
    expect(await options().count()).toBeLessThan(60);
    const ids = await page.locator('.row .row-fields').allTextContents();
    const numbers = ids.map((text) => Number(/ord_(\d+)/.exec(text)?.[1]));
    // Consecutive, newest first: no row missing or shown twice.
    expect(numbers).toEqual(numbers.map((_, i) => (numbers[0] ?? 0) - i));
  });

  it('measures scrolling: frame times over two seconds of continuous scrolling', async () => {
    await scroller().evaluate((el) => {
      (el as unknown as Scrollable).scrollTop = 0;
    });
    const frames = await scroller().evaluate(
      (el) =>
        new Promise<number[]>((resolve) => {
          const list = el as unknown as Scrollable;
          const { requestAnimationFrame, performance } = globalThis as unknown as PageGlobals;
          const times: number[] = [];
          let last = performance.now();
          const started = last;
          const step = (now: number) => {
            times.push(now - last);
            last = now;
            list.scrollTop += 90;
            if (now - started < 2_000) requestAnimationFrame(step);
            else resolve(times.slice(1));
          };
          requestAnimationFrame(step);
        }),
    );
    const sorted = [...frames].sort((a, b) => a - b);
    const at = (q: number) => Math.round((sorted[Math.floor(q * (sorted.length - 1))] ?? 0) * 10) / 10;
    measured.scroll = {
      frames: frames.length,
      medianMs: at(0.5),
      p95Ms: at(0.95),
      maxMs: at(1),
      rowsInPage: await options().count(),
    };
    expect(frames.length).toBeGreaterThan(0);
    expect(await options().count()).toBeLessThan(60);
  });
});
