import { z } from 'zod';
import { CategorySchema, StoredEventSchema } from './events.ts';
import { SettingsPatchSchema, SettingsSchema } from './settings.ts';

/**
 * The Monitor API: one contract for every way the UI reaches the core — IPC in the tray app,
 * loopback HTTP in the dashboard. Each method has a request and a response schema; both sides
 * validate with them, and the TypeScript types come from the same schemas.
 */

const IsoDateTime = z.iso.datetime({ offset: true });

/** A search's limits; the CLI checks them too, so that going past one is bad usage, said plainly. */
export const SEARCH_LIMITS = { textLength: 500, types: 100 } as const;

export const EventQuerySchema = z.strictObject({
  /** Free text: words match as prefixes, "quoted words" as a phrase. */
  text: z.string().max(SEARCH_LIMITS.textLength).optional(),
  types: z.array(z.string().min(1)).max(SEARCH_LIMITS.types).optional(),
  categories: z.array(CategorySchema).optional(),
  /** Received at or after this time. */
  since: IsoDateTime.optional(),
  /** Received before this time. */
  until: IsoDateTime.optional(),
  unreadOnly: z.boolean().optional(),
  limit: z.number().int().min(1).max(1000).default(50),
  /** Opaque: the `nextCursor` of the previous page. */
  cursor: z.string().max(100).optional(),
});
export type EventQuery = z.input<typeof EventQuerySchema>;

export const EventPageSchema = z.object({
  events: z.array(StoredEventSchema),
  /** Pass back as `cursor` for the next (older) page; null on the last page. */
  nextCursor: z.string().nullable(),
});
export type EventPage = z.infer<typeof EventPageSchema>;

export const ReceiverStatusSchema = z.object({
  listening: z.boolean(),
  localUrl: z.string().nullable(),
  /** Flood control is refusing deliveries (429) right now, or did within the last few seconds. */
  throttled: z.boolean(),
  /** Deliveries refused by flood control since the start. */
  throttledDeliveries: z.number().int(),
});

/** A request through the public URL that the receiver must see: whether it did, and the round trip. */
export const SelfTestResultSchema = z.object({
  ok: z.boolean(),
  at: z.string(),
  rttMs: z.number().nullable(),
  /** Why not, in plain words. */
  error: z.string().nullable(),
});
export type SelfTestResult = z.infer<typeof SelfTestResultSchema>;

/** The tunnel as the UI shows it, pushed on every change. */
export const TunnelStatusSchema = z.object({
  provider: z.enum(['localtunnel', 'none', 'custom']),
  state: z.enum(['stopped', 'connecting', 'online', 'offline', 'reconnecting']),
  /** The public base URL (no token); the last known one while offline. */
  publicUrl: z.string().nullable(),
  /** When the state last changed. */
  since: z.string(),
  /** Connection attempts since the tunnel last proved itself with a self-test. */
  attempts: z.number().int(),
  /** Why it is not online, in plain words. */
  lastError: z.string().nullable(),
  /** Set when the server granted a different URL than the one the user pasted into SingleFile. */
  urlChanged: z.object({ from: z.string(), to: z.string() }).nullable(),
  /** The latest self-test (every 60 s, on demand, and with each test event sent through the tunnel). */
  selfTest: SelfTestResultSchema.nullable(),
});
export type TunnelStatus = z.infer<typeof TunnelStatusSchema>;

export const StatusSchema = z.object({
  receiver: ReceiverStatusSchema,
  tunnel: TunnelStatusSchema,
  /** The URL to paste into SingleFile: the public one when a tunnel is up, else null. */
  webhookUrl: z.string().nullable(),
  events: z.object({
    total: z.number().int(),
    unread: z.number().int(),
    lastReceivedAt: z.string().nullable(),
  }),
});
export type Status = z.infer<typeof StatusSchema>;

const NoRequest = z.strictObject({});

export const StatsRequestSchema = z.strictObject({
  /** How many days back the chart goes. */
  days: z.number().int().min(1).max(366).default(30),
  /** The viewer's offset from UTC (minutes east), so "a day" is the viewer's day. */
  tzOffsetMinutes: z.number().int().min(-840).max(840).default(0),
});

export const StatsSchema = z.object({
  days: z.array(z.object({ day: z.string(), byCategory: z.record(z.string(), z.number().int()) })),
  total: z.number().int(),
  byCategory: z.record(z.string(), z.number().int()),
  /** Retried deliveries that were recognised and stored once. */
  duplicates: z.number().int(),
  /** Deliveries refused as malformed, too large, of the wrong type (4xx other than 404) since start. */
  rejected: z.number().int(),
  /** Deliveries answered 503 (the history could not be written) since start. */
  failed: z.number().int(),
  lastEventAt: z.string().nullable(),
  tunnel: z.object({
    /** Time online since the app started, and the time since it started. */
    onlineMs: z.number(),
    runningMs: z.number(),
  }),
});
export type Stats = z.infer<typeof StatsSchema>;

