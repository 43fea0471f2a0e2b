import type { Connection, ConnectionState, Transport } from '../../renderer/dashboard-client.ts';
import {
  type ApiRequest,
  type ApiResponse,
  EventQuerySchema,
  type ExportRequest,
  ExportRequestSchema,
  type MonitorApi,
  type MonitorMethod,
  monitorApiContract,
  type PushChannel,
  type PushPayload,
  type SavedExport,
  type SaveExport,
  type SelfTestResult,
  type Status,
  type TestEventResult,
} from '../../shared/api.ts';
import { describeEventType, type StoredEvent } from '../../shared/events.ts';
import { applySettingsPatch, DEFAULT_SETTINGS, type Settings } from '../../shared/settings.ts';

/**
 * A Monitor API in memory for component tests: typed as the real one, and strict like it — every
 * request the window sends is parsed with the contract's schema (a malformed one throws, failing
 * the test), and every answer is checked against the response schema.
 */

export interface FakeMonitor {
  api: MonitorApi;
  transport: Transport;
  /** Every call, in order, with its request as sent. */
  calls: Array<{ method: MonitorMethod; request: unknown }>;
  callsTo<M extends MonitorMethod>(method: M): Array<ApiRequest<M>>;
  /** Every export the window asked to save, as sent; `saveAnswer` decides what it hears back. */
  exports: ExportRequest[];
  saveAnswer:
    | ((request: ExportRequest, count: number, onProgress?: (count: number) => void) => Promise<SavedExport | null>)
    | null;
  /** Stores an event as the receiver would, and pushes it. */
  receive(payload: Record<string, unknown>, options?: Partial<StoredEvent>): StoredEvent;
  push<C extends PushChannel>(channel: C, payload: PushPayload<C>): void;
  setConnection(state: ConnectionState): void;
  settings(): Settings;
  subscribers(channel: PushChannel): number;
  events: StoredEvent[];
  status: Status;
  testResult: TestEventResult;
  /** What checkTunnel finds; like the monitor, it also lands in the tunnel status, pushed. */
  selfTestResult: SelfTestResult;
}

const BASE_TIME = Date.parse('2024-01-15T10:00:00Z');

export function makeEvent(
  id: number,
  payload: Record<string, unknown>,
  options: Partial<StoredEvent> = {},
): StoredEvent {
  const type = String(payload.event_type ?? 'unknown');
  return {
    id,
    event_type: type,
    category: describeEventType(type).category,
    received_at: new Date(BASE_TIME + id * 60_000).toISOString(),
    occurred_at: null,
    payload,
    deliveries: 1,
    read: false,
    ...options,
  };
}

