import {
  type ApiRequest,
  type ApiResponse,
  EXPORT_PATH,
  type ExportRequest,
  type MonitorApi,
  type MonitorMethod,
  monitorApiContract,
  type PushChannel,
  type PushPayload,
  pushContract,
  type SavedExport,
  type SaveExport,
} from '../shared/api.ts';
import { exportCounter } from './export-count.ts';

/**
 * The Monitor API over the dashboard's loopback HTTP: `POST /api/<method>` with the access token,
 * and one shared event stream (`GET /api/stream`) for the pushes. Answers are checked against the
 * same contract the core uses, so a window never works on data of the wrong shape.
 */

/** Where the link to the core stands, for the banner that says so. */
export type ConnectionState = 'connecting' | 'live' | 'reconnecting' | 'unauthorized';

export interface Connection {
  get(): ConnectionState;
  /** Told of every change; returns an unsubscribe. */
  subscribe(listener: (state: ConnectionState) => void): () => void;
}

/** The API, the state of the link it goes over, and the window's export (saved as a file). */
export interface Transport {
  api: MonitorApi;
  connection: Connection;
  saveExport: SaveExport;
}

/** A download the page hands to the browser: the file's pieces as they arrived. */
export interface DownloadFile {
  filename: string;
  contentType: string;
  parts: Uint8Array[];
}

export class ApiError extends Error {
  override name = 'ApiError';
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/**
 * What the client uses of a browser's EventSource. Declared here rather than taken from the DOM
 * types, so that the client also compiles (and is tested) under Node's types.
 */
export interface EventSourceLike {
  /** 0 connecting, 1 open, 2 closed for good. */
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onerror: ((event: unknown) => void) | null;
  addEventListener(type: string, listener: (message: { data: string }) => void): void;
  close(): void;
}

export interface DashboardClientOptions {
  /** The dashboard's origin, such as http://127.0.0.1:43117. */
  baseUrl: string;
  token: string;
  fetch?: typeof fetch;
  createEventSource?: (url: string) => EventSourceLike;
  /** How long to wait before opening a new stream after the server closed one. */
  retryMs?: number;
  /** Hands an export to the browser as a download (the page's DOM; renderer/download.ts). */
  saveFile?: (file: DownloadFile) => void;
}

const METHODS = Object.keys(monitorApiContract) as MonitorMethod[];
const CHANNELS = Object.keys(pushContract) as PushChannel[];

export function createDashboardClient(options: DashboardClientOptions): Transport {
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const createEventSource =
    options.createEventSource ?? ((url: string) => new EventSource(url) as unknown as EventSourceLike);
  const retryMs = options.retryMs ?? 2_000;
  const listeners = new Map<PushChannel, Set<(payload: never) => void>>();
  const connectionListeners = new Set<(state: ConnectionState) => void>();
  let state: ConnectionState = 'connecting';
  let source: EventSourceLike | null = null;
  let retryTimer: ReturnType<typeof setTimeout> | null = null;

  function setState(next: ConnectionState): void {
    if (next === state) return;
    state = next;
    for (const listener of connectionListeners) listener(next);
  }

  async function call<M extends MonitorMethod>(method: M, request: ApiRequest<M>): Promise<ApiResponse<M>> {
    const response = await doFetch(`${options.baseUrl}/api/${method}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${options.token}` },
      body: JSON.stringify(request ?? {}),
    });
    const text = await response.text();
    if (!response.ok) throw refused(response, text, method);
    return monitorApiContract[method].response.parse(JSON.parse(text)) as ApiResponse<M>;
  }

  function refused(response: Response, text: string, what: string): ApiError {
    if (response.status === 401 || response.status === 403) setState('unauthorized');
    return new ApiError(response.status, errorMessage(text) ?? `${what} failed (${response.status})`);
  }

  /**
   * The window's export: the dashboard answers with the file itself, written as it reads the
   * history; it is read piece by piece, counted as it goes, and handed over as a download.
   */
  async function saveExport(request: ExportRequest, onProgress?: (count: number) => void): Promise<SavedExport> {
    if (!options.saveFile) throw new Error('This window cannot save files.');
    const response = await doFetch(`${options.baseUrl}${EXPORT_PATH}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${options.token}` },
      body: JSON.stringify(request),
    });
    if (!response.ok || !response.body) throw refused(response, await response.text(), 'export');
    const filename =
      /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1] ??
      `singlefile-events.${request.format}`;
    const counter = exportCounter(request.format);
    const parts: Uint8Array[] = [];
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parts.push(value);
        counter.add(value);
        onProgress?.(counter.count());
      }
    } catch {
      // The server cuts the connection when it cannot finish: what came is not the whole file.
      throw new Error('The export broke off before it was complete; nothing was saved.');
    }
    options.saveFile({ filename, contentType: response.headers.get('content-type') ?? 'text/plain', parts });
    return { filename, count: counter.count() };
  }

  function openStream(): void {
    retryTimer = null;
    const es = createEventSource(`${options.baseUrl}/api/stream?token=${encodeURIComponent(options.token)}`);
    source = es;
    es.onopen = () => setState('live');
    es.onerror = () => {
      // CONNECTING: the browser reconnects by itself. CLOSED: the server refused the stream (a new
      // token after a restart) or answered oddly; ask once to tell the two apart.
      if (es.readyState !== 2) {
        setState('reconnecting');
        return;
      }
      if (source !== es) return;
      source = null;
      setState('reconnecting');
      void doFetch(`${options.baseUrl}/api/getStatus`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${options.token}` },
        body: '{}',
      })
        .then((r) => (r.status === 401 || r.status === 403 ? 'unauthorized' : 'retry'))
        .catch(() => 'retry' as const)
        .then((verdict) => {
          if (verdict === 'unauthorized') setState('unauthorized');
          else if (hasListeners() && !source && !retryTimer) retryTimer = setTimeout(openStream, retryMs);
        });
    };
    for (const channel of CHANNELS) {
      es.addEventListener(channel, (message) => {
        const parsed = pushContract[channel].safeParse(JSON.parse(message.data));
        if (!parsed.success) return;
        for (const listener of listeners.get(channel) ?? []) (listener as (p: unknown) => void)(parsed.data);
      });
    }
  }

  function hasListeners(): boolean {
    for (const set of listeners.values()) if (set.size > 0) return true;
    return false;
  }

  function closeStreamIfUnused(): void {
    if (hasListeners()) return;
    source?.close();
    source = null;
    if (retryTimer) clearTimeout(retryTimer);
    retryTimer = null;
  }

  const api = Object.fromEntries(
    METHODS.map((method) => [method, (request: never) => call(method, request)]),
  ) as unknown as Omit<MonitorApi, 'subscribe'>;

  return {
    api: {
      ...api,
      subscribe<C extends PushChannel>(channel: C, listener: (payload: PushPayload<C>) => void) {
        const set = listeners.get(channel) ?? new Set();
        listeners.set(channel, set);
        set.add(listener as (payload: never) => void);
        if (!source && !retryTimer && state !== 'unauthorized') openStream();
        return () => {
          set.delete(listener as (payload: never) => void);
          closeStreamIfUnused();
        };
      },
    },
    saveExport,
    connection: {
      get: () => state,
      subscribe(listener) {
        connectionListeners.add(listener);
        return () => connectionListeners.delete(listener);
      },
    },
  };
}

function errorMessage(text: string): string | null {
  try {
    const body = JSON.parse(text) as { error?: unknown };
    return typeof body.error === 'string' ? body.error : null;
  } catch {
    return null;
  }
}
