import { EventEmitter } from 'node:events';
import type { Status } from '../../shared/api.ts';
import { describeEventType, type StoredEvent } from '../../shared/events.ts';

/**
 * Stand-ins for the Electron objects the adapters use (the binary cannot run here), each
 * recording what was done to it. Only the members the adapters touch exist.
 */

export function statusOf(overrides: {
  tunnel?: Partial<Status['tunnel']>;
  receiver?: Partial<Status['receiver']>;
  unread?: number;
  webhookUrl?: string | null;
}): Status {
  const publicUrl = overrides.tunnel?.publicUrl === undefined ? 'https://sfm-test.loca.lt' : overrides.tunnel.publicUrl;
  return {
    receiver: {
      listening: true,
      localUrl: 'http://127.0.0.1:4000/webhooks/token',
      throttled: false,
      throttledDeliveries: 0,
      ...overrides.receiver,
    },
    tunnel: {
      provider: 'localtunnel',
      state: 'online',
      since: '2024-01-15T10:00:00.000Z',
      attempts: 0,
      lastError: null,
      urlChanged: null,
      selfTest: null,
      ...overrides.tunnel,
      publicUrl,
    },
    webhookUrl:
      overrides.webhookUrl === undefined ? (publicUrl ? `${publicUrl}/webhooks/token` : null) : overrides.webhookUrl,
    events: { total: 10, unread: overrides.unread ?? 0, lastReceivedAt: null },
  };
}

let nextId = 100;
export function storedEvent(event_type: string, payload: Record<string, unknown> = {}, read = false): StoredEvent {
  return {
    id: nextId++,
    event_type,
    category: describeEventType(event_type).category,
    received_at: '2024-01-15T10:00:00.000Z',
    occurred_at: null,
    payload: { event_type, ...payload },
    deliveries: 1,
    read,
  };
}

/** An Electron-style event whose default can be prevented. */
export function preventable<T extends object>(
  fields: T = {} as T,
): T & { defaultPrevented: boolean; preventDefault(): void } {
  const event = {
    ...fields,
    defaultPrevented: false,
    preventDefault() {
      event.defaultPrevented = true;
    },
  };
  return event;
}

export class FakeNativeImage {
  template = false;
  readonly path: string;
  constructor(path: string) {
    this.path = path;
  }
  setTemplateImage(on: boolean) {
    this.template = on;
  }
}

export class FakeTray extends EventEmitter {
  static last: FakeTray | null = null;
  image: FakeNativeImage;
  menu: unknown = null;
  tooltip = '';
  title = '';
  destroyed = false;
  calls: string[] = [];
  constructor(image: FakeNativeImage) {
    super();
    this.image = image;
    FakeTray.last = this;
  }
  setImage(image: FakeNativeImage) {
    this.calls.push('setImage');
    this.image = image;
  }
  setContextMenu(menu: unknown) {
    this.calls.push('setContextMenu');
    this.menu = menu;
  }
  setToolTip(text: string) {
    this.tooltip = text;
  }
  setTitle(text: string) {
    this.title = text;
  }
  destroy() {
    this.destroyed = true;
  }
}

export class FakeWebContents extends EventEmitter {
  openHandler: ((details: { url: string }) => { action: string }) | null = null;
  sent: Array<[string, unknown]> = [];
  destroyed = false;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: string }) {
    this.openHandler = handler;
  }
  send(channel: string, payload: unknown) {
    this.sent.push([channel, payload]);
  }
  isDestroyed() {
    return this.destroyed;
  }
}

export class FakeBrowserWindow extends EventEmitter {
  static created: FakeBrowserWindow[] = [];
  webContents = new FakeWebContents();
  visible = false;
  focused = false;
  minimized = false;
  loads: Array<{ file?: string; url?: string; hash?: string }> = [];
  readonly options: { webPreferences?: Record<string, unknown>; show?: boolean };
  constructor(options: { webPreferences?: Record<string, unknown>; show?: boolean }) {
    super();
    this.options = options;
    FakeBrowserWindow.created.push(this);
  }
  static fromWebContents(contents: unknown): FakeBrowserWindow | null {
    return FakeBrowserWindow.created.find((window) => window.webContents === contents) ?? null;
  }
  loadFile(file: string, options: { hash?: string } = {}) {
    this.loads.push({ file, ...(options.hash !== undefined ? { hash: options.hash } : {}) });
    return Promise.resolve();
  }
  loadURL(url: string) {
    this.loads.push({ url });
    return Promise.resolve();
  }
  show() {
    this.visible = true;
  }
  hide() {
    this.visible = false;
  }
  focus() {
    this.focused = true;
  }
  isMinimized() {
    return this.minimized;
  }
  restore() {
    this.minimized = false;
  }
  isDestroyed() {
    return false;
  }
}

export class FakeNotification extends EventEmitter {
  static shown: FakeNotification[] = [];
  static supported = true;
  static isSupported() {
    return FakeNotification.supported;
  }
  readonly options: { title?: string; body?: string; icon?: unknown };
  constructor(options: { title?: string; body?: string; icon?: unknown }) {
    super();
    this.options = options;
  }
  show() {
    FakeNotification.shown.push(this);
  }
}

type Handler = (event: unknown, ...args: unknown[]) => unknown;
export class FakeIpcMain {
  handlers = new Map<string, Handler>();
  // `never` parameters: any real listener, typed for IpcMainInvokeEvent, may be registered.
  handle(channel: string, handler: (event: never, ...args: never[]) => unknown) {
    if (this.handlers.has(channel)) throw new Error(`second handler for ${channel}`);
    this.handlers.set(channel, handler as Handler);
  }
  removeHandler(channel: string) {
    this.handlers.delete(channel);
  }
  /** What ipcRenderer.invoke would get from a frame with this URL (in the page `sender`). */
  invoke(channel: string, request: unknown, frame: { url: string; parent: unknown } | null, sender: unknown = null) {
    const handler = this.handlers.get(channel);
    if (!handler) throw new Error(`no handler for ${channel}`);
    return Promise.resolve().then(() => handler({ senderFrame: frame, sender }, request));
  }
}
