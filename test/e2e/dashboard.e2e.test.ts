import { createHmac } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsvObjects, postJson, type ServeProcess, startServe } from '../helpers/cli.ts';
import { loadFixtures, tempDir } from '../helpers/fixtures.ts';
import { type Browser, openBrowser, pngSize } from './browser.ts';

// The window as a person uses it: `serve --tunnel none` in its own process, the built renderer in
// Debian's Chromium, SingleFile's sample events posted to the receiver. One browser and one serve
// for the whole file; the tests run in order, each starting where the one before left off.

const HOSTILE = {
  event_type: 'document.created',
  document_name: '<img src=x onerror="window.__pwned=1;alert(1)">Quarterly report.pdf',
  entity_name: '<script>window.__pwned=2;alert(2)</script>',
  status: '<a href="javascript:alert(3)">click</a>',
};

describe('the dashboard in Chromium', () => {
  let dataDir: string;
  let serve: ServeProcess;
  let browser: Browser;
  let page: Page;
  let origin: string;
  let token: string;
  let restarted: ServeProcess | undefined;

  const rows = () => page.getByRole('option');
  const rowTitles = () => page.locator('.row-title').allTextContents();
  const api = async (method: string, body: unknown = {}) => {
    const answer = await fetch(`${origin}/api/${method}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
    return answer.json() as Promise<Record<string, unknown>>;
  };

  beforeAll(async () => {
    dataDir = tempDir();
    serve = await startServe(dataDir);
    const url = new URL(serve.ready.dashboardUrl ?? '');
    origin = url.origin;
    token = url.hash.replace('#token=', '');
    browser = await openBrowser();
    page = browser.page;
  });
  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
    await restarted?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('first run: the local webhook URL, the tunnel in words, the setup steps, waiting for the first event', async () => {
    await page.goto(serve.ready.dashboardUrl ?? '');
    await page.getByText('Waiting for the first event…').waitFor();
    expect(await page.locator('.url').textContent()).toBe(serve.ready.localUrl);
    await page
      .getByText(/Tunnel: No tunnel/)
      .first()
      .waitFor();
    const warning = page.getByText(
      'New endpoints start disabled. SingleFile sends nothing until you enable the endpoint.',
    );
    await warning.waitFor();
    // The token left the address bar as soon as the page had it.
    expect(page.url()).toBe(`${origin}/#/`);
    // The whole page is in the screenshot, down to the last setup step's warning (the view is
    // scrolled to its top, so the warning's place in the viewport is its place in the page).
    const box = await warning.boundingBox();
    const shot = pngSize(await browser.screenshot('status-first-run'));
    expect(shot.height).toBeGreaterThanOrEqual(Math.ceil((box?.y ?? Number.POSITIVE_INFINITY) + (box?.height ?? 0)));
  });

  it('"Send a test event" goes through the receiver and says it arrived', async () => {
    await page.getByRole('button', { name: 'Send a test event' }).click();
    await page.getByText(/It worked/).waitFor();
    await page.getByRole('link', { name: 'See the test event' }).waitFor();
    await browser.screenshot('status-test-event');
  });

  it('shows the fixtures arriving live at the top of the history, newest first', async () => {
    await page.getByRole('link', { name: /^History/ }).click();
    await expect.poll(() => rows().count()).toBe(1);
    const fixtures = loadFixtures();
    for (const fixture of fixtures) {
      expect(await postJson(serve.ready.localUrl, fixture.raw)).toEqual({ status: 200, body: { status: 'ok' } });
    }
    await expect.poll(() => rows().count()).toBe(fixtures.length + 1);
    // The last posted is on top; the sidebar counts the unread ones.
    const titles = await rowTitles();
    expect(titles[0]).toBe('New Task Instance');
    expect(titles).toContain('Order Completed');
    await expect.poll(() => page.locator('.nav-item .count').textContent()).toBe(String(fixtures.length + 1));
    await browser.screenshot('history');
  });

  it('searches by a document name, with the search in the URL', async () => {
    await page.getByRole('searchbox', { name: 'Search events' }).fill('Certificate of Good Standing');
    await expect.poll(() => rowTitles()).toEqual(['Update Document', 'New Document']);
    expect(decodeURIComponent(new URL(page.url()).hash)).toBe('#/history?q=Certificate+of+Good+Standing');
    await browser.screenshot('history-search');
    // A paste longer than the API takes stops at its 500 characters instead of failing.
    const box = page.getByRole('searchbox', { name: 'Search events' });
    await box.fill('ord_'.repeat(150));
    expect((await box.inputValue()).length).toBe(500);
    await expect.poll(() => decodeURIComponent(new URL(page.url()).hash).length).toBe('#/history?q='.length + 500);
    await page.getByText('No events match.').waitFor();
    expect(await page.getByText('Could not load events').count()).toBe(0);
    await box.fill('');
    await expect.poll(() => rows().count()).toBe(12);
  });

  it('filters by a category, opens an event, and back returns to the filtered list', async () => {
    await page.getByRole('button', { name: 'Orders', exact: true }).click();
    await expect.poll(() => rowTitles()).toEqual(['Order Submitted', 'Order Completed', 'Order Cancelled']);
    expect(new URL(page.url()).hash).toBe('#/history?c=Orders');
    await browser.screenshot('history-filter');
    await page.locator('.row', { hasText: 'Order Completed' }).click();
    await page.getByRole('heading', { level: 1, name: 'Order Completed' }).waitFor();
    expect(new URL(page.url()).hash).toMatch(/^#\/event\/\d+$/);
    await page.goBack();
    await expect.poll(() => rowTitles()).toEqual(['Order Submitted', 'Order Completed', 'Order Cancelled']);
    expect(await page.getByRole('button', { name: 'Orders', exact: true }).getAttribute('aria-pressed')).toBe('true');
    await page.goForward();
    await page.getByRole('heading', { level: 1, name: 'Order Completed' }).waitFor();
  });

  it("shows an event's name, key fields and raw JSON", async () => {
    const field = (label: string) =>
      page.locator('.fields > div', { has: page.locator('dt', { hasText: label }) }).locator('dd');
    expect(await field('Order').first().textContent()).toBe('ord_12345');
    expect(await field('Status').textContent()).toBe('completed');
    expect(await field('Entity id').textContent()).toBe('ent_67890');
    const raw = JSON.parse((await page.locator('pre.raw').textContent()) ?? '');
    expect(raw).toEqual(
      JSON.parse(
        readFileSync(new URL('../../../shared/fixtures/events/order.completed.json', import.meta.url), 'utf8'),
      ),
    );
    await browser.screenshot('event-detail');
  });

  it('keyboard: Esc goes back, j/k move, Enter opens, / searches', async () => {
    await page.keyboard.press('Escape');
    await expect.poll(() => rows().count()).toBe(3);
    // The row opened last is still the selected one; j moves one down.
    await page.keyboard.press('j');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Order Cancelled' }).waitFor();
    await page.keyboard.press('Escape');
    await page.keyboard.press('/');
    await expect.poll(() => page.locator('#history-search:focus').count()).toBe(1);
  });

  it('exports the current search as CSV and JSON files', async () => {
    const [csvDownload] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export CSV' }).click(),
    ]);
    expect(csvDownload.suggestedFilename()).toMatch(/^singlefile-events-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = parseCsvObjects(readFileSync((await csvDownload.path()) ?? '', 'utf8').replace(/^\uFEFF/, ''));
    expect(csv.rows.map((row) => row.event_type).sort()).toEqual([
      'order.cancelled',
      'order.completed',
      'order.submitted',
    ]);
    const [jsonDownload] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'JSON' }).click(),
    ]);
    const json = JSON.parse(readFileSync((await jsonDownload.path()) ?? '', 'utf8')) as Array<{ event_type: string }>;
    expect(json.map((event) => event.event_type)).toEqual(['order.submitted', 'order.completed', 'order.cancelled']);
    await page.getByText('Exported 3 events').waitFor();
  });

  it('saves a notification setting at once, and it is still there after a reload', async () => {
    await page.getByRole('link', { name: 'Settings' }).click();
    const submitted = page.getByRole('switch', { name: 'Order Submitted' });
    expect(await submitted.isChecked()).toBe(false);
    await submitted.click();
    await page.getByText('Order Submitted: notifications on.').waitFor();
    await browser.screenshot('settings');
    await page.reload();
    await page.getByRole('heading', { name: 'Settings' }).waitFor();
    expect(await page.getByRole('switch', { name: 'Order Submitted' }).isChecked()).toBe(true);
    const settings = (await api('getSettings')) as { notifications: { types: Record<string, boolean> } };
    expect(settings.notifications.types['order.submitted']).toBe(true);
    // Two of the three order types on: the category's switch is mixed, and says so.
    const allOrders = page.getByRole('checkbox', { name: 'All Orders' });
    const indeterminate = () =>
      allOrders.evaluate((box) => (box as unknown as { indeterminate: boolean }).indeterminate);
    expect([await indeterminate(), await allOrders.getAttribute('aria-checked')]).toEqual([true, 'mixed']);
    await allOrders.click();
    await page.getByText('Orders: all notifications on.').waitFor();
    expect(await page.getByRole('switch', { name: 'Order Cancelled' }).isChecked()).toBe(true);
    expect([await indeterminate(), await allOrders.isChecked()]).toEqual([false, true]);
    // Paused until resumed, across a reload; then resumed.
    await page.getByRole('button', { name: 'Until I resume' }).click();
    await page.getByText('Notifications paused until you resume.').waitFor();
    await page.reload();
    await page.getByText(/Paused until you resume/).waitFor();
    await page.getByRole('button', { name: 'Resume now' }).click();
    await page.getByRole('button', { name: 'Until I resume' }).waitFor();
  });

  it('shows the stats: totals and a chart of events per day', async () => {
    await page.getByRole('link', { name: 'Stats' }).click();
    const tile = page.locator('.tile', { hasText: 'Events in history' }).locator('.tile-value');
    await expect.poll(() => tile.textContent()).toBe('12');
    expect(await page.locator('rect.bar').count()).toBeGreaterThan(0);
    await browser.screenshot('stats');
  });

  it('shows markup from a payload as text and runs nothing', async () => {
    // (The reload in the settings test started the window afresh: History shows everything.)
    await page.getByRole('link', { name: /^History/ }).click();
    await expect.poll(() => rows().count()).toBe(12);
    const unread = () => page.locator('.nav-item .count').textContent();
    await postJson(serve.ready.localUrl, HOSTILE);
    await postJson(serve.ready.localUrl, {
      event_type: '<img src=x onerror=alert(4)>',
      document_name: '<b>Second</b> <iframe src="javascript:alert(5)"></iframe>',
    });
    const hostileRow = page.locator('.row', { hasText: 'Quarterly report.pdf' });
    await hostileRow.waitFor();
    expect(await hostileRow.textContent()).toContain('<img src=x onerror="window.__pwned=1;alert(1)">');
    await browser.screenshot('history-hostile');
    // Both events are stored (their 200 came back): the badge catches up with the history.
    const serverUnread = async () => ((await api('getStatus')) as { events: { unread: number } }).events.unread;
    const unreadBefore = await serverUnread();
    await expect.poll(unread).toBe(String(unreadBefore));
    await hostileRow.click();
    await page.getByText('<script>window.__pwned=2;alert(2)</script>', { exact: true }).waitFor();
    await browser.screenshot('event-hostile');
    await page.keyboard.press('Escape');
    await page.locator('.row', { hasText: '<b>Second</b>' }).click();
    await page.getByRole('heading', { level: 1, name: '<img src=x onerror=alert(4)>' }).waitFor();
    await page.getByText('<b>Second</b> <iframe src="javascript:alert(5)"></iframe>', { exact: true }).waitFor();
    // Opening them read them: the unread count went down by two, in the history and on screen.
    await expect.poll(serverUnread).toBe(unreadBefore - 2);
    await expect.poll(unread).toBe(String(unreadBefore - 2));
    expect(await page.evaluate(() => (globalThis as { __pwned?: unknown }).__pwned)).toBeUndefined();
    expect(await page.locator('img, iframe, main script, a[href^="javascript"]').count()).toBe(0);
    expect(browser.dialogs).toEqual([]);
  });

  it('follows the OS into dark mode', async () => {
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.keyboard.press('Escape');
    await expect.poll(() => rows().count()).toBeGreaterThan(0);
    const background = String(await page.evaluate('getComputedStyle(document.body).backgroundColor'));
    const [r = 255, g = 255, b = 255] = (background.match(/\d+/g) ?? []).map(Number);
    expect(r + g + b).toBeLessThan(150);
    await browser.screenshot('history-dark');
    await page.goto(`${origin}/#/`);
    await page.getByRole('heading', { name: 'Status' }).waitFor();
    await browser.screenshot('status-dark');
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('turns on signature checks in Settings: unsigned deliveries get 401, signed ones and the test event 200', async () => {
    const secret = 'e2e-signing-secret';
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByLabel('Check signatures').selectOption('hmac-sha256');
    await page.getByLabel('Signing secret').fill(secret);
    await page.getByRole('button', { name: 'Save and turn on' }).click();
    await page.getByText('Signatures are checked: HMAC-SHA256 of the body in one header.').waitFor();
    await page.getByText('A secret is saved. It is never shown again.').waitFor();
    await browser.screenshot('settings-security');
    const order = { event_type: 'order.completed', order_id: 'e2e-signed-order' };
    expect((await postJson(serve.ready.localUrl, order)).status).toBe(401);
    const body = JSON.stringify(order);
    const signed = await fetch(serve.ready.localUrl, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'X-Webhook-Signature': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
      },
      body,
    });
    expect(signed.status).toBe(200);
    // The monitor signs its own test event with the saved secret.
    await page.getByRole('link', { name: 'Status' }).click();
    await page.getByRole('button', { name: 'Send a test event' }).click();
    await page.getByText(/It worked/).waitFor();
    // Off again for the tests that follow; the secret stays saved.
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByLabel('Check signatures').selectOption('off');
    await page.getByText('Signatures are not checked.').waitFor();
    const saved = (await api('getSettings')) as { security: { signature: Record<string, unknown> } };
    expect(saved.security.signature).toEqual({ mode: 'off', header: 'x-webhook-signature', hasSecret: true });
    expect(JSON.stringify(saved)).not.toContain(secret);
  });

  it('refuses, from a real browser: a rebound host name, a foreign page even with the token, no or a wrong token', async () => {
    const port = new URL(origin).port;
    // DNS rebinding: evil.test resolves to 127.0.0.1 in this browser.
    const rebound = await browser.context.newPage();
    const answer = await rebound.goto(`http://evil.test:${port}/`);
    expect(answer?.status()).toBe(403);
    const reboundCall = await rebound.evaluate(
      async (t) =>
        (
          await fetch('/api/getSettings', {
            method: 'POST',
            headers: { Authorization: `Bearer ${t}`, 'Content-Type': 'application/json' },
            body: '{}',
          })
        ).status,
      token,
    );
    expect(reboundCall).toBe(403);
    // A page of another site (here another local port), which somehow knows the token.
    const foreignServer: Server = createServer((_req, res) => res.end('<!doctype html><title>elsewhere</title>'));
    await new Promise<void>((resolve) => foreignServer.listen(0, '127.0.0.1', resolve));
    try {
      await rebound.goto(`http://localhost:${(foreignServer.address() as { port: number }).port}/`);
      const outcome = await rebound.evaluate(
        async ({ target, t }) => {
          const tries: string[] = [];
          for (const init of [
            // A simple request (no preflight): no token possible, and the Origin is foreign. The
            // answer is refused, and its Cross-Origin-Resource-Policy keeps even its status from
            // the page.
            {
              method: 'POST',
              mode: 'no-cors',
              headers: { 'Content-Type': 'text/plain' },
              body: '{"startAtLogin":true}',
            },
            // With the token: the browser asks first (preflight), and is refused.
            {
              method: 'POST',
              headers: { Authorization: `Bearer ${t}`, 'Content-Type': 'application/json' },
              body: '{"startAtLogin":true}',
            },
          ] as RequestInit[]) {
            try {
              const r = await fetch(`${target}/api/updateSettings`, init);
              tries.push(`answered ${r.status}`);
            } catch {
              tries.push('blocked');
            }
          }
          return tries;
        },
        { target: origin, t: token },
      );
      expect(outcome).toEqual(['blocked', 'blocked']);
      expect(((await api('getSettings')) as { startAtLogin: boolean }).startAtLogin).toBe(false);
    } finally {
      foreignServer.close();
      await rebound.close();
    }
    // Our own page, without the token or with a wrong one.
    const statuses = await page.evaluate(async (wrong) => {
      const call = (headers: Record<string, string>) =>
        fetch('/api/getSettings', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', ...headers },
          body: '{}',
        }).then((r) => r.status);
      return [await call({}), await call({ Authorization: `Bearer ${wrong}` })];
    }, 'x'.repeat(43));
    expect(statuses).toEqual([401, 403]);
  });

  it('ran with no errors, no CSP violations and no dialogs in the window', () => {
    // The refused calls of the test before are logged by Chromium as failed loads: expected.
    expect(browser.problems.filter((p) => !/status of 40[13]/.test(p))).toEqual([]);
    expect(browser.dialogs).toEqual([]);
  });

  it('says so when serve stops, and that the old link expired once a new serve runs', async () => {
    await page.goto(`${origin}/#/history`);
    // The fixtures and a test event, the two hostile events, the signed order and a second test event.
    await expect.poll(() => rows().count()).toBe(16);
    expect(await serve.stop()).toBe(0);
    await page.getByRole('alert').filter({ hasText: 'Reconnecting' }).waitFor();
    await browser.screenshot('connection-lost');
    // A new start: same history, same port, a new token. The old page's key no longer opens it.
    restarted = await startServe(dataDir, ['--dashboard-port', new URL(origin).port]);
    await page.getByRole('alert').filter({ hasText: 'This link has expired' }).waitFor();
    // The new link works, with the history as it was.
    await page.goto(restarted.ready.dashboardUrl ?? '');
    await page.getByRole('link', { name: /^History/ }).click();
    await expect.poll(() => rows().count()).toBe(16);
    expect(await page.getByRole('alert').count()).toBe(0);
  });
});
