import type { EventQuery } from '../../shared/api.ts';
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

/** Every matching event, newest first, a page at a time so a large history is never held whole. */
export function* allMatching(store: Store, query: EventQuery): Generator<StoredEvent> {
  let remaining = query.limit ?? Number.POSITIVE_INFINITY;
  let cursor: string | undefined;
  do {
    const page = store.search({ ...query, limit: Math.min(500, remaining), ...(cursor ? { cursor } : {}) });
    for (const event of page.events) yield event;
    remaining -= page.events.length;
    cursor = page.nextCursor ?? undefined;
  } while (cursor && remaining > 0);
}

/** Writes every matching event as CSV or a JSON array, a piece at a time; returns the count. */
export function writeExport(
  store: Store,
  format: 'csv' | 'json',
  query: EventQuery,
  write: (text: string) => unknown,
): number {
  write(format === 'csv' ? csvHeader() : '[');
  let count = 0;
  for (const event of allMatching(store, query)) {
    write(format === 'csv' ? csvRow(event) : `${count === 0 ? '\n' : ',\n'}${JSON.stringify(event)}`);
    count++;
  }
  if (format === 'json') write(count === 0 ? ']\n' : '\n]\n');
  return count;
}

/** A whole export as text, for the window's download (the CLI streams to a file instead). */
export function exportText(
  store: Store,
  format: 'csv' | 'json',
  query: EventQuery,
): { content: string; count: number } {
  const parts: string[] = [];
  const count = writeExport(store, format, query, (text) => parts.push(text));
  return { content: parts.join(''), count };
}
