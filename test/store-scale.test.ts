import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../electron/core/migrations.ts';
import { openStore, type Store, StoreUnavailableError } from '../electron/core/store.ts';
import type { EventQuery } from '../shared/api.ts';
import type { SingleFileEvent } from '../shared/events.ts';
import { tempDir } from './helpers/fixtures.ts';

/**
 * What the store does for a million events (issue 6): a group commit without a savepoint per
 * event, counters kept by triggers, full-text pages walked from the index's newest rowid down,
 * ids that follow received_at, and migration 2 of a schema-1 history.
 */

let dir: string;
let file: string;
const opened: Store[] = [];

beforeEach(() => {
  dir = tempDir();
  file = join(dir, 'history.sqlite');
});

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function open(options: { now?: () => number } = {}): Store {
  const store = openStore(file, options);
  opened.push(store);
  return store;
}

function raw<T>(work: (db: DatabaseSync) => T): T {
  const db = new DatabaseSync(file);
  try {
    return work(db);
  } finally {
    db.close();
  }
}

const ev = (type: string, fields: Record<string, unknown> = {}): SingleFileEvent => ({ event_type: type, ...fields });

const count = (sql: string, ...params: Array<string | number>) =>
  raw((db) => Number((db.prepare(sql).get(...params) as { n: number }).n));

/** Follows nextCursor to the end; every id seen, in order. */
function walk(store: Store, query: EventQuery): number[] {
  const ids: number[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 1000; pages++) {
    const page = store.search({ ...query, ...(cursor === undefined ? {} : { cursor }) });
    ids.push(...page.events.map((event) => event.id));
    cursor = page.nextCursor ?? undefined;
    if (cursor === undefined) break;
  }
  return ids;
}

/** The counters as the triggers keep them, and as a count of the rows gives them. */
function countersAndTruth(): [unknown, unknown] {
  return raw((db) => [
    JSON.parse(
      JSON.stringify(
        db
          .prepare('SELECT category, total, unread, duplicates FROM event_counts WHERE total > 0 ORDER BY category')
          .all(),
      ),
    ),
    JSON.parse(
      JSON.stringify(
        db
          .prepare(
            'SELECT category, count(*) AS total, sum(read = 0) AS unread, sum(deliveries - 1) AS duplicates FROM events GROUP BY category ORDER BY category',
          )
          .all(),
      ),
    ),
  ]);
}

describe('store at scale: full-text pages', () => {
  it('walks the events that match words and filters exactly once, newest first, like an unfiltered walk', async () => {
    const store = open();
    const types = ['order.completed', 'document.created', 'task.created'];
    await Promise.all(
      Array.from({ length: 600 }, (_, i) =>
        store.append({ event: ev(types[i % 3] as string, { note: `zebra${i % 4}`, i }) }),
      ),
    );
    const everything = walk(store, { limit: 1000 });
    const stored = new Map(everything.map((id) => [id, store.get(id)]));
    const expected = (keep: (payload: Record<string, unknown>, type: string) => boolean) =>
      everything.filter((id) => {
        const event = stored.get(id);
        return event ? keep(event.payload, event.event_type) : false;
      });

    expect(walk(store, { text: 'zebra1', limit: 17 })).toEqual(expected((p) => p.note === 'zebra1'));
    expect(walk(store, { text: 'zebra2', types: ['task.created'], limit: 9 })).toEqual(
      expected((p, type) => p.note === 'zebra2' && type === 'task.created'),
    );
    expect(walk(store, { text: 'zebra3', categories: ['Orders', 'Tasks'], limit: 1000 })).toEqual(
      expected((p, type) => p.note === 'zebra3' && type !== 'document.created'),
    );
  });

  it('indexes each event once when two stores (the CLI and the app) write to one history', async () => {
    const a = open();
    const b = open();
    await Promise.all([
      ...Array.from({ length: 300 }, (_, i) => a.append({ event: ev('x', { word: 'lynx', from: 'a', i }) })),
      ...Array.from({ length: 300 }, (_, i) => b.append({ event: ev('x', { word: 'lynx', from: 'b', i }) })),
    ]);
    expect(walk(a, { text: 'lynx', limit: 100 })).toHaveLength(600);
    expect(walk(b, { text: 'lynx', limit: 100 })).toHaveLength(600);
    expect(count(`SELECT count(*) AS n FROM events_fts WHERE events_fts MATCH '"lynx"'`)).toBe(600);
  });

  it('gives ids in the order of received_at, even when the clock goes back and two stores write', async () => {
    let clock = Date.parse('2024-02-01T00:00:00Z');
    const a = open({ now: () => clock });
    const b = open({ now: () => clock - 60_000 }); // its clock is a minute behind
    for (let i = 0; i < 20; i++) {
      clock += i % 5 === 0 ? -5_000 : 1_000;
      await Promise.all([
        a.append({ event: ev('x', { i, from: 'a' }) }),
        b.append({ event: ev('x', { i, from: 'b' }) }),
      ]);
    }
    expect(
      count(
        'SELECT count(*) AS n FROM events e1 JOIN events e2 ON e2.id > e1.id WHERE e2.received_at < e1.received_at',
      ),
    ).toBe(0);
  });
});

