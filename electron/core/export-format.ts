import { describeEventType, type StoredEvent } from '../../shared/events.ts';

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
