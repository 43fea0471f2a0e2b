import { rmSync } from 'node:fs';
import type { BrowserWindow, BrowserWindowConstructorOptions, NativeImage, Notification, Tray } from 'electron';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMonitor, type Monitor } from '../../electron/core/monitor.ts';
import type { NotifyDecision } from '../../electron/core/notify.ts';
import type { LoginItem } from '../../electron/login-item.ts';
import { createNotifier } from '../../electron/notifications.ts';
import { createTrayController } from '../../electron/tray.ts';
import { routeForDecision, startTrayApp, type TrayApp } from '../../electron/tray-app.ts';
import { createWindowController } from '../../electron/window.ts';
import { loadFixtures, tempDir } from '../helpers/fixtures.ts';
import { post } from '../helpers/http.ts';
import { FakeBrowserWindow, FakeNativeImage, FakeNotification, FakeTray } from './fakes.ts';

/**
 * The tray app's wiring on a real monitor (real receiver socket, real SQLite history, no
 * tunnel), with the Electron objects replaced by recording fakes: an event that arrives over
 * HTTP becomes a notification, and a click on it opens the window on that event.
 */

const fixtures = new Map(loadFixtures().map((fixture) => [fixture.name, fixture.raw]));
const INDEX = '/app/out/renderer/index.html';