describe('store at scale: counters kept by triggers', () => {
  it('keeps total, unread and duplicates per category equal to a count of the rows', async () => {
    const store = open();
    await Promise.all([
      ...Array.from({ length: 50 }, (_, i) => store.append({ event: ev('order.completed', { order_id: `ord_${i}` }) })),
      ...Array.from({ length: 30 }, (_, i) =>
        store.append({ event: ev('document.created', { document_id: `doc_${i}` }) }),
      ),
      ...Array.from({ length: 20 }, (_, i) => store.append({ event: ev('mystery.type', { i }) })),
    ]);
    await store.append({ event: ev('order.completed', { order_id: 'ord_1' }) }); // two retries
    await store.append({ event: ev('order.completed', { order_id: 'ord_1' }) });
    store.markAllRead();
    const { events } = store.search({ types: ['document.created'], limit: 5 });
    store.markRead(
      events.map((e) => e.id),
      false,
    );
    expect(store.applyRetention({ maxAgeDays: null, maxEvents: 60 })).toBe(40);
    const [counters, truth] = countersAndTruth();
    expect(counters).toEqual(truth);
    expect(store.counts().total).toBe(60);
    expect(store.dailyStats(0, 0).duplicates).toBe(count('SELECT sum(deliveries - 1) AS n FROM events'));
  });
});

describe('store at scale: group commit without a savepoint per event', () => {
  it('fails an event whose SQL fails alone, and stores and indexes the rest of its batch', async () => {
    const store = open();
    await store.append({ event: ev('warm.up') });
    raw((db) =>
      db.exec(
        `CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.event_type = 'a.bad' BEGIN SELECT RAISE(ABORT, 'refused'); END`,
      ),
    );
    const settled = await Promise.allSettled([
      store.append({ event: ev('a.one', { word: 'heron' }) }),
      store.append({ event: ev('a.bad', { word: 'heron' }) }),
      store.append({ event: ev('a.two', { word: 'heron' }) }),
    ]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((settled[1] as PromiseRejectedResult).reason).toBeInstanceOf(StoreUnavailableError);
    expect(
      store
        .search({ text: 'heron', limit: 10 })
        .events.map((e) => e.event_type)
        .sort(),
    ).toEqual(['a.one', 'a.two']);
    expect(count(`SELECT count(*) AS n FROM events_fts WHERE events_fts MATCH '"heron"'`)).toBe(2);
  });
});

describe('store at scale: migration 2', () => {
  it('upgrades a schema-1 history: counters, search, stats and new events all work', async () => {
    raw((db) => {
      db.exec('PRAGMA journal_mode = WAL');
      db.exec(MIGRATIONS[0] as string);
      db.exec('PRAGMA user_version = 1');
      const insert = db.prepare(
        `INSERT INTO events (dedupe_key, event_type, category, received_at, last_delivery_at, deliveries, read, payload)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      const index = db.prepare('INSERT INTO events_fts (rowid, event_type, body) VALUES (?, ?, ?)');
      for (let i = 1; i <= 30; i++) {
        const payload = JSON.stringify({ event_type: 'order.completed', order_id: `ord_${i}`, note: 'walrus' });
        const at = Date.parse('2024-02-01T00:00:00Z') + i * 3_600_000;
        const { lastInsertRowid } = insert.run(
          Buffer.from(`key${i}`),
          'order.completed',
          'Orders',
          at,
          at,
          i % 3 === 0 ? 2 : 1,
          i % 2,
          payload,
        );
        index.run(lastInsertRowid, 'order.completed', `ord_${i}\nwalrus`);
      }
    });
    const store = open();
    expect(count('SELECT user_version AS n FROM pragma_user_version')).toBe(MIGRATIONS.length);
    const [counters, truth] = countersAndTruth();
    expect(counters).toEqual(truth);
    expect(store.counts()).toMatchObject({ total: 30, unread: 15, byCategory: { Orders: 30 } });
    expect(store.dailyStats(0, 0)).toEqual({
      days: [
        { day: '2024-02-01', byCategory: { Orders: 23 } },
        { day: '2024-02-02', byCategory: { Orders: 7 } },
      ],
      duplicates: 10,
    });
    expect(walk(store, { text: 'walrus', limit: 7 })).toHaveLength(30);
    await store.append({ event: ev('order.completed', { order_id: 'ord_new', note: 'walrus' }) });
    expect(walk(store, { text: 'walrus', limit: 7 })).toHaveLength(31);
  });
});
