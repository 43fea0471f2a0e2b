import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Dialog, SaveDialogOptions } from 'electron';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMonitor, type Monitor } from '../../electron/core/monitor.ts';
import {
  createExportSaver,
  forwardPushes,
  isTrustedSenderUrl,
  type RendererLocation,
  registerMonitorIpc,
} from '../../electron/ipc.ts';
import { invokeChannel, MONITOR_METHODS, PUSH_CHANNELS, pushChannelName } from '../../electron/ipc-channels.ts';
import { createMonitorBridge, SAVE_EXPORT_CHANNEL } from '../../electron/preload-bridge.ts';
import { type MonitorApi, type MonitorBridge, monitorApiContract, pushContract } from '../../shared/api.ts';
import { parseCsvObjects } from '../helpers/cli.ts';
import { tempDir } from '../helpers/fixtures.ts';
import { post } from '../helpers/http.ts';
import { FakeIpcMain, FakeWebContents } from './fakes.ts';

// The preload imports contextBridge and ipcRenderer, which exist only inside Electron.
const electronMock = vi.hoisted(() => ({
  contextBridge: { exposeInMainWorld: vi.fn() },
  ipcRenderer: { invoke: vi.fn(), on: vi.fn(), removeListener: vi.fn(), send: vi.fn(), sendSync: vi.fn() },
}));
vi.mock('electron', () => electronMock satisfies Partial<Record<keyof typeof import('electron'), unknown>>);

const INDEX = '/opt/SingleFile Monitor/resources/app.asar/out/renderer/index.html';
const FILE: RendererLocation = { kind: 'file', path: INDEX };
const OUR_PAGE = { url: `${pathToFileURL(INDEX).href}#/history`, parent: null };

describe('who may call', () => {
  it.each([
    [`${pathToFileURL(INDEX).href}`, FILE, true],
    [`${pathToFileURL(INDEX).href}?x=1#/events/3`, FILE, true],
    [pathToFileURL('/opt/SingleFile Monitor/resources/app.asar/out/renderer/other.html').href, FILE, false],
    [pathToFileURL('/tmp/evil/index.html').href, FILE, false],
    ['file://attacker-host/share/index.html', FILE, false],
    ['https://evil.example/', FILE, false],
    ['http://localhost:5173/#/history', { kind: 'dev', url: 'http://localhost:5173/' }, true],
    ['http://localhost:5174/', { kind: 'dev', url: 'http://localhost:5173/' }, false],
    ['http://127.0.0.1:5173/', { kind: 'dev', url: 'http://localhost:5173/' }, false],
    ['not a url', FILE, false],
  ] as const)('%s → %s', (url, renderer, trusted) => {
    expect(isTrustedSenderUrl(url, renderer)).toBe(trusted);
  });
});

describe('the IPC handlers', () => {
  let dir: string;
  let monitor: Monitor;
  let ipcMain: FakeIpcMain;
  let calls: string[];
  let called: string[];

  beforeEach(() => {
    dir = tempDir();
    monitor = createMonitor({ dataDir: dir });
    ipcMain = new FakeIpcMain();
    calls = [];
    called = [];
    // The real monitor behind a recorder: a refused request must never reach it.
    const recorded = new Proxy(monitor, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver);
        if (typeof key !== 'string' || typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          calls.push(key);
          return value.apply(target, args);
        };
      },
    });
    registerMonitorIpc({ ipcMain, api: recorded, renderer: FILE, onCalled: (method) => called.push(method) });
  });
  afterEach(async () => {
    await monitor.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('one handler per method of the contract, on prefixed channels', () => {
    expect([...ipcMain.handlers.keys()].sort()).toEqual(
      Object.keys(monitorApiContract)
        .map((method) => `monitor:call:${method}`)
        .sort(),
    );
    expect(PUSH_CHANNELS.sort()).toEqual(Object.keys(pushContract).sort());
  });

  it('answers our page, with the contract defaults filled in', async () => {
    const settings = await ipcMain.invoke(invokeChannel('getSettings'), undefined, OUR_PAGE);
    expect(settings).toEqual(await monitor.getSettings({}));
    const page = await ipcMain.invoke(invokeChannel('listEvents'), { text: 'order' }, OUR_PAGE);
    expect(page).toEqual({ events: [], nextCursor: null });
    expect(called).toEqual(['getSettings', 'listEvents']);
  });

  it.each([
    ['a foreign page', { url: 'https://evil.example/', parent: null }],
    ['an iframe inside our page', { url: OUR_PAGE.url, parent: {} }],
    ['a frame that is gone', null],
    ['another local file', { url: pathToFileURL('/tmp/index.html').href, parent: null }],
  ])('refuses %s before reading its request', async (_name, frame) => {
    await expect(ipcMain.invoke(invokeChannel('getSettings'), {}, frame)).rejects.toThrow(
      'This page may not use the Monitor API.',
    );
    await expect(ipcMain.invoke(invokeChannel('updateSettings'), { startAtLogin: true }, frame)).rejects.toThrow();
    expect(calls).toEqual([]);
    expect((await monitor.getSettings({})).startAtLogin).toBe(false);
  });

  it.each([
    ['getEvent', { id: 'one' }, 'id'],
    ['getEvent', { id: -1 }, 'id'],
    ['listEvents', { limit: 5000 }, 'limit'],
    ['markRead', { ids: [1], extra: true }, '(request)'],
    ['updateSettings', { notifications: { pausedUntil: 'never' } }, 'notifications.pausedUntil'],
    ['exportEvents', { format: 'xml' }, 'format'],
    ['getStatus', 'not an object', '(request)'],
  ] as const)('refuses a malformed %s request (%j)', async (method, request, where) => {
    await expect(ipcMain.invoke(invokeChannel(method), request, OUR_PAGE)).rejects.toThrow(
      `Invalid ${method} request: ${where}`,
    );
    expect(calls).toEqual([]);
  });

  it('unregisters every handler', () => {
    const again = new FakeIpcMain();
    const unregister = registerMonitorIpc({
      ipcMain: again,
      api: monitor,
      renderer: FILE,
      saveExport: async () => null,
    });
    expect(again.handlers.has(SAVE_EXPORT_CHANNEL)).toBe(true);
    unregister();
    expect(again.handlers.size).toBe(0);
  });

  it('unregisters every handler, without the export too', () => {
    const again = new FakeIpcMain();
    const unregister = registerMonitorIpc({ ipcMain: again, api: monitor, renderer: FILE });
    unregister();
    expect(again.handlers.size).toBe(0);
  });
});

