import { fileURLToPath } from 'node:url';
import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import { type MonitorApi, type MonitorMethod, monitorApiContract } from '../shared/api.ts';
import type { Logger } from './core/log.ts';
import { invokeChannel, MONITOR_METHODS, PUSH_CHANNELS, pushChannelName } from './ipc-channels.ts';

/** Where our own window's page comes from: the built file, or electron-vite's dev server. */
export type RendererLocation = { kind: 'file'; path: string } | { kind: 'dev'; url: string };

/**
 * Only our own page may call the core. Any other document — a page that got navigated to
 * despite the guards, an iframe, a devtools extension — is refused before its request is read.
 */
export function isTrustedSenderUrl(url: string, renderer: RendererLocation): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (renderer.kind === 'dev') return parsed.origin === new URL(renderer.url).origin;
  if (parsed.protocol !== 'file:' || parsed.host !== '') return false;
  parsed.hash = '';
  parsed.search = '';
  return fileURLToPath(parsed) === renderer.path;
}

export class IpcRefusal extends Error {
  override name = 'IpcRefusal';
}

type SenderFrame = Pick<NonNullable<IpcMainInvokeEvent['senderFrame']>, 'url' | 'parent'>;

export interface IpcDeps {
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>;
  api: MonitorApi;
  renderer: RendererLocation;
  /** After a call succeeded: the tray refreshes its unread count after markRead, etc. */
  onCalled?: (method: MonitorMethod) => void;
  log?: Logger;
}

/**
 * One handler per method of the contract on its own channel. Each checks the sender frame
 * (top-level, our page) and parses the request with the method's zod schema, so a compromised
 * renderer can send nothing the contract does not describe. Returns the unregister function.
 */
export function registerMonitorIpc(deps: IpcDeps): () => void {
  for (const method of MONITOR_METHODS) {
    deps.ipcMain.handle(invokeChannel(method), async (event: { senderFrame: SenderFrame | null }, request: unknown) => {
      const frame = event.senderFrame;
      if (!frame || frame.parent !== null || !isTrustedSenderUrl(frame.url, deps.renderer)) {
        deps.log?.warn('ipc', `refused ${method} from ${frame ? frame.url : 'a closed frame'}`);
        throw new IpcRefusal('This page may not use the Monitor API.');
      }
      const parsed = monitorApiContract[method].request.safeParse(request ?? {});
      if (!parsed.success) {
        const where = parsed.error.issues.map((issue) => issue.path.join('.') || '(request)').join(', ');
        throw new IpcRefusal(`Invalid ${method} request: ${where}`);
      }
      const call = deps.api[method] as (input: unknown) => Promise<unknown>;
      const result = await call(parsed.data);
      deps.onCalled?.(method);
      return result;
    });
  }
  return () => {
    for (const method of MONITOR_METHODS) deps.ipcMain.removeHandler(invokeChannel(method));
  };
}

/**
 * Forwards the core's pushes (event, status, notice) to the window while it exists. Returns the
 * function that unsubscribes them all.
 */
export function forwardPushes(
  api: Pick<MonitorApi, 'subscribe'>,
  target: () => Pick<WebContents, 'send' | 'isDestroyed'> | null,
): () => void {
  const unsubscribers = PUSH_CHANNELS.map((channel) =>
    api.subscribe(channel, (payload) => {
      const contents = target();
      if (contents && !contents.isDestroyed()) contents.send(pushChannelName(channel), payload);
    }),
  );
  return () => {
    for (const unsubscribe of unsubscribers) unsubscribe();
  };
}