describe('the tray app', () => {
  let dir: string;
  let monitor: Monitor;
  let app: TrayApp;
  let localUrl: string;
  let quits: number;
  let loginItem: LoginItem & { calls: boolean[] };
  let clipboard: string[];

  beforeEach(async () => {
    dir = tempDir();
    FakeNotification.shown = [];
    FakeBrowserWindow.created = [];
    quits = 0;
    clipboard = [];
    let loginOn = false;
    loginItem = {
      calls: [],
      async set(enabled) {
        loginItem.calls.push(enabled);
        loginOn = enabled;
      },
      async get() {
        return loginOn;
      },
    };
    monitor = createMonitor({ dataDir: dir, tunnel: { provider: 'none' } });
    const window = createWindowController({
      BrowserWindow: FakeBrowserWindow as unknown as new (options: BrowserWindowConstructorOptions) => BrowserWindow,
      shell: { openExternal: async () => {} },
      renderer: { kind: 'file', path: INDEX },
      preloadPath: '/app/out/preload/preload.cjs',
      externalOrigins: () => [],
    });
    app = await startTrayApp({
      monitor,
      window,
      createTray: (initial, onAction) =>
        createTrayController(
          {
            Tray: FakeTray as unknown as new (image: NativeImage) => Tray,
            Menu: { buildFromTemplate: (template) => ({ template }) as never },
            nativeImage: { createFromPath: (path) => new FakeNativeImage(path) as unknown as NativeImage },
            iconDir: '/icons',
            platform: 'linux',
            onAction,
          },
          initial,
        ),
      createNotifier: (onClick) =>
        createNotifier({
          Notification: FakeNotification as unknown as {
            new (options: object): Notification;
            isSupported(): boolean;
          },
          platform: 'linux',
          onClick,
        }),
      loginItem,
      manageLoginItem: true,
      openWhenEmpty: false,
      clipboard: { writeText: (text) => clipboard.push(text) },
      quit: () => {
        quits++;
      },
      platform: 'linux',
      log: { info() {}, warn() {}, error() {} },
    });
    const status = await monitor.getStatus({});
    localUrl = status.receiver.localUrl ?? '';
  });

  afterEach(async () => {
    await app.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const tray = () => FakeTray.last as FakeTray;
  const deliver = async (name: string) => {
    const answer = await post(localUrl, fixtures.get(name) ?? '');
    expect(answer.status).toBe(200);
  };
  /** Waits until the tray has redrawn with this many unread (the event has been through the policy). */
  const trayShowsUnread = (count: number) =>
    vi.waitFor(() => expect(tray().tooltip).toContain(`${count} unread`), { timeout: 10_000, interval: 20 });

  it('an order that completes is a notification; its click opens the window on that event', async () => {
    await deliver('order.completed');
    await trayShowsUnread(1);
    expect(FakeNotification.shown).toHaveLength(1);
    const shown = FakeNotification.shown[0] as FakeNotification;
    expect(shown.options).toMatchObject({
      title: 'Order Completed',
      body: 'Order: ord_12345 · Entity id: ent_67890 · Status: completed',
    });
    const [event] = (await monitor.listEvents({ limit: 1 })).events;
    expect(FakeBrowserWindow.created).toHaveLength(0);
    shown.emit('click');
    const window = FakeBrowserWindow.created[0] as FakeBrowserWindow;
    expect(window.loads).toEqual([{ file: INDEX, hash: `/event/${event?.id}` }]);
    expect(tray().image).toMatchObject({ path: '/icons/online-1.png' });
  });

  it('types that are off by default make no notification but appear in the tray', async () => {
    await deliver('order.submitted');
    await trayShowsUnread(1);
    expect(FakeNotification.shown).toHaveLength(0);
    const labels = (tray().menu as { template: Array<{ label?: string }> }).template.map((item) => item.label);
    expect(labels).toContain('• Order Submitted — Annual Report');
  });

  it('pausing from the tray silences notifications and shows the paused icon; resuming undoes it', async () => {
    await app.handleAction({ type: 'pause', choice: 'hour' });
    expect((await monitor.getSettings({})).notifications.pausedUntil).toBeGreaterThan(Date.now());
    expect(tray().image).toMatchObject({ path: '/icons/paused.png' });
    await deliver('document.created');
    await trayShowsUnread(1);
    expect(FakeNotification.shown).toHaveLength(0);
    await app.handleAction({ type: 'resume' });
    expect((await monitor.getSettings({})).notifications.pausedUntil).toBeNull();
    expect(tray().image).toMatchObject({ path: '/icons/online-1.png' });
    await deliver('order.completed');
    await trayShowsUnread(2);
    expect(FakeNotification.shown).toHaveLength(1);
  });

  it('marking events read in the window lowers the count after a refresh', async () => {
    await deliver('order.completed');
    await trayShowsUnread(1);
    await monitor.markAllRead({});
    app.refresh();
    await vi.waitFor(() => expect(tray().tooltip).not.toContain('unread'), { timeout: 10_000, interval: 20 });
    expect(tray().image).toMatchObject({ path: '/icons/online.png' });
  });

  it('start at login: the setting and the login item follow the checkbox', async () => {
    await app.handleAction({ type: 'toggle-start-at-login' });
    expect((await monitor.getSettings({})).startAtLogin).toBe(true);
    expect(loginItem.calls).toEqual([true]);
    expect(app.view().startAtLogin).toBe(true);
    await app.handleAction({ type: 'toggle-start-at-login' });
    expect(loginItem.calls).toEqual([true, false]);
  });

  it('the window and the history open from the tray; quit quits', async () => {
    await app.handleAction({ type: 'open-history' });
    expect((FakeBrowserWindow.created[0] as FakeBrowserWindow).loads).toEqual([{ file: INDEX, hash: '/history' }]);
    await app.handleAction({ type: 'copy-webhook-url' });
    expect(clipboard).toEqual([]); // no tunnel, no public URL to copy
    await app.handleAction({ type: 'quit' });
    expect(quits).toBe(1);
  });
});

describe('the first start', () => {
  it('opens the window on the status view while the history is empty, and not once it has events', async () => {
    const window = {
      routes: [] as unknown[],
      show: (route?: unknown) => window.routes.push(route),
      contents: () => null,
      allowClose() {},
    };
    const start = async (dir: string) => {
      const monitor = createMonitor({ dataDir: dir, tunnel: { provider: 'none' } });
      const app = await startTrayApp({
        monitor,
        window,
        createTray: () => ({ update() {}, destroy() {} }),
        createNotifier: () => ({ show() {} }),
        loginItem: { set: async () => {}, get: async () => false },
        manageLoginItem: false,
        openWhenEmpty: true,
        clipboard: { writeText() {} },
        quit() {},
        platform: 'linux',
        log: { info() {}, warn() {}, error() {} },
      });
      return { monitor, app };
    };
    const dir = tempDir();
    try {
      const first = await start(dir);
      expect(window.routes).toEqual([{ view: 'status' }]);
      const url = (await first.monitor.getStatus({})).receiver.localUrl ?? '';
      expect((await post(url, fixtures.get('task.created') ?? '')).status).toBe(200);
      await first.app.stop();
      const second = await start(dir);
      expect(window.routes).toEqual([{ view: 'status' }]);
      await second.app.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('where a click leads', () => {
  const base: NotifyDecision = { kind: 'event', title: 't', body: 'b', at: 'now', eventId: 5 };
  it.each([
    [base, { view: 'event', id: 5 }],
    [{ ...base, kind: 'digest', eventId: null }, { view: 'history' }],
    [{ ...base, kind: 'url-changed', eventId: null }, { view: 'status' }],
    [{ ...base, kind: 'tunnel-offline', eventId: null }, { view: 'status' }],
  ] as const)('%j → %j', (decision, route) => {
    expect(routeForDecision(decision)).toEqual(route);
  });
});
