import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMonitor } from '../../electron/core/monitor.ts';
import { monitorApiContract } from '../../shared/api.ts';
import { tempDir } from '../helpers/fixtures.ts';
import type { FakeBrowserWindow, FakeIpcMain, FakeNativeImage, FakeTray } from './fakes.ts';
import { preventable } from './fakes.ts';

/**
 * electron/main.ts as Electron would run it, with the `electron` module replaced: the single
 * instance lock, the wiring of IPC, tray and window at ready, and a clean stop on quit.
 */

type Listener = (...args: unknown[]) => void;
const electron = vi.hoisted(() => {
  const state = {
    lock: true,
    userData: '',
    appPath: '',
    listeners: new Map<string, Listener[]>(),
    ready: null as null | (() => void),
    /** Where the save dialog says to put an export. */
    saveTo: '',
  };
  const calls: string[] = [];
  const app = {
    isPackaged: false,
    requestSingleInstanceLock: () => state.lock,
    quit: () => calls.push('quit'),
    exit: (code: number) => calls.push(`exit ${code}`),
    setAppUserModelId: (id: string) => calls.push(`appUserModelId ${id}`),
    enableSandbox: () => calls.push('enableSandbox'),
    on: (event: string, listener: Listener) => {
      state.listeners.set(event, [...(state.listeners.get(event) ?? []), listener]);
    },
    whenReady: () =>
      new Promise<void>((resolve) => {
        state.ready = resolve;
      }),
    getPath: (name: string) => (name === 'userData' ? state.userData : '/nowhere'),
    getAppPath: () => state.appPath,
    setLoginItemSettings: () => calls.push('setLoginItemSettings'),
    getLoginItemSettings: () => ({ openAtLogin: false }),
  };
  const session = {
    defaultSession: {
      setPermissionRequestHandler: () => calls.push('permissionRequestHandler'),
      setPermissionCheckHandler: () => calls.push('permissionCheckHandler'),
      webRequest: {
        onBeforeRequest: () => calls.push('onBeforeRequest'),
        onHeadersReceived: () => calls.push('onHeadersReceived'),
      },
    },
  };
  return {
    state,
    calls,
    app,
    session,
    errors: [] as Array<[string, string]>,
    saveDialogs: [] as Array<{ parent: unknown; defaultPath: string }>,
  };
});

vi.mock('electron', async () => {
  const fakes = await import('./fakes.ts');
  const ipcMain = new fakes.FakeIpcMain();
  return {
    app: electron.app,
    session: electron.session,
    ipcMain,
    BrowserWindow: fakes.FakeBrowserWindow,
    Tray: fakes.FakeTray,
    Notification: fakes.FakeNotification,
    Menu: { buildFromTemplate: (template: unknown) => ({ template }) },
    nativeImage: { createFromPath: (path: string) => new fakes.FakeNativeImage(path) },
    clipboard: { writeText: () => {} },
    shell: { openExternal: async () => {} },
    dialog: {
      showErrorBox: (title: string, message: string) => electron.errors.push([title, message]),
      showSaveDialog: async (parent: unknown, options: { defaultPath?: string }) => {
        electron.saveDialogs.push({ parent, defaultPath: options.defaultPath ?? '' });
        return { canceled: false, filePath: electron.state.saveTo };
      },
    },
  } satisfies Partial<Record<keyof typeof import('electron'), unknown>>;
});

/** The fakes the mocked module handed to main.ts (a fresh copy after each vi.resetModules). */
async function mocked() {
  return (await import('electron')) as unknown as {
    ipcMain: FakeIpcMain;
    Tray: typeof FakeTray;
    BrowserWindow: typeof FakeBrowserWindow;
  };
}

const emit = (event: string, ...args: unknown[]) => {
  for (const listener of electron.state.listeners.get(event) ?? []) listener(...args);
};

