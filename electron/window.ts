import type { BrowserWindow, BrowserWindowConstructorOptions, Session, Shell, WebPreferences } from 'electron';
import type { Logger } from './core/log.ts';
import type { RendererLocation } from './ipc.ts';

/**
 * The window: created on first use, hidden (not closed) when the person closes it, and locked
 * down by every item of Electron's security checklist that applies to a local page.
 */

/** The only settings the window is ever created with; a test pins each one. */
export function secureWebPreferences(preloadPath: string): WebPreferences {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
    spellcheck: false,
  };
}

/**
 * The page's Content-Security-Policy: its own scripts and styles only, no remote anything. The
 * built page carries it in a <meta> tag (electron.vite.config.ts adds it: file:// responses have
 * no headers), so it has no directive that a <meta> ignores (frame-ancestors). In development
 * Vite's dev server needs inline scripts (React refresh), inline styles (CSS hot reload) and its
 * websocket; those exceptions never reach a built app.
 */
export function contentSecurityPolicy(devServerUrl?: string): string {
  const dev = devServerUrl ? new URL(devServerUrl) : null;
  const websocket = dev ? ` ws://${dev.host}` : '';
  return [
    "default-src 'none'",
    `script-src 'self'${dev ? " 'unsafe-inline'" : ''}`,
    `style-src 'self'${dev ? " 'unsafe-inline'" : ''}`,
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self'${websocket}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

/** The place in the window a click on a notification or a tray item leads to. */
export type WindowRoute = { view: 'event'; id: number } | { view: 'history' } | { view: 'status' };

/**
 * The route as the URL's hash, in the renderer's own format (renderer/router.ts: `#/event/12`,
 * `#/history`, `#/`); the renderer follows `hashchange`. Changing only the hash of the loaded
 * URL is a same-document navigation: no reload.
 */
export function routeHash(route: WindowRoute): string {
  if (route.view === 'event') return `/event/${route.id}`;
  return route.view === 'history' ? '/history' : '/';
}

/**
 * `shell.openExternal` is given only https links the app built itself (the origins passed in),
 * never a link a page made up: openExternal with a crafted URL can run local programs.
 */
export function isAllowedExternalUrl(url: string, allowedOrigins: readonly string[]): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' && parsed.username === '' && allowedOrigins.includes(parsed.origin);
  } catch {
    return false;
  }
}

/** Requests the window's session may make: its own files and, in development, its dev server. */
export function isLocalRequest(url: string, renderer: RendererLocation): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (['file:', 'data:', 'blob:', 'devtools:'].includes(parsed.protocol)) return true;
  if (renderer.kind !== 'dev') return false;
  const dev = new URL(renderer.url);
  return parsed.host === dev.host && ['http:', 'ws:'].includes(parsed.protocol);
}

/** Permissions a local history viewer needs: writing to the clipboard ("Copy webhook URL"). */
const GRANTED_PERMISSIONS = new Set(['clipboard-sanitized-write']);

/**
 * Session rules: permission requests denied, requests to anything but the app's own files
 * cancelled (no remote content, even if a page were tricked into asking), and the CSP header
 * on every response that has headers (the dev server; built files carry it in their <meta>).
 */
export function hardenSession(
  session: Pick<Session, 'setPermissionRequestHandler' | 'setPermissionCheckHandler'> & {
    webRequest: Pick<Session['webRequest'], 'onBeforeRequest' | 'onHeadersReceived'>;
  },
  renderer: RendererLocation,
  log?: Logger,
): void {
  session.setPermissionRequestHandler((_contents, permission, callback) => {
    const granted = GRANTED_PERMISSIONS.has(permission);
    if (!granted) log?.warn('window', `denied a ${permission} permission request`);
    callback(granted);
  });
  session.setPermissionCheckHandler((_contents, permission) => GRANTED_PERMISSIONS.has(permission));
  session.webRequest.onBeforeRequest({ urls: ['<all_urls>'] }, (details, callback) => {
    const allowed = isLocalRequest(details.url, renderer);
    if (!allowed) log?.warn('window', `blocked a request to ${details.url}`);
    callback({ cancel: !allowed });
  });
  const policy = contentSecurityPolicy(renderer.kind === 'dev' ? renderer.url : undefined);
  session.webRequest.onHeadersReceived((details, callback) => {
    // eng-disable below: electronegativity cannot read a policy that a function builds.
    // contentSecurityPolicy() is pinned by test/electron/window.test.ts; the built page's copy (its
    // <meta>) is read by the scan of out/renderer in .ci/run (see renderer/index.html).
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [policy] } }); // eng-disable CSP_GLOBAL_CHECK
  });
}

