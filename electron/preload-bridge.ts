import type { IpcRenderer } from 'electron';
import type { MonitorApi, MonitorMethod, PushChannel, PushPayload } from '../shared/api.ts';
import { invokeChannel, isPushChannel, MONITOR_METHODS, pushChannelName } from './ipc-channels.ts';

/**
 * `window.monitor`: the Monitor API over IPC. The page gets these functions and nothing else —
 * never `ipcRenderer` itself, and never the IPC event (its `sender` is `ipcRenderer`). The main
 * process validates every request; this side only forwards.
 */
export function createMonitorBridge(ipc: Pick<IpcRenderer, 'invoke' | 'on' | 'removeListener'>): MonitorApi {
  const methods = Object.fromEntries(
    MONITOR_METHODS.map((method: MonitorMethod) => [
      method,
      (request: unknown) => ipc.invoke(invokeChannel(method), request),
    ]),
  ) as Omit<MonitorApi, 'subscribe'>;
  return {
    ...methods,
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