export function createFakeMonitor(initial: { events?: StoredEvent[]; status?: Partial<Status> } = {}): FakeMonitor {
  let settings = structuredClone(DEFAULT_SETTINGS);
  const listeners = new Map<PushChannel, Set<(payload: never) => void>>();
  const connectionListeners = new Set<(state: ConnectionState) => void>();
  let connection: ConnectionState = 'live';
  const fake = {
    calls: [] as FakeMonitor['calls'],
    exports: [] as ExportRequest[],
    saveAnswer: null as FakeMonitor['saveAnswer'],
    // Newest first, as the store answers.
    events: [...(initial.events ?? [])].sort((a, b) => b.id - a.id),
    status: {
      receiver: {
        listening: true,
        localUrl: 'http://127.0.0.1:40001/webhooks/TOKEN',
        throttled: false,
        throttledDeliveries: 0,
      },
      tunnel: {
        provider: 'localtunnel',
        state: 'online',
        publicUrl: 'https://sfm-abcdefabcdef.loca.lt',
        since: '2024-01-15T09:00:00.000Z',
        attempts: 1,
        lastError: null,
        urlChanged: null,
        selfTest: null,
      },
      webhookUrl: 'https://sfm-abcdefabcdef.loca.lt/webhooks/TOKEN',
      events: { total: 0, unread: 0, lastReceivedAt: null },
      ...initial.status,
    } as Status,
    testResult: {
      ok: true,
      via: 'public',
      failedAt: null,
      status: 200,
      message: 'The test event arrived and was stored.',
      eventId: null,
    } as TestEventResult,
    selfTestResult: { ok: true, at: '2024-01-15T10:00:00.000Z', rttMs: 120, error: null } as SelfTestResult,
  };

  function counts(): Status['events'] {
    return {
      total: fake.events.length,
      unread: fake.events.filter((e) => !e.read).length,
      lastReceivedAt: fake.events[0]?.received_at ?? null,
    };
  }

  function matching(request: ApiRequest<'listEvents'>): StoredEvent[] {
    const query = EventQuerySchema.parse(request);
    const words = (query.text ?? '').toLowerCase().split(/\s+/).filter(Boolean);
    return fake.events.filter((e) => {
      const haystack = `${e.event_type} ${JSON.stringify(e.payload)}`.toLowerCase();
      if (!words.every((w) => haystack.includes(w))) return false;
      if (query.categories?.length && !query.categories.includes(e.category)) return false;
      if (query.types?.length && !query.types.includes(e.event_type)) return false;
      if (query.since && e.received_at < new Date(query.since).toISOString()) return false;
      if (query.until && e.received_at >= new Date(query.until).toISOString()) return false;
      if (query.unreadOnly && e.read) return false;
      return true;
    });
  }

  const handlers: { [M in MonitorMethod]: (request: ApiRequest<M>) => ApiResponse<M> } = {
    getStatus: () => ({ ...fake.status, events: counts() }),
    listEvents: (request) => {
      const query = EventQuerySchema.parse(request);
      const all = matching(request);
      const start = query.cursor ? Number(query.cursor) : 0;
      const events = all.slice(start, start + query.limit);
      const next = start + query.limit;
      return { events, nextCursor: next < all.length ? String(next) : null };
    },
    getEvent: ({ id }) => fake.events.find((e) => e.id === id) ?? null,
    markRead: ({ ids, read = true }) => {
      const changing = new Set(fake.events.filter((e) => ids.includes(e.id) && e.read !== read).map((e) => e.id));
      fake.events = fake.events.map((e) => (changing.has(e.id) ? { ...e, read } : e));
      return { updated: changing.size };
    },
    markAllRead: () => {
      const updated = fake.events.filter((e) => !e.read).length;
      fake.events = fake.events.map((e) => ({ ...e, read: true }));
      return { updated };
    },
    getSettings: () => settings,
    updateSettings: (patch) => {
      const next = applySettingsPatch(settings, patch);
      // As the monitor does: verification is never on without a secret to verify with.
      if (next.security.signature.mode !== 'off' && !next.security.signature.hasSecret) {
        throw new Error('set the signing secret before turning signature verification on');
      }
      settings = next;
      return settings;
    },
    getStats: () => ({
      days: [],
      total: fake.events.length,
      byCategory: {},
      duplicates: 0,
      rejected: 0,
      failed: 0,
      lastEventAt: counts().lastReceivedAt,
      tunnel: { onlineMs: 0, runningMs: 1000 },
    }),
    exportEvents: ({ format, query }) => {
      const events = matching(query ?? {});
      return {
        filename: `singlefile-events-2024-01-15.${format}`,
        contentType: format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json',
        content: JSON.stringify(events),
        count: events.length,
      };
    },
    regenerateWebhookUrl: () => {
      fake.status = { ...fake.status, webhookUrl: 'https://sfm-newnewnewnew.loca.lt/webhooks/NEWTOKEN' };
      return { ...fake.status, events: counts() };
    },
    sendTestEvent: () => fake.testResult,
    checkTunnel: () => {
      fake.status = { ...fake.status, tunnel: { ...fake.status.tunnel, selfTest: fake.selfTestResult } };
      push('status', { ...fake.status, events: counts() });
      return fake.selfTestResult;
    },
  };

  function method<M extends MonitorMethod>(name: M) {
    return async (request: ApiRequest<M>): Promise<ApiResponse<M>> => {
      fake.calls.push({ method: name, request });
      const parsed = monitorApiContract[name].request.parse(request) as ApiRequest<M>;
      return monitorApiContract[name].response.parse(handlers[name](parsed)) as ApiResponse<M>;
    };
  }

  const api = {
    getStatus: method('getStatus'),
    listEvents: method('listEvents'),
    getEvent: method('getEvent'),
    markRead: method('markRead'),
    markAllRead: method('markAllRead'),
    getSettings: method('getSettings'),
    updateSettings: method('updateSettings'),
    getStats: method('getStats'),
    exportEvents: method('exportEvents'),
    regenerateWebhookUrl: method('regenerateWebhookUrl'),
    sendTestEvent: method('sendTestEvent'),
    checkTunnel: method('checkTunnel'),
    subscribe(channel, listener) {
      const set = listeners.get(channel) ?? new Set();
      listeners.set(channel, set);
      set.add(listener as (payload: never) => void);
      return () => {
        set.delete(listener as (payload: never) => void);
      };
    },
  } satisfies MonitorApi;

  // The window's export, as the transports save it: checked like the real request, counted over
  // the same matching as exportEvents; progress is told once, with the whole count.
  const saveExport: SaveExport = async (request, onProgress) => {
    fake.exports.push(request);
    const { format, query } = ExportRequestSchema.parse(request);
    const count = matching(query ?? {}).length;
    if (fake.saveAnswer) return fake.saveAnswer(request, count, onProgress);
    onProgress?.(count);
    return { filename: `singlefile-events-2024-01-15.${format}`, count };
  };

  const conn: Connection = {
    get: () => connection,
    subscribe(listener) {
      connectionListeners.add(listener);
      return () => connectionListeners.delete(listener);
    },
  };

  const push = <C extends PushChannel>(channel: C, payload: PushPayload<C>) => {
    for (const listener of listeners.get(channel) ?? []) (listener as (p: PushPayload<C>) => void)(payload);
  };

  return Object.assign(fake, {
    api,
    transport: { api, connection: conn, saveExport },
    callsTo: <M extends MonitorMethod>(name: M) =>
      fake.calls.filter((c) => c.method === name).map((c) => c.request as ApiRequest<M>),
    receive(payload: Record<string, unknown>, options: Partial<StoredEvent> = {}) {
      const id = (fake.events[0]?.id ?? 0) + 1;
      const event = makeEvent(id, payload, options);
      fake.events = [event, ...fake.events];
      push('event', event);
      return event;
    },
    push,
    setConnection(state: ConnectionState) {
      connection = state;
      for (const listener of connectionListeners) listener(state);
    },
    settings: () => settings,
    subscribers: (channel: PushChannel) => listeners.get(channel)?.size ?? 0,
  });
}