export interface WindowDeps {
  BrowserWindow: new (options: BrowserWindowConstructorOptions) => BrowserWindow;
  shell: Pick<Shell, 'openExternal'>;
  renderer: RendererLocation;
  preloadPath: string;
  icon?: string;
  /** Origins of the https links the app built (the public tunnel URL). */
  externalOrigins: () => readonly string[];
  log?: Logger;
}

export interface WindowController {
  /** Shows the window (creating it the first time), on a route if given. */
  show(route?: WindowRoute): void;
  /** The window's page while it exists, for the pushes. */
  contents(): BrowserWindow['webContents'] | null;
  /** Lets the window close for real (quitting). */
  allowClose(): void;
}

export function createWindowController(deps: WindowDeps): WindowController {
  let window: BrowserWindow | null = null;
  let closing = false;

  function load(target: BrowserWindow, route: WindowRoute | undefined): void {
    const hash = route ? routeHash(route) : '';
    const loading =
      deps.renderer.kind === 'file'
        ? target.loadFile(deps.renderer.path, hash ? { hash } : {})
        : target.loadURL(hash ? `${deps.renderer.url}#${hash}` : deps.renderer.url);
    loading.catch((error: unknown) => deps.log?.error('window', `the page did not load: ${String(error)}`));
  }

  function openIfAllowed(url: string): void {
    if (isAllowedExternalUrl(url, deps.externalOrigins())) {
      // Reviewed: only https URLs whose origin the app itself built (isAllowedExternalUrl).
      void deps.shell.openExternal(url); // eng-disable OPEN_EXTERNAL_JS_CHECK
    } else {
      deps.log?.warn('window', `refused to open ${url}`);
    }
  }

  function create(route: WindowRoute | undefined): BrowserWindow {
    const created = new deps.BrowserWindow({
      width: 1040,
      height: 720,
      minWidth: 640,
      minHeight: 480,
      show: false,
      title: 'SingleFile Monitor',
      autoHideMenuBar: true,
      ...(deps.icon ? { icon: deps.icon } : {}),
      webPreferences: secureWebPreferences(deps.preloadPath),
    });
    const contents = created.webContents;
    // The page never navigates: routes are hash changes made by the app, links open outside.
    contents.on('will-navigate', (event) => {
      event.preventDefault();
      openIfAllowed(event.url);
    });
    contents.on('will-redirect', (event) => {
      event.preventDefault();
    });
    contents.setWindowOpenHandler(({ url }) => {
      openIfAllowed(url);
      return { action: 'deny' };
    });
    contents.on('will-attach-webview', (event) => {
      event.preventDefault();
    });
    created.on('close', (event) => {
      // A tray app keeps running: closing the window hides it; "Quit" is in the tray menu.
      if (closing) return;
      event.preventDefault();
      created.hide();
    });
    created.once('ready-to-show', () => {
      created.show();
    });
    created.on('closed', () => {
      window = null;
    });
    load(created, route);
    return created;
  }

  return {
    show(route) {
      if (!window) {
        window = create(route);
        return;
      }
      if (route) load(window, route);
      if (window.isMinimized()) window.restore();
      window.show();
      window.focus();
    },
    contents: () => (window && !window.isDestroyed() ? window.webContents : null),
    allowClose() {
      closing = true;
    },
  };
}
