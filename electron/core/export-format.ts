import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { setImmediate } from 'node:timers/promises';
import type { EventQuery, MonitorApi } from '../../shared/api.ts';
import { describeEventType, type StoredEvent } from '../../shared/events.ts';
import type { Store } from './store.ts';

/** The CSV's columns, in order: what a spreadsheet user needs first, the raw payload last. */
export const CSV_COLUMNS = [
  'id',
  'received_at',
  'occurred_at',
  'event_type',
  'event_name',
  'category',
  'deliveries',
  'read',
  'payload',
] as const;

export function csvHeader(): string {
  return `${CSV_COLUMNS.join(',')}\r\n`;
}

export function csvRow(event: StoredEvent): string {
  const cells: Record<(typeof CSV_COLUMNS)[number], string | number | null> = {
    id: event.id,
    received_at: event.received_at,
    occurred_at: event.occurred_at,
    event_type: event.event_type,
    event_name: describeEventType(event.event_type).name,
    category: event.category,
    deliveries: event.deliveries,
    read: event.read ? 'yes' : 'no',
    payload: JSON.stringify(event.payload),
  };
  return `${CSV_COLUMNS.map((column) => csvCell(cells[column])).join(',')}\r\n`;
}

/**
 * One CSV field (RFC 4180). Text that a spreadsheet would run as a formula (leading `=`, `+`,
 * `-`, `@`, tab or carriage return) gets a leading apostrophe; fields with commas, quotes or
 * line breaks are quoted, with quotes doubled.
 */
export function csvCell(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  const defused = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(defused) ? `"${defused.replaceAll('"', '""')}"` : defused;
}

/** The JSON array shape of `search --json`: what scripts read. */
export function searchJson(
  event: StoredEvent,
): Pick<StoredEvent, 'id' | 'event_type' | 'category' | 'received_at' | 'occurred_at' | 'payload'> {
  const { id, event_type, category, received_at, occurred_at, payload } = event;
  return { id, event_type, category, received_at, occurred_at, payload };
}

/** Events read from the history per page, by the CLI's export and by the window's. */
const PAGE_SIZE = 500;

/** Every matching event, newest first, a page at a time so a large history is never held whole. */
export function* allMatching(store: Store, query: EventQuery): Generator<StoredEvent> {
  let remaining = query.limit ?? Number.POSITIVE_INFINITY;
  let cursor: string | undefined;
  do {
    const page = store.search({ ...query, limit: Math.min(PAGE_SIZE, remaining), ...(cursor ? { cursor } : {}) });
    for (const event of page.events) yield event;
    remaining -= page.events.length;
    cursor = page.nextCursor ?? undefined;
  } while (cursor && remaining > 0);
}

/**
 * The text of an export in pieces — its opening, then events as they come, then its close — so
 * that every way of writing one (the CLI's, the window's streamed one, the one-answer API) writes
 * the same file. JSON has one event per line.
 */
export function exportWriter(format: 'csv' | 'json') {
  let count = 0;
  return {
    open: () => (format === 'csv' ? csvHeader() : '['),
    event(event: StoredEvent): string {
      const text = format === 'csv' ? csvRow(event) : `${count === 0 ? '\n' : ',\n'}${JSON.stringify(event)}`;
      count++;
      return text;
    },
    close: () => (format === 'json' ? (count === 0 ? ']\n' : '\n]\n') : ''),
    count: () => count,
  };
}

/** Writes every matching event as CSV or a JSON array, a piece at a time; returns the count. */
export function writeExport(
  store: Store,
  format: 'csv' | 'json',
  query: EventQuery,
  write: (text: string) => unknown,
): number {
  const writer = exportWriter(format);
  write(writer.open());
  for (const event of allMatching(store, query)) write(writer.event(event));
  const close = writer.close();
  if (close) write(close);
  return writer.count();
}

/** A whole export as text: the one-answer `exportEvents` (the window streams instead). */
export function exportText(
  store: Store,
  format: 'csv' | 'json',
  query: EventQuery,
): { content: string; count: number } {
  const parts: string[] = [];
  const count = writeExport(store, format, query, (text) => parts.push(text));
  return { content: parts.join(''), count };
}

