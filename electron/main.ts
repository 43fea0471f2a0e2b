import { access, mkdir, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  app,
  BrowserWindow,
  clipboard,
  dialog,
  ipcMain,
  Menu,
  Notification,
  nativeImage,
  session,
  shell,
  Tray,
} from 'electron';
import { createLogger } from './core/log.ts';
import { createMonitor } from './core/monitor.ts';
import { createExportSaver, forwardPushes, type RendererLocation, registerMonitorIpc } from './ipc.ts';
import { createLoginItem } from './login-item.ts';
import { createNotifier } from './notifications.ts';
import { createTrayController } from './tray.ts';
import { REFRESHING_METHODS, startTrayApp, type TrayApp } from './tray-app.ts';
import { createWindowController, hardenSession } from './window.ts';

/**
 * The Electron entry: one instance, the monitor, the tray, the window and the IPC, wired
 * together. The behaviour lives in tray-app.ts and the adapters; nothing here is decided.
 */

/** electron-builder's appId: Windows ties notifications and the taskbar to it. */
const APP_ID = 'io.singlefile.monitor';

const log = createLogger((line) => process.stderr.write(`${line}\n`));
const here = import.meta.dirname; // out/main once built
const preloadPath = join(here, '../preload/preload.cjs');
// Only a development run may load the page from electron-vite's dev server; a packaged app
// ignores the variable, so nobody can point it at another page from the environment.
const devServerUrl = app.isPackaged ? undefined : process.env.ELECTRON_RENDERER_URL;
const renderer: RendererLocation = devServerUrl
  ? { kind: 'dev', url: devServerUrl }
  : { kind: 'file', path: join(here, '../renderer/index.html') };
const iconDir = app.isPackaged ? join(process.resourcesPath, 'tray') : join(app.getAppPath(), 'build', 'tray');
const appIcon = join(iconDir, 'app.png');

if (!app.requestSingleInstanceLock()) {
  // Another copy runs: it received 'second-instance' and shows its window; this one leaves.
  app.quit();
} else {
  // Windows shows a notification only for an app id with a Start menu entry: the installer's
  // (APP_ID), or in development the Electron binary's own.
  if (process.platform === 'win32') app.setAppUserModelId(app.isPackaged ? APP_ID : process.execPath);
  app.enableSandbox();
  run();
}

function run(): void {
  let trayApp: TrayApp | null = null;
  let finished = false;
  let quitting = false;
  const cleanups: Array<() => void> = [];

  const windows = createWindowController({
    BrowserWindow,
    shell,
    renderer,
    preloadPath,
    icon: appIcon,
    externalOrigins: () => {
      const publicUrl = trayApp?.view().status?.tunnel.publicUrl;
      return publicUrl ? [new URL(publicUrl).origin] : [];
    },
    log,
  });

  app.on('second-instance', () => windows.show());
  app.on('activate', () => windows.show());
  // A tray app outlives its window: having a listener stops Electron from quitting.
  app.on('window-all-closed', () => {});
  // Any other page that might ever appear gets no navigation, no windows, no webviews.
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.on('will-navigate', (event) => event.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });

  app.on('before-quit', (event) => {
    windows.allowClose();
    if (finished) return;
    // Finish the writes in flight and close the history before Electron exits.
    event.preventDefault();
    if (quitting) return;
    quitting = true;
    for (const cleanup of cleanups) cleanup();
    (trayApp?.stop() ?? Promise.resolve())
      .catch((error: unknown) => log.error('app', `stopping failed: ${String(error)}`))
      .finally(() => {
        finished = true;
        app.quit();
      });
  });

  app
    .whenReady()
    .then(async () => {
      hardenSession(session.defaultSession, renderer, log);
      const monitor = createMonitor({ dataDir: app.getPath('userData'), log });
      cleanups.push(
        registerMonitorIpc({
          ipcMain,
          api: monitor,
          renderer,
          saveExport: createExportSaver({
            dialog,
            windowOf: (sender) => BrowserWindow.fromWebContents(sender),
            api: monitor,
            folder: app.getPath('downloads'),
          }),
          log,
          onCalled: (method) => {
            if (REFRESHING_METHODS.has(method)) trayApp?.refresh();
          },
        }),
        forwardPushes(monitor, () => windows.contents()),
      );
      trayApp = await startTrayApp({
        monitor,
        window: windows,
        createTray: (initial, onAction) =>
          createTrayController({ Tray, Menu, nativeImage, iconDir, platform: process.platform, onAction }, initial),
        createNotifier: (onClick) =>
          createNotifier({ Notification, platform: process.platform, icon: appIcon, onClick, log }),
        loginItem: createLoginItem({
          platform: process.platform,
          app,
          fs: { writeFile, mkdir, rm, access },
          env: process.env,
          home: homedir(),
          execPath: process.execPath,
        }),
        manageLoginItem: app.isPackaged,
        openWhenEmpty: true,
        clipboard,
        quit: () => app.quit(),
        platform: process.platform,
        log,
      });
    })
    .catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      log.error('app', `could not start: ${message}`);
      dialog.showErrorBox('SingleFile Monitor could not start', message);
      finished = true;
      app.exit(1);
    });
}
