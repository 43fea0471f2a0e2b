import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CSV_COLUMNS,
  csvCell,
  csvHeader,
  csvRow,
  ExportAbortedError,
  exportToFile,
  exportWriter,
  type ListEvents,
  searchJson,
  streamExport,
} from '../electron/core/export-format.ts';
import { exportCounter } from '../renderer/export-count.ts';
import type { StoredEvent } from '../shared/events.ts';
import { parseCsv, parseCsvObjects } from './helpers/cli.ts';
import { tempDir } from './helpers/fixtures.ts';

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

describe("the window's count of a downloaded export (renderer/export-count.ts)", () => {
  const awkward = [
    storedEvent({ id: 3, event_type: 'x\ny,"z"', payload: { event_type: 'x\ny,"z"', note: '{"a":\n"b"}' } }),
    storedEvent({ id: 2, payload: { event_type: 'order.completed', text: 'ünïcødé 📄 "quoted", and\r\nbroken' } }),
    storedEvent({ id: 1 }),
  ];

  it.each(['csv', 'json'] as const)('%s: counts the events the writer wrote, however the bytes are cut', (format) => {
    for (const events of [[], awkward.slice(0, 1), awkward]) {
      const writer = exportWriter(format);
      const bytes = new TextEncoder().encode(
        writer.open() + events.map((e) => writer.event(e)).join('') + writer.close(),
      );
      for (const size of [1, 7, bytes.length || 1]) {
        const counter = exportCounter(format);
        for (let at = 0; at < bytes.length; at += size) counter.add(bytes.subarray(at, at + size));
        expect(counter.count(), `${events.length} events in pieces of ${size}`).toBe(events.length);
      }
    }
  });
});

describe("streamExport: the window's export, a page at a time", () => {
  const history = Array.from({ length: 1_234 }, (_, i) =>
    storedEvent({ id: 1_234 - i, payload: { event_type: 'order.completed', order_id: `ord_${i}` } }),
  );
  const PAGES = Math.ceil(history.length / 500);

  /** listEvents over `history`, newest first, counting the pages asked for; the cursor is an offset. */
  function source(failAtPage?: number) {
    const counter = { pages: 0 };
    const listEvents: ListEvents = async (query) => {
      counter.pages++;
      if (counter.pages === failAtPage) throw new Error('the history is closed');
      const start = Number(query.cursor ?? 0);
      const limit = query.limit ?? 50;
      const next = start + limit;
      return { events: history.slice(start, next), nextCursor: next < history.length ? String(next) : null };
    };
    return { listEvents, counter };
  }

  /** A reader that keeps whatever it gets; `hold` makes it full after every write until `release`. */
  function reader({ hold = false } = {}) {
    const chunks: string[] = [];
    let pending: Array<() => void> = [];
    const out = new Writable({
      highWaterMark: 1,
      decodeStrings: false,
      write(chunk: string, _encoding, done) {
        chunks.push(chunk);
        if (hold) pending.push(done);
        else done();
      },
    });
    return {
      out,
      text: () => chunks.join(''),
      release() {
        hold = false;
        for (const done of pending.splice(0)) done();
        pending = [];
      },
    };
  }

  it('writes the same text as the CLI (writeExport over the same events), in both formats', async () => {
    for (const format of ['csv', 'json'] as const) {
      const { listEvents } = source();
      const sink = reader();
      expect(await streamExport(listEvents, format, {}, sink.out)).toBe(history.length);
      const writer = exportWriter(format);
      expect(sink.text()).toBe(writer.open() + history.map((event) => writer.event(event)).join('') + writer.close());
    }
    const empty: ListEvents = async () => ({ events: [], nextCursor: null });
    const sink = reader();
    expect(await streamExport(empty, 'json', {}, sink.out)).toBe(0);
    expect(JSON.parse(sink.text())).toEqual([]);
  });

  it("stops at the query's limit (the CLI's --limit), across pages, and closes the file whole", async () => {
    for (const limit of [1, 500, 501, 1_000]) {
      const { listEvents, counter } = source();
      const sink = reader();
      expect(await streamExport(listEvents, 'json', { limit }, sink.out)).toBe(limit);
      expect((JSON.parse(sink.text()) as Array<{ id: number }>).map((e) => e.id)).toEqual(
        history.slice(0, limit).map((e) => e.id),
      );
      expect(counter.pages).toBe(Math.ceil(limit / 500));
    }
  });

  it('lets the event loop run between pages, even for a reader that takes everything at once', async () => {
    const { listEvents, counter } = source();
    const exporting = streamExport(listEvents, 'csv', {}, reader().out);
    // A callback queued now runs at the loop's next turn: an export that never gave the loop
    // back would be over by then.
    const pagesAtNextTurn = await new Promise<number>((resolve) => setImmediate(() => resolve(counter.pages)));
    expect(pagesAtNextTurn).toBeLessThan(PAGES);
    expect(await exporting).toBe(history.length);
    expect(counter.pages).toBe(PAGES);
  });

  it('waits while the reader is full, and goes on when it drains', async () => {
    const { listEvents, counter } = source();
    const sink = reader({ hold: true });
    const exporting = streamExport(listEvents, 'json', {}, sink.out);
    // The opening ('[') is not taken yet: no page is read while it waits.
    for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(counter.pages).toBe(0);
    sink.release();
    expect(await exporting).toBe(history.length);
    expect(JSON.parse(sink.text())).toHaveLength(history.length);
  });

  it('stops when the reader goes away while it waits', async () => {
    const { listEvents, counter } = source();
    const sink = reader({ hold: true });
    const exporting = streamExport(listEvents, 'csv', {}, sink.out);
    await new Promise((resolve) => setImmediate(resolve));
    sink.out.destroy();
    await expect(exporting).rejects.toBeInstanceOf(ExportAbortedError);
    expect(counter.pages).toBe(0);
  });
});

describe('exportToFile', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const events = Array.from({ length: 700 }, (_, i) => storedEvent({ id: 700 - i }));
  const listEvents = (failAtPage?: number): ListEvents => {
    let pages = 0;
    return async (query) => {
      if (++pages === failAtPage) throw new Error('the history is closed');
      const start = Number(query.cursor ?? 0);
      const next = start + (query.limit ?? 50);
      return { events: events.slice(start, next), nextCursor: next < events.length ? String(next) : null };
    };
  };

  it('writes the whole export into the file and nothing beside it', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const file = join(dir, 'events.json');
    expect(await exportToFile(listEvents(), 'json', {}, file)).toBe(700);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toHaveLength(700);
    expect(readdirSync(dir)).toEqual(['events.json']);
  });

  it('on a failure half way, leaves the file that was there untouched and no partial one', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const file = join(dir, 'events.csv');
    writeFileSync(file, 'the export of last week');
    await expect(exportToFile(listEvents(2), 'csv', {}, file)).rejects.toThrow('the history is closed');
    expect(readFileSync(file, 'utf8')).toBe('the export of last week');
    expect(readdirSync(dir)).toEqual(['events.csv']);
  });

  it('says why when the file cannot be written', async () => {
    const dir = tempDir();
    dirs.push(dir);
    await expect(exportToFile(listEvents(), 'csv', {}, join(dir, 'missing', 'events.csv'))).rejects.toThrow(/ENOENT/);
    expect(readdirSync(dir)).toEqual([]);
  });
});