describe("the window's export: the main process asks where, then streams the file", () => {
  let dir: string;
  let monitor: Monitor;
  let ipcMain: FakeIpcMain;
  let dialogs: Array<{ parent: unknown; options: SaveDialogOptions }>;
  let answer: { canceled: boolean; filePath: string };
  const window = { title: 'the window' };
  const sender = { id: 7 };

  beforeEach(async () => {
    dir = tempDir();
    monitor = createMonitor({ dataDir: dir, tunnel: { provider: 'none' } });
    const { localUrl } = await monitor.start();
    for (let i = 0; i < 620; i++) {
      await post(
        localUrl,
        JSON.stringify({ event_type: i % 2 ? 'order.completed' : 'document.created', order_id: `o${i}` }),
      );
    }
    ipcMain = new FakeIpcMain();
    dialogs = [];
    answer = { canceled: false, filePath: join(dir, 'chosen.csv') };
    const dialog = {
      showSaveDialog: async (parent: unknown, options?: SaveDialogOptions) => {
        dialogs.push({ parent, options: options ?? (parent as SaveDialogOptions) });
        return answer;
      },
    } as unknown as Pick<Dialog, 'showSaveDialog'>;
    registerMonitorIpc({
      ipcMain,
      api: monitor,
      renderer: FILE,
      saveExport: createExportSaver({
        dialog,
        windowOf: (contents) => (contents === (sender as never) ? (window as never) : null),
        api: monitor,
        folder: '/home/me/Downloads',
        now: () => Date.parse('2024-01-15T10:00:00Z'),
      }),
    });
  });
  afterEach(async () => {
    await monitor.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens the save dialog on the window, then writes every matching event into the chosen file', async () => {
    const saved = await ipcMain.invoke(
      SAVE_EXPORT_CHANNEL,
      { format: 'csv', query: { types: ['order.completed'] } },
      OUR_PAGE,
      sender,
    );
    expect(saved).toEqual({ filename: 'chosen.csv', count: 310 });
    expect(dialogs).toEqual([
      {
        parent: window,
        options: expect.objectContaining({
          defaultPath: '/home/me/Downloads/singlefile-events-2024-01-15.csv',
          filters: [{ name: 'CSV', extensions: ['csv'] }],
        }),
      },
    ]);
    const csv = parseCsvObjects(readFileSync(join(dir, 'chosen.csv'), 'utf8'));
    expect(csv.rows).toHaveLength(310);
    expect(new Set(csv.rows.map((row) => row.event_type))).toEqual(new Set(['order.completed']));
    expect(readFileSync(join(dir, 'chosen.csv'), 'utf8')).toBe(
      (await monitor.exportEvents({ format: 'csv', query: { types: ['order.completed'] } })).content,
    );
  });

  it('writes nothing when the dialog is cancelled', async () => {
    answer = { canceled: true, filePath: '' };
    expect(await ipcMain.invoke(SAVE_EXPORT_CHANNEL, { format: 'json' }, OUR_PAGE, sender)).toBeNull();
    expect(readdirSync(dir).filter((name) => name.startsWith('chosen'))).toEqual([]);
  });

  it('refuses a foreign page and a malformed request before asking anything', async () => {
    await expect(
      ipcMain.invoke(SAVE_EXPORT_CHANNEL, { format: 'csv' }, { url: 'https://evil.example/', parent: null }, sender),
    ).rejects.toThrow('This page may not use the Monitor API.');
    await expect(
      ipcMain.invoke(SAVE_EXPORT_CHANNEL, { format: 'csv', path: '/etc/passwd' }, OUR_PAGE, sender),
    ).rejects.toThrow('Invalid saveExport request: (request)');
    await expect(ipcMain.invoke(SAVE_EXPORT_CHANNEL, { format: 'xml' }, OUR_PAGE, sender)).rejects.toThrow(
      'Invalid saveExport request: format',
    );
    expect(dialogs).toEqual([]);
  });
});

