import type { IpcRenderer } from 'electron';
import type {
  ExportRequest,
  MonitorApi,
  MonitorBridge,
  MonitorMethod,
  PushChannel,
  PushPayload,
} from '../shared/api.ts';
import { invokeChannel, isPushChannel, MONITOR_METHODS, pushChannelName } from './ipc-channels.ts';

/**
 * The window's export (SaveExport in shared/api.ts), which is not a call of the contract: the
 * main process asks where to save and writes the file itself. Here rather than in ipc-channels.ts
 * only because that file lists the contract's channels; the prefix is the same.
 */
export const SAVE_EXPORT_CHANNEL = 'monitor:save-export';

/**
 * `window.monitor`: the Monitor API over IPC, and the window's export. The page gets these
 * functions and nothing else — never `ipcRenderer` itself, and never the IPC event (its `sender`
 * is `ipcRenderer`). The main process validates every request; this side only forwards.
 */
export function createMonitorBridge(ipc: Pick<IpcRenderer, 'invoke' | 'on' | 'removeListener'>): MonitorBridge {
  const methods = Object.fromEntries(
    MONITOR_METHODS.map((method: MonitorMethod) => [
      method,
      (request: unknown) => ipc.invoke(invokeChannel(method), request),
    ]),
  ) as Omit<MonitorApi, 'subscribe'>;
  return {
    ...methods,
    // Progress cannot cross IPC as a callback: the page shows that it is busy until the answer.
    saveExport: (request: ExportRequest) => ipc.invoke(SAVE_EXPORT_CHANNEL, request),
    subscribe<C extends PushChannel>(channel: C, listener: (payload: PushPayload<C>) => void): () => void {
      if (!isPushChannel(channel)) throw new Error(`unknown channel: ${String(channel)}`);
      if (typeof listener !== 'function') throw new Error('listener must be a function');
      const name = pushChannelName(channel);
      const forward = (_event: unknown, payload: PushPayload<C>) => listener(payload);
      ipc.on(name, forward);
      return () => {
        ipc.removeListener(name, forward);
      };
    },
  };
}