/** `singlefile-events-2024-01-15.csv`: the day (UTC) of the export. */
export function exportFilename(format: 'csv' | 'json', nowMs: number): string {
  return `singlefile-events-${new Date(nowMs).toISOString().slice(0, 10)}.${format}`;
}

export function exportContentType(format: 'csv' | 'json'): string {
  return format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json';
}

/** Where a streamed export reads its pages: the Monitor API's listEvents, which checks each request. */
export type ListEvents = MonitorApi['listEvents'];

/** What a streamed export writes to: an HTTP response, a file. */
export type ExportSink = Pick<Writable, 'write' | 'once' | 'off' | 'destroyed'>;

/**
 * Writes every matching event to `out`, a page at a time, and resolves with the count. It waits
 * whenever `out` is full (backpressure) and lets the event loop run between pages, so a large
 * export is never held in memory and never keeps the receiver from acknowledging deliveries or
 * the store from committing them. Rejects when `out` closes or fails first. Events arriving
 * meanwhile are newer than the first page, so they are not part of it.
 */
export async function streamExport(
  listEvents: ListEvents,
  format: 'csv' | 'json',
  query: Omit<EventQuery, 'cursor'>,
  out: ExportSink,
): Promise<number> {
  const writer = exportWriter(format);
  await send(out, writer.open());
  // The CLI's `--limit` bounds an export as it bounds a search; the window sends none.
  let remaining = query.limit ?? Number.POSITIVE_INFINITY;
  let cursor: string | undefined;
  do {
    const limit = Math.min(PAGE_SIZE, remaining);
    const page = await listEvents({ ...query, limit, ...(cursor ? { cursor } : {}) });
    let waited = false;
    // One write per event, never one string per page: a page of large events could pass the
    // longest string V8 makes.
    for (const event of page.events) waited = (await send(out, writer.event(event))) || waited;
    remaining -= page.events.length;
    cursor = remaining > 0 ? (page.nextCursor ?? undefined) : undefined;
    if (!cursor) waited = (await send(out, writer.close())) || waited;
    // A reader that takes every write at once never makes us wait, and the pages settle as
    // microtasks: without this turn of the event loop no request would get in until the end.
    if (!waited) await setImmediate();
  } while (cursor);
  return writer.count();
}

/** Writes `text`; when `out` is full, waits until it drains (true) or rejects if it closes. */
async function send(out: ExportSink, text: string): Promise<boolean> {
  if (out.destroyed) throw new ExportAbortedError();
  if (text === '' || out.write(text)) return false;
  await new Promise<void>((resolve, reject) => {
    const settle = (error?: unknown) => {
      out.off('drain', onDrain);
      out.off('close', onClose);
      out.off('error', settle);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => settle();
    const onClose = () => settle(new ExportAbortedError());
    out.once('drain', onDrain);
    out.once('close', onClose);
    out.once('error', settle);
  });
  return true;
}

/** The reader of a streamed export went away (the download was cancelled) before it ended. */
export class ExportAbortedError extends Error {
  override name = 'ExportAbortedError';
  constructor() {
    super('the export was closed before it ended');
  }
}

/**
 * Streams an export into `path`, through `path.partial` renamed at the end, so that a failed
 * export neither leaves half a file nor replaces the one that was there. Returns the count.
 */
export async function exportToFile(
  listEvents: ListEvents,
  format: 'csv' | 'json',
  query: Omit<EventQuery, 'cursor'>,
  path: string,
): Promise<number> {
  const partial = `${path}.partial`;
  const file = createWriteStream(partial);
  // A failure to open or write is read below (file.errored); unheard, it would crash the process.
  file.on('error', () => {});
  try {
    const count = await streamExport(listEvents, format, query, file);
    file.end();
    await finished(file);
    await rename(partial, path);
    return count;
  } catch (error) {
    // The file's own failure says more than "closed before it ended", which it caused.
    const failure = file.errored ?? error;
    file.destroy();
    await rm(partial, { force: true });
    throw failure;
  }
}
