import type { BrowserWindow, BrowserWindowConstructorOptions } from 'electron';
import { beforeEach, describe, expect, it } from 'vitest';
import type { RendererLocation } from '../../electron/ipc.ts';
import {
  contentSecurityPolicy,
  createWindowController,
  hardenSession,
  isAllowedExternalUrl,
  isLocalRequest,
  routeHash,
  secureWebPreferences,
} from '../../electron/window.ts';
import { parseRoute } from '../../renderer/router.ts';
import { FakeBrowserWindow, preventable } from './fakes.ts';

const FILE: RendererLocation = { kind: 'file', path: '/app/out/renderer/index.html' };
const DEV: RendererLocation = { kind: 'dev', url: 'http://localhost:5173/' };

function setup(renderer: RendererLocation = FILE, origins: string[] = ['https://sfm-test.loca.lt']) {
  FakeBrowserWindow.created = [];
  const opened: string[] = [];
  const controller = createWindowController({
    BrowserWindow: FakeBrowserWindow as unknown as new (options: BrowserWindowConstructorOptions) => BrowserWindow,
    shell: {
      openExternal: async (url: string) => {
        opened.push(url);
      },
    },
    renderer,
    preloadPath: '/app/out/preload/preload.cjs',
    externalOrigins: () => origins,
  });
  return { controller, opened, window: () => FakeBrowserWindow.created[0] as FakeBrowserWindow };
}

describe('the window is created with the secure settings', () => {
  it('webPreferences: isolated, sandboxed, no Node, no webview, our preload', () => {
    const { controller, window } = setup();
    controller.show();
    const prefs = window().options.webPreferences;
    expect(prefs).toEqual(secureWebPreferences('/app/out/preload/preload.cjs'));
    expect(prefs).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      preload: '/app/out/preload/preload.cjs',
    });
    expect(window().options.show).toBe(false);
  });

  it('is created on first use, hidden until ready, and only once', () => {
    const { controller, window } = setup();
    expect(FakeBrowserWindow.created).toHaveLength(0);
    controller.show();
    expect(window().visible).toBe(false);
    window().emit('ready-to-show');
    expect(window().visible).toBe(true);
    controller.show();
    expect(FakeBrowserWindow.created).toHaveLength(1);
  });
});

describe('routes', () => {
  it('a route is the hash of the built page', () => {
    const { controller, window } = setup();
    controller.show({ view: 'event', id: 42 });
    expect(window().loads).toEqual([{ file: FILE.path, hash: '/event/42' }]);
    controller.show({ view: 'history' });
    expect(window().loads.at(-1)).toEqual({ file: FILE.path, hash: '/history' });
    expect(window().visible && window().focused).toBe(true);
  });

  it("in the renderer's own format", () => {
    expect(parseRoute(`#${routeHash({ view: 'event', id: 42 })}`)).toEqual({ view: 'event', id: 42 });
    expect(parseRoute(`#${routeHash({ view: 'history' })}`)).toMatchObject({ view: 'history' });
    expect(parseRoute(`#${routeHash({ view: 'status' })}`)).toEqual({ view: 'status' });
  });

  it('and of the dev server URL', () => {
    const { controller, window } = setup(DEV);
    controller.show({ view: 'event', id: 7 });
    expect(window().loads).toEqual([{ url: 'http://localhost:5173/#/event/7' }]);
  });
});

describe('the page cannot go anywhere', () => {
  let ctx: ReturnType<typeof setup>;
  beforeEach(() => {
    ctx = setup();
    ctx.controller.show();
  });

  it('navigation is denied; an https link the app built opens in the browser', () => {
    const contents = ctx.window().webContents;
    const evil = preventable({ url: 'https://evil.example/phish' });
    contents.emit('will-navigate', evil);
    expect(evil.defaultPrevented).toBe(true);
    const ours = preventable({ url: 'https://sfm-test.loca.lt/webhooks/abc' });
    contents.emit('will-navigate', ours);
    expect(ours.defaultPrevented).toBe(true);
    expect(ctx.opened).toEqual(['https://sfm-test.loca.lt/webhooks/abc']);
  });

  it('new windows are denied, whatever the URL', () => {
    const handler = ctx.window().webContents.openHandler;
    for (const url of ['https://sfm-test.loca.lt/', 'file:///etc/passwd', 'javascript:alert(1)', 'smb://host/share']) {
      expect(handler?.({ url })).toEqual({ action: 'deny' });
    }
    expect(ctx.opened).toEqual(['https://sfm-test.loca.lt/']);
  });

  it('webviews and redirects are refused', () => {
    const contents = ctx.window().webContents;
    const webview = preventable();
    contents.emit('will-attach-webview', webview);
    expect(webview.defaultPrevented).toBe(true);
    const redirect = preventable({ url: 'https://evil.example/' });
    contents.emit('will-redirect', redirect);
    expect(redirect.defaultPrevented).toBe(true);
  });

  it('closing hides the window until the app quits', () => {
    const window = ctx.window();
    window.show();
    const close = preventable();
    window.emit('close', close);
    expect(close.defaultPrevented).toBe(true);
    expect(window.visible).toBe(false);
    ctx.controller.allowClose();
    const quitting = preventable();
    window.emit('close', quitting);
    expect(quitting.defaultPrevented).toBe(false);
  });
});

