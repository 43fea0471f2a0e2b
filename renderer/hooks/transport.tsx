import {
  createContext,
  type ReactNode,
  useCallback,
  useContext,
  useEffect,
  useRef,
  useState,
  useSyncExternalStore,
} from 'react';
import type { MonitorApi, PushChannel, PushPayload, SaveExport, Status } from '../../shared/api.ts';
import type { ConnectionState, Transport } from '../dashboard-client.ts';

const TransportContext = createContext<Transport | null>(null);

export function TransportProvider({ transport, children }: { transport: Transport; children: ReactNode }) {
  return <TransportContext.Provider value={transport}>{children}</TransportContext.Provider>;
}

function useTransport(): Transport {
  const transport = useContext(TransportContext);
  if (!transport) throw new Error('useTransport outside of TransportProvider');
  return transport;
}

export function useApi(): MonitorApi {
  return useTransport().api;
}

/** The window's export, saved as a file by whichever way the window reaches the core. */
export function useSaveExport(): SaveExport {
  return useTransport().saveExport;
}

export function useConnection(): ConnectionState {
  const { connection } = useTransport();
  return useSyncExternalStore(connection.subscribe, connection.get);
}

/** Subscribes for the component's lifetime; the latest `listener` is always the one called. */
export function usePush<C extends PushChannel>(channel: C, listener: (payload: PushPayload<C>) => void): void {
  const api = useApi();
  const latest = useRef(listener);
  latest.current = listener;
  useEffect(() => api.subscribe(channel, (payload) => latest.current(payload)), [api, channel]);
}

/** Runs `resync` whenever the link comes back after a break: pushes may have been missed. */
export function useResync(resync: () => void): void {
  const { connection } = useTransport();
  const latest = useRef(resync);
  latest.current = resync;
  useEffect(() => {
    let wasLive = connection.get() === 'live';
    return connection.subscribe((state) => {
      if (state === 'live' && !wasLive) latest.current();
      wasLive = state === 'live';
    });
  }, [connection]);
}

/**
 * The core's status, fresh: loaded once, replaced by every `status` push, and re-read when events
 * arrive (the counts change with them): at once for the first, then at most four times a second
 * during a burst.
 */
export function useStatus(): { status: Status | null; refresh: () => void } {
  const api = useApi();
  const [status, setStatus] = useState<Status | null>(null);
  const quiet = useRef<ReturnType<typeof setTimeout> | null>(null);
  const missed = useRef(false);
  const refresh = useCallback(() => {
    api.getStatus({}).then(setStatus, () => {});
  }, [api]);
  useEffect(() => {
    refresh();
    return () => {
      if (quiet.current) clearTimeout(quiet.current);
    };
  }, [refresh]);
  usePush('status', setStatus);
  usePush('event', () => {
    if (quiet.current) {
      missed.current = true;
      return;
    }
    refresh();
    const settle = () => {
      if (missed.current) {
        missed.current = false;
        refresh();
        quiet.current = setTimeout(settle, 250);
      } else quiet.current = null;
    };
    quiet.current = setTimeout(settle, 250);
  });
  useResync(refresh);
  return { status, refresh };
}
