import { describe, expect, it } from 'vitest';
import { CSV_COLUMNS, csvCell, csvHeader, csvRow, searchJson } from '../electron/core/export-format.ts';
import type { StoredEvent } from '../shared/events.ts';
import { parseCsv, parseCsvObjects } from './helpers/cli.ts';

function storedEvent(overrides: Partial<StoredEvent> = {}): StoredEvent {
  return {
    id: 7,
    event_type: 'order.completed',
    category: 'Orders',
    received_at: '2024-01-15T10:30:01.000Z',
    occurred_at: '2024-01-15T10:30:00.000Z',
    payload: {
      event_type: 'order.completed',
      order_id: 'ord_12345',
      entity_id: 'ent_67890',
      status: 'completed',
      timestamp: '2024-01-15T10:30:00Z',
    },
    deliveries: 2,
    read: false,
    ...overrides,
  };
}

describe('csvCell', () => {
  it('leaves plain text, numbers and empty values as they are', () => {
    expect(csvCell('order.completed')).toBe('order.completed');
    expect(csvCell('Acme Widgets LLC')).toBe('Acme Widgets LLC');
    expect(csvCell(42)).toBe('42');
    expect(csvCell(null)).toBe('');
    expect(csvCell('')).toBe('');
  });

  it('quotes fields with commas, quotes and line breaks, doubling the quotes', () => {
    expect(csvCell('Northwind Traders, Inc.')).toBe('"Northwind Traders, Inc."');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('line one\nline two')).toBe('"line one\nline two"');
    expect(csvCell('line one\r\nline two')).toBe('"line one\r\nline two"');
    expect(csvCell('"')).toBe('""""');
  });

  it.each([
    ['=1+2', "'=1+2"],
    ['+1', "'+1"],
    ['-2+3', "'-2+3"],
    ['@SUM(A1:A2)', "'@SUM(A1:A2)"],
    ['\t=1', "'\t=1"],
  ])('defuses %j, which a spreadsheet would run as a formula', (input, expected) => {
    expect(csvCell(input)).toBe(expected);
  });

  it('defuses and quotes together when a formula also holds commas, quotes or line breaks', () => {
    expect(csvCell('=HYPERLINK("http://evil.example/?a,b","click")')).toBe(
      '"\'=HYPERLINK(""http://evil.example/?a,b"",""click"")"',
    );
    expect(csvCell('\r=1')).toBe('"\'\r=1"');
    expect(csvCell('-1,\n2')).toBe('"\'-1,\n2"');
  });

  it('only looks at the first character', () => {
    expect(csvCell('a=b')).toBe('a=b');
    expect(csvCell('1-2')).toBe('1-2');
    expect(csvCell('user@example.com')).toBe('user@example.com');
    expect(csvCell("it's")).toBe("it's");
  });

  it('gives back the original text, apostrophe aside, through an RFC 4180 parser', () => {
    const values = ['=HYPERLINK("x")', '+1, "two"\nthree', '-2+3\r\nA1', '@SUM(A1:A2)', 'plain', 'a,b', '"q"'];
    const line = `${values.map(csvCell).join(',')}\r\n`;
    const [record] = parseCsv(line);
    expect(record).toEqual(values.map((v) => (/^[=+\-@\t\r]/.test(v) ? `'${v}` : v)));
  });
});

describe('csvHeader and csvRow', () => {
  it('has the columns in order, CRLF-terminated', () => {
    expect(csvHeader()).toBe(`${CSV_COLUMNS.join(',')}\r\n`);
    expect([...CSV_COLUMNS]).toEqual([
      'id',
      'received_at',
      'occurred_at',
      'event_type',
      'event_name',
      'category',
      'deliveries',
      'read',
      'payload',
    ]);
  });

  it('writes one CRLF-terminated record that reads back field for field', () => {
    const event = storedEvent();
    const row = csvRow(event);
    expect(row.endsWith('\r\n')).toBe(true);
    const { rows } = parseCsvObjects(csvHeader() + row);
    expect(rows).toEqual([
      {
        id: '7',
        received_at: '2024-01-15T10:30:01.000Z',
        occurred_at: '2024-01-15T10:30:00.000Z',
        event_type: 'order.completed',
        event_name: 'Order Completed',
        category: 'Orders',
        deliveries: '2',
        read: 'no',
        payload: JSON.stringify(event.payload),
      },
    ]);
    expect(JSON.parse(rows[0]?.payload ?? '')).toEqual(event.payload);
  });

  it('leaves occurred_at empty when the event has no time of its own, and says yes when read', () => {
    const { rows } = parseCsvObjects(csvHeader() + csvRow(storedEvent({ occurred_at: null, read: true })));
    expect(rows[0]?.occurred_at).toBe('');
    expect(rows[0]?.read).toBe('yes');
  });

  it('defuses an unknown, hostile event type in both the type and the name column', () => {
    const type = '=HYPERLINK("http://evil.example","a,b")\nx';
    const payload = { event_type: type, note: '@me, "you"\r\n-1' };
    const row = csvRow(storedEvent({ event_type: type, category: 'Other', payload }));
    const { rows } = parseCsvObjects(csvHeader() + row);
    expect(rows[0]?.event_type).toBe(`'${type}`);
    expect(rows[0]?.event_name).toBe(`'${type}`);
    expect(rows[0]?.category).toBe('Other');
    expect(JSON.parse(rows[0]?.payload ?? '')).toEqual(payload);
  });
});

describe('searchJson', () => {
  it('keeps exactly the six fields of the search --json contract', () => {
    const event = storedEvent();
    const shown = searchJson(event);
    expect(Object.keys(shown)).toEqual(['id', 'event_type', 'category', 'received_at', 'occurred_at', 'payload']);
    expect(shown).toEqual({
      id: event.id,
      event_type: event.event_type,
      category: event.category,
      received_at: event.received_at,
      occurred_at: event.occurred_at,
      payload: event.payload,
    });
  });
});