describe('openExternal only for https links the app built', () => {
  const origins = ['https://sfm-test.loca.lt'];
  it.each([
    ['https://sfm-test.loca.lt/webhooks/x', true],
    ['http://sfm-test.loca.lt/webhooks/x', false],
    ['https://sfm-test.loca.lt.evil.example/', false],
    ['https://user@sfm-test.loca.lt/', false],
    ['https://other.loca.lt/', false],
    ['file:///Applications/Calculator.app', false],
    ['ms-msdt:/id PCWDiagnostic', false],
    ['not a url', false],
  ])('%s → %s', (url, allowed) => {
    expect(isAllowedExternalUrl(url, origins)).toBe(allowed);
  });
});

describe('the session', () => {
  function fakeSession() {
    const handlers: Record<string, (...args: never[]) => unknown> = {};
    const session = {
      setPermissionRequestHandler: (handler: never) => {
        handlers.request = handler;
      },
      setPermissionCheckHandler: (handler: never) => {
        handlers.check = handler;
      },
      webRequest: {
        onBeforeRequest: (_filter: unknown, handler: never) => {
          handlers.before = handler;
        },
        onHeadersReceived: (handler: never) => {
          handlers.headers = handler;
        },
      },
    };
    return { session: session as unknown as Parameters<typeof hardenSession>[0], handlers };
  }

  it('denies permission requests except writing to the clipboard', () => {
    const { session, handlers } = fakeSession();
    hardenSession(session, FILE);
    const answers: Record<string, boolean> = {};
    for (const permission of ['media', 'geolocation', 'notifications', 'openExternal', 'clipboard-sanitized-write']) {
      (handlers.request as (c: unknown, p: string, cb: (ok: boolean) => void) => void)(null, permission, (ok) => {
        answers[permission] = ok;
      });
    }
    expect(answers).toEqual({
      media: false,
      geolocation: false,
      notifications: false,
      openExternal: false,
      'clipboard-sanitized-write': true,
    });
    expect((handlers.check as (c: unknown, p: string) => boolean)(null, 'media')).toBe(false);
  });

  it('cancels requests to anything but the app itself (no remote content)', () => {
    const { session, handlers } = fakeSession();
    hardenSession(session, FILE);
    const verdicts = [
      'file:///app/out/renderer/assets/index.js',
      'https://cdn.example/x.js',
      'http://127.0.0.1:4000/',
    ].map((url) => {
      let cancel: boolean | undefined;
      (handlers.before as (d: { url: string }, cb: (r: { cancel: boolean }) => void) => void)({ url }, (r) => {
        cancel = r.cancel;
      });
      return cancel;
    });
    expect(verdicts).toEqual([false, true, true]);
  });

  it('adds the CSP header to responses', () => {
    const { session, handlers } = fakeSession();
    hardenSession(session, DEV);
    let headers: Record<string, string[]> = {};
    (handlers.headers as (d: unknown, cb: (r: { responseHeaders: Record<string, string[]> }) => void) => void)(
      { responseHeaders: { 'Content-Type': ['text/html'] } },
      (r) => {
        headers = r.responseHeaders;
      },
    );
    expect(headers['Content-Type']).toEqual(['text/html']);
    expect(headers['Content-Security-Policy']).toEqual([contentSecurityPolicy('http://localhost:5173/')]);
  });

  it('the built page may load only itself; the dev exceptions never reach it', () => {
    const built = contentSecurityPolicy();
    expect(built).toContain("default-src 'none'");
    expect(built).toContain("script-src 'self';");
    expect(built).not.toContain('unsafe');
    expect(built).not.toMatch(/https?:|ws:/);
    const dev = contentSecurityPolicy('http://localhost:5173/');
    expect(dev).toContain("connect-src 'self' ws://localhost:5173");
    expect(isLocalRequest('ws://localhost:5173/', DEV)).toBe(true);
    expect(isLocalRequest('http://localhost:5174/', DEV)).toBe(false);
    expect(isLocalRequest('ws://localhost:5173/', FILE)).toBe(false);
  });
});