describe('electron/main.ts', () => {
  let dir: string;

  let logged: string[];

  beforeEach(async () => {
    vi.resetModules();
    // main.ts logs to stderr, as the app does in a terminal: kept for the assertions instead.
    logged = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((line) => {
      logged.push(String(line));
      return true;
    });
    dir = tempDir();
    electron.state.lock = true;
    electron.state.userData = dir;
    electron.state.appPath = new URL('../../', import.meta.url).pathname;
    electron.state.listeners.clear();
    electron.state.ready = null;
    electron.calls.length = 0;
    electron.errors.length = 0;
    // The saved settings say "no tunnel", so that nothing here reaches the network.
    const seed = createMonitor({ dataDir: dir });
    await seed.updateSettings({ tunnel: { provider: 'none' } });
    await seed.stop();
  });

  afterEach(async () => {
    vi.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a second instance leaves at once: the first one shows its window', async () => {
    electron.state.lock = false;
    await import('../../electron/main.ts');
    expect(electron.calls).toEqual(['quit']);
    expect(electron.state.ready).toBeNull();
  });

  it('at ready: the monitor in userData, one IPC handler per method, a hardened session, the tray', async () => {
    await import('../../electron/main.ts');
    expect(electron.calls).toContain('enableSandbox');
    electron.state.ready?.();
    const { ipcMain, Tray, BrowserWindow } = await mocked();
    await vi.waitFor(() => expect(Tray.last?.tooltip).toContain('Local only'), { timeout: 10_000, interval: 20 });
    expect([...ipcMain.handlers.keys()].sort()).toEqual(
      [...Object.keys(monitorApiContract).map((method) => `monitor:call:${method}`), 'monitor:save-export'].sort(),
    );
    expect(electron.calls).toEqual(
      expect.arrayContaining(['permissionRequestHandler', 'permissionCheckHandler', 'onBeforeRequest']),
    );
    expect(existsSync(join(dir, 'history.sqlite'))).toBe(true);
    const icon = (Tray.last?.image as FakeNativeImage | undefined)?.path ?? '';
    expect(icon).toMatch(/build\/tray\/online\.png$/);
    expect(existsSync(icon)).toBe(true);
    // A development build leaves the system's login items alone.
    expect(electron.calls).not.toContain('setLoginItemSettings');

    // The history is empty: the window opens on the status view, where the URL to paste is;
    // a second launch shows the same window again.
    expect(BrowserWindow.created).toHaveLength(1);
    const window = BrowserWindow.created[0] as FakeBrowserWindow;
    expect(window.loads.at(-1)?.hash).toBe('/');
    emit('second-instance');
    window.emit('ready-to-show');
    expect(BrowserWindow.created).toHaveLength(1);
    expect(window.visible).toBe(true);
    expect(window.options.webPreferences).toMatchObject({
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
    });
    expect(String(window.options.webPreferences?.preload)).toMatch(/preload\/preload\.cjs$/);

    // The window's export: a save dialog on that window, then the file written where it said.
    electron.state.saveTo = join(dir, 'export.json');
    // (Run from the sources, main.ts finds the page beside electron/, in renderer/.)
    const page = { url: new URL('../../renderer/index.html#/history', import.meta.url).href, parent: null };
    expect(await ipcMain.invoke('monitor:save-export', { format: 'json' }, page, window.webContents)).toEqual({
      filename: 'export.json',
      count: 0,
    });
    expect(electron.saveDialogs).toEqual([
      { parent: window, defaultPath: expect.stringMatching(/^\/nowhere\/singlefile-events-\d{4}-\d{2}-\d{2}\.json$/) },
    ]);
    expect(JSON.parse(readFileSync(electron.state.saveTo, 'utf8'))).toEqual([]);

    // Quit: wait for the history to close, then quit for real.
    const quit = preventable();
    emit('before-quit', quit);
    expect(quit.defaultPrevented).toBe(true);
    await vi.waitFor(() => expect(electron.calls).toContain('quit'), { timeout: 10_000, interval: 20 });
    expect(ipcMain.handlers.size).toBe(0);
    expect(Tray.last?.destroyed).toBe(true);
    const again = preventable();
    emit('before-quit', again);
    expect(again.defaultPrevented).toBe(false);
  });

  it('other pages get no navigation, no new windows and no webviews', async () => {
    await import('../../electron/main.ts');
    const contents = {
      handlers: new Map<string, Listener>(),
      open: null as null | (() => unknown),
      on(event: string, listener: Listener) {
        contents.handlers.set(event, listener);
      },
      setWindowOpenHandler(handler: () => unknown) {
        contents.open = handler;
      },
    };
    emit('web-contents-created', {}, contents);
    const navigation = preventable({ url: 'https://evil.example/' });
    contents.handlers.get('will-navigate')?.(navigation);
    const webview = preventable();
    contents.handlers.get('will-attach-webview')?.(webview);
    expect([navigation.defaultPrevented, webview.defaultPrevented]).toEqual([true, true]);
    expect(contents.open?.()).toEqual({ action: 'deny' });
  });

  it('a start that fails says why and exits', async () => {
    const notADirectory = join(dir, 'file');
    writeFileSync(notADirectory, 'x');
    electron.state.userData = notADirectory;
    await import('../../electron/main.ts');
    electron.state.ready?.();
    await vi.waitFor(() => expect(electron.calls).toContain('exit 1'), { timeout: 10_000, interval: 20 });
    expect(electron.errors[0]?.[0]).toBe('SingleFile Monitor could not start');
    expect(logged.join('')).toContain('error app: could not start');
  });
});