describe('pushes to the window', () => {
  it('forwards event, status and notice while the window exists', () => {
    const listeners = new Map<string, (payload: unknown) => void>();
    const api = {
      subscribe: (channel: string, listener: (payload: unknown) => void) => {
        listeners.set(channel, listener);
        return () => listeners.delete(channel);
      },
    } as unknown as Pick<MonitorApi, 'subscribe'>;
    const contents = new FakeWebContents();
    let window: FakeWebContents | null = null;
    const stop = forwardPushes(api, () => window);
    listeners.get('event')?.({ id: 1 });
    expect(contents.sent).toEqual([]);
    window = contents;
    listeners.get('event')?.({ id: 2 });
    listeners.get('notice')?.({ kind: 'url-changed' });
    contents.destroyed = true;
    listeners.get('status')?.({});
    expect(contents.sent).toEqual([
      ['monitor:push:event', { id: 2 }],
      ['monitor:push:notice', { kind: 'url-changed' }],
    ]);
    stop();
    expect(listeners.size).toBe(0);
  });
});

describe('the preload', () => {
  it('exposes window.monitor — the API and nothing else, never ipcRenderer', async () => {
    await import('../../electron/preload.ts');
    expect(electronMock.contextBridge.exposeInMainWorld).toHaveBeenCalledTimes(1);
    const [name, api] = electronMock.contextBridge.exposeInMainWorld.mock.calls[0] as [string, Record<string, unknown>];
    expect(name).toBe('monitor');
    expect(Object.keys(api).sort()).toEqual([...Object.keys(monitorApiContract), 'saveExport', 'subscribe'].sort());
    for (const value of Object.values(api)) {
      expect(typeof value).toBe('function');
      expect(value).not.toBe(electronMock.ipcRenderer);
      expect(Object.values(electronMock.ipcRenderer)).not.toContain(value);
    }
    await (api.getEvent as MonitorApi['getEvent'])({ id: 3 });
    expect(electronMock.ipcRenderer.invoke).toHaveBeenCalledWith('monitor:call:getEvent', { id: 3 });
    // The export's progress callback stays in the page: only the request crosses.
    await (api.saveExport as MonitorBridge['saveExport'])({ format: 'csv' }, () => {});
    expect(electronMock.ipcRenderer.invoke).toHaveBeenCalledWith('monitor:save-export', { format: 'csv' });
  });

  it('subscribe hands over the payload only — the IPC event (and its sender) stays out', () => {
    const on = new Map<string, (event: unknown, payload: unknown) => void>();
    const removed: string[] = [];
    const bridge = createMonitorBridge({
      invoke: vi.fn(),
      on: (channel: string, listener: (event: unknown, payload: unknown) => void) => {
        on.set(channel, listener);
        return undefined as never;
      },
      removeListener: (channel: string) => {
        removed.push(channel);
        return undefined as never;
      },
    } as never);
    const received: unknown[][] = [];
    const unsubscribe = bridge.subscribe('event', (...args: unknown[]) => received.push(args));
    on.get(pushChannelName('event'))?.({ sender: 'ipcRenderer' }, { id: 9 });
    expect(received).toEqual([[{ id: 9 }]]);
    unsubscribe();
    expect(removed).toEqual(['monitor:push:event']);
    expect(() => bridge.subscribe('ipc' as 'event', () => {})).toThrow('unknown channel');
  });

  it('end to end: the bridge, the handlers and a real monitor', async () => {
    const dir = tempDir();
    const monitor = createMonitor({ dataDir: dir });
    const ipcMain = new FakeIpcMain();
    registerMonitorIpc({ ipcMain, api: monitor, renderer: FILE });
    const bridge = createMonitorBridge({
      invoke: (channel: string, request: unknown) => ipcMain.invoke(channel, request, OUR_PAGE),
      on: vi.fn(),
      removeListener: vi.fn(),
    } as never);
    try {
      const updated = await bridge.updateSettings({ notifications: { digest: false } });
      expect(updated.notifications.digest).toBe(false);
      expect((await bridge.getSettings({})).notifications.digest).toBe(false);
      await expect(bridge.getEvent({ id: 0 })).rejects.toThrow('Invalid getEvent request');
      expect(MONITOR_METHODS).toHaveLength(Object.keys(monitorApiContract).length);
    } finally {
      await monitor.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