export const ExportRequestSchema = z.strictObject({
  format: z.enum(['csv', 'json']),
  query: EventQuerySchema.omit({ cursor: true, limit: true }).optional(),
});
export type ExportRequest = z.input<typeof ExportRequestSchema>;

/** `exportEvents`: the whole export in one answer, for scripts and small exports. */
export const ExportResultSchema = z.object({
  filename: z.string(),
  contentType: z.string(),
  content: z.string(),
  count: z.number().int(),
});

/** What the window's export saved: the file's name and the number of events in it. */
export const SavedExportSchema = z.object({ filename: z.string(), count: z.number().int() });
export type SavedExport = z.infer<typeof SavedExportSchema>;

/**
 * The window's export, which is never held whole: written a page at a time, with the event
 * loop free between pages, so that a large one holds up neither the receiver nor the memory.
 * In the tray app the main process asks where to save it and writes the file
 * (`window.monitor.saveExport`, over IPC); from the dashboard it is `POST EXPORT_PATH` with an
 * ExportRequest, answered with the file as a stream, which the page saves as a download.
 * Resolves with null when the person cancelled; `onProgress` hears the events saved so far
 * (where the transport can tell).
 */
export type SaveExport = (request: ExportRequest, onProgress?: (count: number) => void) => Promise<SavedExport | null>;
export const EXPORT_PATH = '/api/export';

/** What the tray app's preload puts on `window.monitor`: the Monitor API, and the window's export. */
export type MonitorBridge = MonitorApi & { saveExport: SaveExport };

/** Where a test event got to: the place it failed, in the order an event travels. */
export const TestEventResultSchema = z.object({
  ok: z.boolean(),
  /** The URL it was sent to: the public one when a tunnel is up, else the local one (no tunnel stage). */
  via: z.enum(['public', 'local']),
  /**
   * Where it stopped: `tunnel`, it never reached the receiver; `receiver`, the receiver refused it
   * (a 4xx such as 401 or 429: `status`, and the reason in `message`); `history`, the receiver
   * took it but could not store it (503).
   */
  failedAt: z.enum(['tunnel', 'receiver', 'history']).nullable(),
  /** The HTTP status the sender got, if any. */
  status: z.number().int().nullable(),
  message: z.string(),
  eventId: z.number().int().nullable(),
});
export type TestEventResult = z.infer<typeof TestEventResultSchema>;

export const monitorApiContract = {
  getStatus: { request: NoRequest, response: StatusSchema },
  listEvents: { request: EventQuerySchema, response: EventPageSchema },
  getEvent: { request: z.strictObject({ id: z.number().int().positive() }), response: StoredEventSchema.nullable() },
  markRead: {
    request: z.strictObject({ ids: z.array(z.number().int().positive()).max(10_000), read: z.boolean().default(true) }),
    response: z.object({ updated: z.number().int() }),
  },
  markAllRead: { request: NoRequest, response: z.object({ updated: z.number().int() }) },
  getSettings: { request: NoRequest, response: SettingsSchema },
  updateSettings: { request: SettingsPatchSchema, response: SettingsSchema },
  getStats: { request: StatsRequestSchema, response: StatsSchema },
  /** The whole export in one answer; the window saves a streamed one instead (SaveExport). */
  exportEvents: { request: ExportRequestSchema, response: ExportResultSchema },
  /** A new secret token and a new tunnel name: the old URL stops working at once. */
  regenerateWebhookUrl: { request: NoRequest, response: StatusSchema },
  /** Sends a test event through the public URL (or the local one without a tunnel). */
  sendTestEvent: { request: NoRequest, response: TestEventResultSchema },
  /** Runs the tunnel's self-test now; its result is in the tunnel status too. */
  checkTunnel: { request: NoRequest, response: SelfTestResultSchema },
} as const;

type Contract = typeof monitorApiContract;
export type MonitorMethod = keyof Contract;
export type ApiRequest<M extends MonitorMethod> = z.input<Contract[M]['request']>;
/** A request after the contract's parse: what a handler sees, defaults filled in. */
export type ApiParsedRequest<M extends MonitorMethod> = z.output<Contract[M]['request']>;
export type ApiResponse<M extends MonitorMethod> = z.infer<Contract[M]['response']>;

/** A notice for the person: things that need attention that are not events (URL changed, …). */
export const NoticeSchema = z.object({
  kind: z.string(),
  title: z.string(),
  body: z.string(),
  at: z.string(),
});
export type Notice = z.infer<typeof NoticeSchema>;

export const pushContract = {
  event: StoredEventSchema,
  status: StatusSchema,
  notice: NoticeSchema,
} as const;
export type PushChannel = keyof typeof pushContract;
export type PushPayload<C extends PushChannel> = z.infer<(typeof pushContract)[C]>;

/** What the window sees as `window.monitor` and what the dashboard client implements. */
export type MonitorApi = {
  [M in MonitorMethod]: (request: ApiRequest<M>) => Promise<ApiResponse<M>>;
} & {
  subscribe<C extends PushChannel>(channel: C, listener: (payload: PushPayload<C>) => void): () => void;
};
