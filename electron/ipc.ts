import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BaseWindow, Dialog, IpcMain, IpcMainInvokeEvent, SaveDialogOptions, WebContents } from 'electron';
import type { z } from 'zod';
import {
  ExportRequestSchema,
  type MonitorApi,
  type MonitorMethod,
  monitorApiContract,
  type SavedExport,
} from '../shared/api.ts';
import { exportFilename, exportToFile } from './core/export-format.ts';
import type { Logger } from './core/log.ts';
import { invokeChannel, MONITOR_METHODS, PUSH_CHANNELS, pushChannelName } from './ipc-channels.ts';
import { SAVE_EXPORT_CHANNEL } from './preload-bridge.ts';

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

/** The window's export as the main process runs it: a request the contract has checked. */
export type SaveExportHandler = (
  request: z.output<typeof ExportRequestSchema>,
  sender: WebContents,
) => Promise<SavedExport | null>;

export interface IpcDeps {
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>;
  api: MonitorApi;
  renderer: RendererLocation;
  /** The window's export (`window.monitor.saveExport`); without it, the channel is not opened. */
  saveExport?: SaveExportHandler;
  /** After a call succeeded: the tray refreshes its unread count after markRead, etc. */
  onCalled?: (method: MonitorMethod) => void;
  log?: Logger;
}

type InvokeEvent = { senderFrame: SenderFrame | null; sender: WebContents };

/**
 * One handler per method of the contract on its own channel, and one for the window's export.
 * Each checks the sender frame (top-level, our page) and parses the request with the method's
 * zod schema, so a compromised renderer can send nothing the contract does not describe.
 * Returns the unregister function.
 */
export function registerMonitorIpc(deps: IpcDeps): () => void {
  function checked<S extends z.ZodType>(name: string, schema: S, event: InvokeEvent, request: unknown): z.output<S> {
    const frame = event.senderFrame;
    if (!frame || frame.parent !== null || !isTrustedSenderUrl(frame.url, deps.renderer)) {
      deps.log?.warn('ipc', `refused ${name} from ${frame ? frame.url : 'a closed frame'}`);
      throw new IpcRefusal('This page may not use the Monitor API.');
    }
    const parsed = schema.safeParse(request ?? {});
    if (!parsed.success) {
      const where = parsed.error.issues.map((issue) => issue.path.join('.') || '(request)').join(', ');
      throw new IpcRefusal(`Invalid ${name} request: ${where}`);
    }
    return parsed.data;
  }
  for (const method of MONITOR_METHODS) {
    deps.ipcMain.handle(invokeChannel(method), async (event: InvokeEvent, request: unknown) => {
      const data = checked(method, monitorApiContract[method].request, event, request);
      const call = deps.api[method] as (input: unknown) => Promise<unknown>;
      const result = await call(data);
      deps.onCalled?.(method);
      return result;
    });
  }
  const { saveExport } = deps;
  if (saveExport) {
    deps.ipcMain.handle(SAVE_EXPORT_CHANNEL, (event: InvokeEvent, request: unknown) =>
      saveExport(checked('saveExport', ExportRequestSchema, event, request), event.sender),
    );
  }
  return () => {
    for (const method of MONITOR_METHODS) deps.ipcMain.removeHandler(invokeChannel(method));
    if (saveExport) deps.ipcMain.removeHandler(SAVE_EXPORT_CHANNEL);
  };
}

export interface ExportSaverDeps {
  dialog: Pick<Dialog, 'showSaveDialog'>;
  /** The window the request came from, for the dialog to belong to. */
  windowOf: (sender: WebContents) => BaseWindow | null;
  api: Pick<MonitorApi, 'listEvents'>;
  /** Where the dialog starts: the Downloads folder. */
  folder: string;
  now?: () => number;
}

/**
 * The window's export in the tray app: the person chooses where (the page never names a path,
 * so a compromised page cannot write anywhere), then the core streams the file there a page at a
 * time (export-format.ts exportToFile). Null when the dialog was cancelled.
 */
export function createExportSaver(deps: ExportSaverDeps): SaveExportHandler {
  return async ({ format, query }, sender) => {
    const options: SaveDialogOptions = {
      title: 'Export events',
      defaultPath: join(deps.folder, exportFilename(format, (deps.now ?? Date.now)())),
      filters: [format === 'csv' ? { name: 'CSV', extensions: ['csv'] } : { name: 'JSON', extensions: ['json'] }],
      properties: ['createDirectory', 'showOverwriteConfirmation'],
    };
    const parent = deps.windowOf(sender);
    const choice = parent
      ? await deps.dialog.showSaveDialog(parent, options)
      : await deps.dialog.showSaveDialog(options);
    if (choice.canceled || !choice.filePath) return null;
    const count = await exportToFile(deps.api.listEvents, format, query ?? {}, choice.filePath);
    return { filename: basename(choice.filePath), count };
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
