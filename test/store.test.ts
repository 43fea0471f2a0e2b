import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../electron/core/migrations.ts';
import {
  assertFts5,
  InvalidQueryError,
  openConnection,
  openStore,
  STORE_COMMIT_CHANNEL,
  type Store,
  type StoreCommit,
  StoreUnavailableError,
} from '../electron/core/store.ts';
import { type EventPage, EventPageSchema, type EventQuery } from '../shared/api.ts';
import { describeEventType, EVENT_CATALOG, type SingleFileEvent, StoredEventSchema } from '../shared/events.ts';
import { loadFixtures, tempDir } from './helpers/fixtures.ts';

const T0 = Date.parse('2024-02-01T00:00:00.000Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let dir: string;
let file: string;
let clock: number;
const opened: Store[] = [];

beforeEach(() => {
  dir = tempDir();
  file = join(dir, 'history.sqlite');
  clock = T0;
});

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A store on a real SQLite file whose clock is the test's `clock`. */
function open(path = file): Store {
  const store = openStore(path, { now: () => clock });
  opened.push(store);
  return store;
}

/** A second, independent connection to the same file, as another process would have. */
function rawDb(path = file): DatabaseSync {
  return new DatabaseSync(path);
}

function ev(type: string, fields: Record<string, unknown> = {}): SingleFileEvent {
  return { event_type: type, ...fields };
}

async function appendFixtures(store: Store): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  for (const fixture of loadFixtures()) {
    const result = await store.append({ event: fixture.event, rawJson: fixture.raw });
    ids.set(fixture.name, result.event.id);
  }
  return ids;
}

function search(store: Store, query: EventQuery = {}): EventPage {
  return store.search({ limit: 1000, ...query });
}

function typesFound(store: Store, query: EventQuery): string[] {
  return search(store, query)
    .events.map((event) => event.event_type)
    .sort();
}

/** Follows nextCursor to the end; returns every id seen in order, and the number of pages. */
function walk(store: Store, query: EventQuery): { ids: number[]; pages: number } {
  const ids: number[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = store.search({ ...query, ...(cursor === undefined ? {} : { cursor }) });
    ids.push(...page.events.map((event) => event.id));
    cursor = page.nextCursor ?? undefined;
    pages++;
  } while (cursor !== undefined && pages < 1000);
  return { ids, pages };
}

describe('store: every fixture is stored and found', () => {
  const fixtures = loadFixtures();

  it('has the eleven fixtures to work with', () => {
    expect(fixtures.map((f) => f.name)).toEqual(EVENT_CATALOG.map((info) => info.type).sort());
  });

  it('stores each fixture once, with its catalog category, its payload as sent and its own timestamp', async () => {
    const store = open();
    for (const fixture of fixtures) {
      const { status, event } = await store.append({ event: fixture.event, rawJson: fixture.raw });
      expect(status).toBe('ok');
      expect(event.event_type).toBe(fixture.name);
      expect(event.category).toBe(describeEventType(fixture.name).category);
      expect(event.payload).toEqual(JSON.parse(fixture.raw));
      expect(event.occurred_at).toBe(new Date(fixture.event.timestamp as string).toISOString());
      expect(event.deliveries).toBe(1);
      expect(event.read).toBe(false);
      expect(event.received_at).toBe(new Date(T0).toISOString());
      expect(StoredEventSchema.parse(event)).toEqual(event);
      expect(store.get(event.id)).toEqual(event);
    }
    expect(store.counts().total).toBe(fixtures.length);
    expect(EventPageSchema.parse(search(store)).events).toHaveLength(fixtures.length);
  });

  it('finds each fixture by a type filter, and only it', async () => {
    const store = open();
    const ids = await appendFixtures(store);
    for (const fixture of fixtures) {
      const page = search(store, { types: [fixture.name] });
      expect(page.events.map((e) => e.id)).toEqual([ids.get(fixture.name)]);
    }
    expect(typesFound(store, { types: ['order.completed', 'task.created'] })).toEqual([
      'order.completed',
      'task.created',
    ]);
  });

  it.each([
    ['ord_12345', ['document.created', 'order.completed']],
    ['ord_12347', ['order.cancelled']],
    ['doc_88001', ['document.created', 'document.updated']],
    ['doc_87000', ['document.deleted']],
    ['ent_55501', ['document.deleted', 'order.cancelled']],
    ['ent_70001', ['entity.created']],
    ['jur_0042', ['jurisdiction.created', 'jurisdiction.updated']],
    ['tsk_3001', ['task.created']],
  ])('finds the events that carry the id %s', async (id, expected) => {
    const store = open();
    await appendFixtures(store);
    expect(typesFound(store, { text: id })).toEqual(expected);
  });

  it.each([
    ['Certificate', ['document.created', 'document.updated']],
    ['certified', ['document.updated']],
    ['Acme', ['entity.created']],
    ['acme', ['entity.created']],
    ['Northwind', ['entity.updated']],
    ['Delaware', ['order.submitted']],
    ['California', ['jurisdiction.created', 'jurisdiction.updated']],
    ['Cert', ['document.created', 'document.updated']],
    ['Certificate certified', ['document.updated']],
    ['"Annual Report"', ['order.submitted', 'task.created']],
    ['"Report Annual"', []],
    ['Zanzibar', []],
  ])('finds by a word of a name or value: %s', async (text, expected) => {
    const store = open();
    await appendFixtures(store);
    expect(typesFound(store, { text })).toEqual(expected);
  });

  it('finds all three order events, and nothing else, for the word "order"', async () => {
    const store = open();
    await appendFixtures(store);
    expect(typesFound(store, { text: 'order' })).toEqual(['order.cancelled', 'order.completed', 'order.submitted']);
  });

  it('filters by category, alone and combined with text', async () => {
    const store = open();
    await appendFixtures(store);
    for (const category of ['Entities', 'Documents', 'Jurisdictions', 'Tasks', 'Orders'] as const) {
      const expected = EVENT_CATALOG.filter((info) => info.category === category)
        .map((info) => info.type)
        .sort();
      expect(typesFound(store, { categories: [category] })).toEqual(expected);
    }
    expect(typesFound(store, { categories: ['Tasks', 'Entities'] })).toEqual([
      'entity.created',
      'entity.updated',
      'task.created',
    ]);
    expect(typesFound(store, { categories: ['Other'] })).toEqual([]);
    expect(typesFound(store, { text: 'ent_67890', categories: ['Orders'] })).toEqual([
      'order.completed',
      'order.submitted',
    ]);
  });

  it('stores an unknown event type verbatim, as category Other, and finds it', async () => {
    const store = open();
    await appendFixtures(store);
    const raw = '{"event_type":"invoice.paid","invoice_id":"inv_555","amount":125.5}';
    const { status, event } = await store.append({ event: JSON.parse(raw), rawJson: raw });
    expect(status).toBe('ok');
    expect(event).toMatchObject({
      event_type: 'invoice.paid',
      category: 'Other',
      payload: { event_type: 'invoice.paid', invoice_id: 'inv_555', amount: 125.5 },
    });
    const odd = 'Custom Thing/Ünïcode ✓ <b>';
    expect((await store.append({ event: ev(odd) })).event).toMatchObject({ event_type: odd, category: 'Other' });

    expect(typesFound(store, { types: ['invoice.paid'] })).toEqual(['invoice.paid']);
    expect(typesFound(store, { categories: ['Other'] })).toEqual([odd, 'invoice.paid'].sort());
    expect(typesFound(store, { text: 'invoice' })).toEqual(['invoice.paid']);
    expect(typesFound(store, { text: 'inv_555' })).toEqual(['invoice.paid']);
    expect(typesFound(store, { text: '125.5' })).toEqual(['invoice.paid']);
    expect(store.counts().byCategory.Other).toBe(2);
  });
});

describe('store: dedupe', () => {
  it('stores the same event appended twice once, and counts two deliveries', async () => {
    const store = open();
    const [fixture] = loadFixtures();
    if (!fixture) throw new Error('no fixture');
    const first = await store.append({ event: fixture.event, rawJson: fixture.raw });
    clock += 5_000;
    const second = await store.append({ event: JSON.parse(fixture.raw), rawJson: fixture.raw });
    expect(first.status).toBe('ok');
    expect(second.status).toBe('duplicate');
    expect(second.event.id).toBe(first.event.id);
    expect(second.event.deliveries).toBe(2);
    // The first delivery's time stays the event's time.
    expect(second.event.received_at).toBe(first.event.received_at);
    expect(store.get(first.event.id)?.deliveries).toBe(2);
    expect(store.counts().total).toBe(1);
    expect(search(store, { types: [fixture.name] }).events).toHaveLength(1);
  });

  it('counts every fixture delivered twice as one event each with two deliveries', async () => {
    const store = open();
    await appendFixtures(store);
    for (const fixture of loadFixtures()) {
      const again = await store.append({ event: fixture.event, rawJson: fixture.raw });
      expect(again.status).toBe('duplicate');
    }
    const events = search(store).events;
    expect(events).toHaveLength(loadFixtures().length);
    expect(events.every((event) => event.deliveries === 2)).toBe(true);
  });

  it('treats the same delivery id (webhook-id) as a retry even when the payloads differ', async () => {
    const store = open();
    const first = await store.append({ event: ev('order.completed', { status: 'a' }), deliveryId: 'msg_1' });
    const second = await store.append({ event: ev('order.updated', { status: 'b' }), deliveryId: 'msg_1' });
    expect(second.status).toBe('duplicate');
    expect(second.event.id).toBe(first.event.id);
    expect(second.event.deliveries).toBe(2);
    // What is kept is the first delivery.
    expect(store.get(first.event.id)?.payload).toEqual({ event_type: 'order.completed', status: 'a' });
    expect(store.counts().total).toBe(1);
  });

  it('keeps two deliveries with different delivery ids apart, even with equal payloads', async () => {
    const store = open();
    const event = ev('order.completed', { order_id: 'ord_1' });
    expect((await store.append({ event, deliveryId: 'msg_1' })).status).toBe('ok');
    expect((await store.append({ event, deliveryId: 'msg_2' })).status).toBe('ok');
    expect(store.counts().total).toBe(2);
  });

  it.each(['id', 'event_id'])('dedupes by the payload field %s when there is no delivery id', async (field) => {
    const store = open();
    const first = await store.append({ event: ev('task.created', { [field]: 'evt_42', attempt: 1 }) });
    const second = await store.append({ event: ev('task.created', { [field]: 'evt_42', attempt: 2 }) });
    const other = await store.append({ event: ev('task.created', { [field]: 'evt_43', attempt: 1 }) });
    expect([first.status, second.status, other.status]).toEqual(['ok', 'duplicate', 'ok']);
    expect(second.event.id).toBe(first.event.id);
    expect(store.counts().total).toBe(2);
  });

  it('keeps an update whose id field names the same resource as an earlier event of another type', async () => {
    const store = open();
    const created = await store.append({ event: ev('entity.created', { id: 'ent_1' }) });
    const updated = await store.append({ event: ev('entity.updated', { id: 'ent_1', name: 'Acme Ltd' }) });
    const retried = await store.append({ event: ev('entity.updated', { id: 'ent_1', name: 'Acme Ltd' }) });
    expect([created.status, updated.status, retried.status]).toEqual(['ok', 'ok', 'duplicate']);
    expect(typesFound(store, { text: 'ent_1' })).toEqual(['entity.created', 'entity.updated']);
    expect(store.get(updated.event.id)?.deliveries).toBe(2);
  });

  it('dedupes by canonical JSON: key order and whitespace do not matter, values do', async () => {
    const store = open();
    const rawA = '{"event_type":"entity.updated","a":1,"nested":{"x":1,"y":[1,2]}}';
    const rawB = '{ "nested": { "y": [1, 2], "x": 1 }, "a": 1, "event_type": "entity.updated" }';
    const rawC = '{"event_type":"entity.updated","a":1,"nested":{"x":1,"y":[2,1]}}';
    const a = await store.append({ event: JSON.parse(rawA), rawJson: rawA });
    const b = await store.append({ event: JSON.parse(rawB), rawJson: rawB });
    const c = await store.append({ event: JSON.parse(rawC), rawJson: rawC });
    expect([a.status, b.status, c.status]).toEqual(['ok', 'duplicate', 'ok']);
    expect(b.event.id).toBe(a.event.id);
    expect(c.event.id).not.toBe(a.event.id);
    expect(store.counts().total).toBe(2);
  });

  it('dedupes a retry that arrives in the same group commit as the original', async () => {
    const store = open();
    const event = ev('order.completed', { order_id: 'ord_9' });
    const results = await Promise.all([store.append({ event }), store.append({ event }), store.append({ event })]);
    expect(results.map((r) => r.status)).toEqual(['ok', 'duplicate', 'duplicate']);
    expect(new Set(results.map((r) => r.event.id)).size).toBe(1);
    expect(results[2]?.event.deliveries).toBe(3);
    expect(store.counts().total).toBe(1);
  });

  it('indexes a deduplicated event once: a search finds it once', async () => {
    const store = open();
    const event = ev('order.completed', { note: 'pelican' });
    await store.append({ event });
    await store.append({ event });
    expect(search(store, { text: 'pelican' }).events).toHaveLength(1);
  });
});

describe('store: group commit and close', () => {
  it('resolves 200 concurrent appends, each stored once, and keeps them all after reopening', async () => {
    const store = open();
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => store.append({ event: ev('task.created', { n: i }) })),
    );
    expect(results.every((r) => r.status === 'ok')).toBe(true);
    const ids = results.map((r) => r.event.id);
    expect(new Set(ids).size).toBe(200);
    for (const [i, result] of results.entries())
      expect(store.get(result.event.id)?.payload).toEqual(ev('task.created', { n: i }));
    expect(store.counts().total).toBe(200);
    await store.close();

    const reopened = open();
    expect(reopened.counts().total).toBe(200);
    expect(walk(reopened, { limit: 37 }).ids.sort((x, y) => x - y)).toEqual([...ids].sort((x, y) => x - y));
  });

  it('commits appends that arrive together in fewer transactions than events, resolving each after its commit', async () => {
    const store = open();
    const n = 50;
    // What the store publishes for each transaction (the bench reads the same channel), and when
    // each append resolved, in one timeline.
    const timeline: Array<{ committed: number } | { resolved: number; visible: boolean }> = [];
    const onCommit = (message: unknown) => timeline.push({ committed: (message as StoreCommit).events });
    subscribe(STORE_COMMIT_CHANNEL, onCommit);
    const db = rawDb();
    try {
      await Promise.all(
        Array.from({ length: n }, (_, i) =>
          store.append({ event: ev('task.created', { n: i }) }).then(({ event }) => {
            // Read by another connection the moment the promise resolves: committed, not pending.
            const visible = db.prepare('SELECT 1 FROM events WHERE id = ?').get(event.id) !== undefined;
            timeline.push({ resolved: i, visible });
          }),
        ),
      );
    } finally {
      unsubscribe(STORE_COMMIT_CHANNEL, onCommit);
      db.close();
    }
    const commits = timeline.flatMap((entry) => ('committed' in entry ? [entry.committed] : []));
    expect(commits.reduce((sum, events) => sum + events, 0)).toBe(n);
    expect(commits.length).toBeLessThan(n);
    // At every point of the timeline, no more appends have resolved than have been committed.
    let committed = 0;
    let resolved = 0;
    for (const entry of timeline) {
      if ('committed' in entry) committed += entry.committed;
      else {
        resolved++;
        const seen = { append: entry.resolved, beforeItsCommit: resolved > committed, visible: entry.visible };
        expect(seen).toEqual({ append: entry.resolved, beforeItsCommit: false, visible: true });
      }
    }
    expect(resolved).toBe(n);
  });

  it('has committed an event by the time its append resolves: another connection sees it', async () => {
    const store = open();
    const { event } = await store.append({ event: ev('order.completed', { order_id: 'ord_77' }) });
    const db = rawDb();
    try {
      const row = db.prepare('SELECT event_type FROM events WHERE id = ?').get(event.id) as { event_type: string };
      expect(row.event_type).toBe('order.completed');
    } finally {
      db.close();
    }
  });

  it('fails one bad event of a batch alone; the others of the batch are stored', async () => {
    const store = open();
    const settled = await Promise.allSettled([
      store.append({ event: ev('a.one') }),
      // A BigInt cannot be serialized: the only way to make one insert fail from the outside.
      store.append({ event: ev('a.bad', { big: 1n }) }),
      store.append({ event: ev('a.two') }),
    ]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((settled[1] as PromiseRejectedResult).reason).toBeInstanceOf(StoreUnavailableError);
    expect(typesFound(store, {})).toEqual(['a.one', 'a.two']);
  });

  it('finishes appends in flight when closed, then rejects appends with StoreUnavailableError', async () => {
    const store = open();
    const inFlight = store.append({ event: ev('order.completed', { order_id: 'ord_late' }) });
    await store.close();
    await expect(inFlight).resolves.toMatchObject({ status: 'ok' });
    await expect(store.append({ event: ev('order.completed') })).rejects.toBeInstanceOf(StoreUnavailableError);
    await store.close(); // a second close is harmless

    const reopened = open();
    expect(typesFound(reopened, { text: 'ord_late' })).toEqual(['order.completed']);
  });
});

describe('store: the payload is kept as sent', () => {
  it('keeps the raw JSON text byte for byte, and its key order', async () => {
    const store = open();
    const raw =
      '{ "zeta": 1, "event_type": "entity.created",\n  "alpha": "\\u00e9t\\u00e9", "n": 1.50, "list": [3, 1, 2] }';
    const { event } = await store.append({ event: JSON.parse(raw), rawJson: raw });
    expect(Object.keys(event.payload)).toEqual(['zeta', 'event_type', 'alpha', 'n', 'list']);
    expect(event.payload).toEqual({ zeta: 1, event_type: 'entity.created', alpha: 'été', n: 1.5, list: [3, 1, 2] });
    const db = rawDb();
    try {
      const row = db.prepare('SELECT payload FROM events WHERE id = ?').get(event.id) as { payload: string };
      expect(row.payload).toBe(raw);
    } finally {
      db.close();
    }
  });

  it('keeps a __proto__ key as an own key of the payload without polluting Object.prototype', async () => {
    const store = open();
    const raw =
      '{"event_type":"entity.updated","__proto__":{"polluted":"yes","note":"sneaky"},"constructor":{"prototype":{"polluted":"yes"}}}';
    const parsed = JSON.parse(raw) as SingleFileEvent;
    const { event } = await store.append({ event: parsed, rawJson: raw });
    for (const payload of [event.payload, store.get(event.id)?.payload, search(store).events[0]?.payload]) {
      expect(payload).toBeDefined();
      expect(Object.hasOwn(payload as object, '__proto__')).toBe(true);
      expect(Object.getPrototypeOf(payload)).toBe(Object.prototype);
      expect(Object.getOwnPropertyDescriptor(payload, '__proto__')?.value).toEqual({ polluted: 'yes', note: 'sneaky' });
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    // Values under the key are searchable like any others.
    expect(typesFound(store, { text: 'sneaky' })).toEqual(['entity.updated']);
  });

  it('serializes the event itself when no raw text is given', async () => {
    const store = open();
    const { event } = await store.append({ event: ev('task.created', { task_id: 'tsk_1', due: null }) });
    expect(store.get(event.id)?.payload).toEqual({ event_type: 'task.created', task_id: 'tsk_1', due: null });
  });

  it.each([
    ['2024-01-15T10:30:00Z', '2024-01-15T10:30:00.000Z'],
    ['2024-01-15T12:30:00.250+02:00', '2024-01-15T10:30:00.250Z'],
    ['yesterday', null],
    ['2024-02-31T00:00:00Z', null],
    ['2024-01-15', null],
    ['', null],
    [1705314600, null],
    [undefined, null],
  ])('takes occurred_at from the timestamp %j -> %j, and stores the event either way', async (timestamp, expected) => {
    const store = open();
    const event = { event_type: 'order.completed', ...(timestamp === undefined ? {} : { timestamp }) };
    const result = await store.append({ event: event as SingleFileEvent });
    expect(result.status).toBe('ok');
    expect(result.event.occurred_at).toBe(expected);
    expect(result.event.payload).toEqual(event);
  });
});

describe('store: pages, filters and read flags', () => {
  it('walks every event exactly once, newest first, following nextCursor', async () => {
    const store = open();
    const appended: number[] = [];
    for (let i = 0; i < 23; i++) {
      if (i % 4 !== 0) clock += 1_000; // some events share a millisecond: the id breaks the tie
      appended.push((await store.append({ event: ev('task.created', { n: i }) })).event.id);
    }
    const { ids, pages } = walk(store, { limit: 5 });
    expect(ids).toEqual([...appended].reverse());
    expect(pages).toBe(5);

    const times = ids.map((id) => Date.parse(store.get(id)?.received_at ?? ''));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it('ends with a null cursor when the last page is exactly full', async () => {
    const store = open();
    for (let i = 0; i < 10; i++) await store.append({ event: ev('task.created', { n: i }) });
    expect(search(store, { limit: 10 }).nextCursor).toBeNull();
    const first = store.search({ limit: 5 });
    expect(first.nextCursor).not.toBeNull();
    const second = store.search({ limit: 5, cursor: first.nextCursor as string });
    expect(second.events).toHaveLength(5);
    expect(second.nextCursor).toBeNull();
  });

  it('pages through a filtered result, and events arriving meanwhile do not disturb older pages', async () => {
    const store = open();
    const orders: number[] = [];
    for (let i = 0; i < 30; i++) {
      clock += 1_000;
      const type = i % 3 === 0 ? 'order.completed' : 'task.created';
      const { event } = await store.append({ event: ev(type, { n: i, note: 'walrus' }) });
      if (type === 'order.completed') orders.push(event.id);
    }
    const first = store.search({ text: 'walrus', types: ['order.completed'], limit: 4 });
    // New events land on top, not inside the pages already handed out.
    clock += 1_000;
    await store.append({ event: ev('order.completed', { n: 'late', note: 'walrus' }) });
    const rest = walk(store, {
      text: 'walrus',
      types: ['order.completed'],
      limit: 4,
      cursor: first.nextCursor as string,
    });
    expect([...first.events.map((e) => e.id), ...rest.ids]).toEqual([...orders].reverse());
  });

  it.each([
    'not-a-cursor',
    Buffer.from('1:2:3').toString('base64url'),
    Buffer.from('abc:def').toString('base64url'),
    Buffer.from('-1:5').toString('base64url'),
    '%%%',
  ])('rejects the cursor %j with InvalidQueryError', async (cursor) => {
    const store = open();
    await store.append({ event: ev('task.created') });
    expect(() => store.search({ cursor })).toThrow(InvalidQueryError);
  });

  it('filters by time: since is inclusive, until is exclusive', async () => {
    const store = open();
    for (let h = 0; h < 4; h++) {
      clock = T0 + h * HOUR;
      await store.append({ event: ev(`hour.${h}`) });
    }
    const iso = (ms: number) => new Date(ms).toISOString();
    expect(typesFound(store, { since: iso(T0 + HOUR), until: iso(T0 + 3 * HOUR) })).toEqual(['hour.1', 'hour.2']);
    expect(typesFound(store, { since: iso(T0 + 2 * HOUR) })).toEqual(['hour.2', 'hour.3']);
    expect(typesFound(store, { until: iso(T0 + 1) })).toEqual(['hour.0']);
    // An offset is honoured: 03:00+02:00 is 01:00Z.
    expect(typesFound(store, { since: '2024-02-01T03:00:00+02:00', until: iso(T0 + 2 * HOUR) })).toEqual(['hour.1']);
  });

  it('marks events read and unread, changing counts and the unreadOnly filter', async () => {
    const store = open();
    const ids = await appendFixtures(store);
    const total = ids.size;
    expect(store.counts()).toMatchObject({ total, unread: total });

    const picked = [ids.get('order.completed'), ids.get('task.created')] as number[];
    expect(store.markRead(picked, true)).toBe(2);
    expect(store.get(picked[0] as number)?.read).toBe(true);
    expect(store.counts().unread).toBe(total - 2);
    expect(search(store, { unreadOnly: true }).events.map((e) => e.id)).not.toContain(picked[0]);
    expect(search(store, { unreadOnly: true }).events).toHaveLength(total - 2);
    expect(typesFound(store, { unreadOnly: true, categories: ['Orders'] })).toEqual([
      'order.cancelled',
      'order.submitted',
    ]);

    expect(store.markRead(picked, true)).toBe(0); // already read: nothing changes
    expect(store.markRead([999_999], true)).toBe(0);
    expect(store.markRead([], true)).toBe(0);

    expect(store.markRead([picked[0] as number], false)).toBe(1);
    expect(store.get(picked[0] as number)?.read).toBe(false);
    expect(store.counts().unread).toBe(total - 1);
  });

  it('counts events by category and knows the latest arrival', async () => {
    const store = open();
    expect(store.counts()).toEqual({ total: 0, unread: 0, lastReceivedAt: null, byCategory: {} });
    await appendFixtures(store);
    clock += HOUR;
    await store.append({ event: ev('invoice.paid') });
    expect(store.counts()).toEqual({
      total: 12,
      unread: 12,
      lastReceivedAt: new Date(T0 + HOUR).toISOString(),
      byCategory: { Entities: 2, Documents: 3, Jurisdictions: 2, Tasks: 1, Orders: 3, Other: 1 },
    });
  });

  it('returns null for an id it does not have', () => {
    const store = open();
    expect(store.get(1)).toBeNull();
    expect(store.get(-5)).toBeNull();
  });
});

describe('store: hostile search text', () => {
  const hostile = [
    'AND',
    'OR',
    'NOT',
    'Acme AND',
    'AND OR NOT',
    '"',
    '""',
    '"""',
    "'",
    '*',
    'Acme*',
    '*Acme',
    'NEAR(',
    'NEAR(Acme Widgets, 2)',
    '-',
    '-foo',
    '--',
    'a:b',
    'entity_name:Acme',
    '{event_type}:order',
    '(',
    ')',
    '()',
    '^',
    '^Acme',
    '+',
    '🚀',
    '🚀 Acme',
    '👩‍👩‍👧‍👦',
    '%',
    '_',
    '\\',
    '\\%',
    ';',
    'a\u0000b',
    '\u0000',
    '\ud800',
    'ǅ\u0301',
    'ʰ',
    'x'.repeat(500),
    'a '.repeat(250),
    '"'.repeat(500),
    '('.repeat(500),
    'NEAR('.repeat(100),
    "'); DROP TABLE events; --",
    '" OR 1=1 --',
    "%' OR '1'='1",
  ];

  it.each(hostile.map((text) => [text.length > 40 ? `${text.slice(0, 30)}… (${text.length} chars)` : text, text]))(
    '%j returns a page or nothing, never an error',
    async (_label, text) => {
      const store = open();
      const ids = new Set((await appendFixtures(store)).values());
      for (const query of [{ text }, { text, types: ['order.completed'] }, { text, limit: 2 }]) {
        const page = store.search(query);
        expect(EventPageSchema.parse(page)).toEqual(page);
        for (const event of page.events) expect(ids.has(event.id)).toBe(true);
      }
      expect(store.counts().total).toBe(ids.size); // nothing was dropped or changed
    },
  );

  it('takes FTS operators as plain words, so they neither fail nor change the meaning', async () => {
    const store = open();
    await appendFixtures(store);
    expect(typesFound(store, { text: '-Acme' })).toEqual(['entity.created']);
    expect(typesFound(store, { text: '^Acme' })).toEqual(['entity.created']);
    expect(typesFound(store, { text: 'Acme*' })).toEqual(['entity.created']);
    expect(typesFound(store, { text: '"Acme' })).toEqual(['entity.created']);
    expect(typesFound(store, { text: '(Acme)' })).toEqual(['entity.created']);
    expect(typesFound(store, { text: 'NOT Acme' })).toEqual([]); // "not" is a word nothing contains
    expect(typesFound(store, { text: 'NEAR(' })).toEqual([]);
  });

  it('finds an emoji that is in a payload (substring fallback), and nothing when it is not', async () => {
    const store = open();
    await appendFixtures(store);
    expect(typesFound(store, { text: '🚀' })).toEqual([]);
    const event = ev('deploy.finished', { note: 'launched 🚀 today' });
    await store.append({ event, rawJson: JSON.stringify(event) });
    expect(typesFound(store, { text: '🚀' })).toEqual(['deploy.finished']);
    expect(typesFound(store, { text: ' 🚀 ' })).toEqual(['deploy.finished']);
    expect(typesFound(store, { text: '🚀', types: ['order.completed'] })).toEqual([]);
  });

  it('finds an emoji in a payload whose sender escaped it as \\uXXXX, in either hex case', async () => {
    const store = open();
    await appendFixtures(store);
    const lower = '{"event_type":"deploy.lower","note":"shipped \\ud83d\\ude80 today"}';
    const upper = '{"event_type":"deploy.upper","note":"shipped \\uD83D\\uDE80 today"}';
    const other = '{"event_type":"deploy.other","note":"shipped \\ud83c\\udf89 today"}';
    for (const raw of [lower, upper, other]) await store.append({ event: JSON.parse(raw), rawJson: raw });
    expect(search(store, { text: '🚀' }).events.map((e) => e.payload.note)).toEqual([
      'shipped 🚀 today',
      'shipped 🚀 today',
    ]);
    expect(typesFound(store, { text: '🚀' })).toEqual(['deploy.lower', 'deploy.upper']);
    expect(typesFound(store, { text: '🎉' })).toEqual(['deploy.other']);
  });

  it('matches %, _ and \\ literally in the substring fallback', async () => {
    const store = open();
    await appendFixtures(store);
    const percent = ev('promo.sent', { discount: '100%' });
    const backslash = ev('file.saved', { path: 'C:\\temp' });
    await store.append({ event: percent, rawJson: JSON.stringify(percent) });
    await store.append({ event: backslash, rawJson: JSON.stringify(backslash) });
    expect(typesFound(store, { text: '%' })).toEqual(['promo.sent']);
    expect(typesFound(store, { text: '\\' })).toEqual(['file.saved']);
    expect(typesFound(store, { text: '%%' })).toEqual([]);
  });

  it('survives an SQL injection attempt with the history intact', async () => {
    const store = open();
    await appendFixtures(store);
    store.search({ text: "'); DROP TABLE events; --" });
    store.search({ text: "%'; DELETE FROM events; --" });
    expect(store.counts().total).toBe(loadFixtures().length);
    expect(typesFound(store, { text: 'Acme' })).toEqual(['entity.created']);
  });
});

describe('store: retention', () => {
  async function appendAt(store: Store, at: number, word: string): Promise<number> {
    clock = at;
    return (await store.append({ event: ev('task.created', { note: word }) })).event.id;
  }

  function ftsRowids(word: string): number[] {
    const db = rawDb();
    try {
      return (
        db.prepare('SELECT rowid FROM events_fts WHERE events_fts MATCH ?').all(`"${word}"`) as Array<{
          rowid: number;
        }>
      ).map((row) => row.rowid);
    } finally {
      db.close();
    }
  }

  it('never gives a new event the id of a deleted one, even after the history was emptied', async () => {
    const store = open();
    const first = await appendAt(store, T0, 'aardvark');
    clock = T0 + 400 * DAY;
    expect(store.applyRetention({ maxAgeDays: 1, maxEvents: null })).toBe(1);
    expect(store.counts().total).toBe(0);
    const second = await appendAt(store, T0 + 400 * DAY, 'badger');
    expect(second).toBeGreaterThan(first);
    expect(store.get(first)).toBeNull();
  });

  it('deletes events older than maxAgeDays, with their index entries', async () => {
    const store = open();
    const day0 = await appendAt(store, T0, 'aardvark');
    const day10 = await appendAt(store, T0 + 10 * DAY, 'badger');
    const day20 = await appendAt(store, T0 + 20 * DAY, 'cheetah');
    const day30 = await appendAt(store, T0 + 30 * DAY, 'dingo');
    expect(ftsRowids('aardvark')).toEqual([day0]);

    clock = T0 + 30 * DAY;
    expect(store.applyRetention({ maxAgeDays: 15, maxEvents: null })).toBe(2);
    expect(store.get(day0)).toBeNull();
    expect(store.get(day10)).toBeNull();
    expect(walk(store, { limit: 10 }).ids).toEqual([day30, day20]);
    expect(search(store, { text: 'aardvark' }).events).toEqual([]);
    expect(search(store, { text: 'badger' }).events).toEqual([]);
    expect(ftsRowids('aardvark')).toEqual([]);
    expect(ftsRowids('badger')).toEqual([]);
    expect(ftsRowids('cheetah')).toEqual([day20]);
    expect(store.counts().total).toBe(2);
    expect(store.applyRetention({ maxAgeDays: 15, maxEvents: null })).toBe(0);
  });

  it('keeps an event exactly maxAgeDays old', async () => {
    const store = open();
    const id = await appendAt(store, T0, 'edge');
    clock = T0 + 7 * DAY;
    expect(store.applyRetention({ maxAgeDays: 7, maxEvents: null })).toBe(0);
    clock = T0 + 7 * DAY + 1;
    expect(store.applyRetention({ maxAgeDays: 7, maxEvents: null })).toBe(1);
    expect(store.get(id)).toBeNull();
  });

  it('keeps only the newest maxEvents, even when they share a millisecond', async () => {
    const store = open();
    const ids: number[] = [];
    for (let i = 0; i < 10; i++)
      ids.push((await store.append({ event: ev('task.created', { word: `w${i}x` }) })).event.id);
    expect(store.applyRetention({ maxAgeDays: null, maxEvents: 3 })).toBe(7);
    expect(walk(store, { limit: 100 }).ids).toEqual(ids.slice(-3).reverse());
    expect(search(store, { text: 'w0x' }).events).toEqual([]);
    expect(ftsRowids('w0x')).toEqual([]);
    expect(ftsRowids('w9x')).toEqual([ids[9]]);
    expect(store.applyRetention({ maxAgeDays: null, maxEvents: 3 })).toBe(0);
    expect(store.applyRetention({ maxAgeDays: null, maxEvents: 100 })).toBe(0);
  });

  it('applies the stricter of the two limits', async () => {
    const store = open();
    for (let d = 0; d < 10; d++) await appendAt(store, T0 + d * DAY, `day${d}x`);
    clock = T0 + 9 * DAY;
    // Age keeps days 5..9 (5 events); count keeps 3: count wins.
    expect(store.applyRetention({ maxAgeDays: 4, maxEvents: 3 })).toBe(7);
    expect(store.counts().total).toBe(3);
    // Count keeps 3; age keeps days 8..9: age wins.
    clock = T0 + 10 * DAY;
    expect(store.applyRetention({ maxAgeDays: 2, maxEvents: 3 })).toBe(1);
    expect(typesFound(store, {}).length).toBe(2);
    expect(store.applyRetention({ maxAgeDays: null, maxEvents: null })).toBe(0);
  });

  it('leaves no index entry of a deleted event behind: its words find nothing, the next event’s only it', async () => {
    const store = open();
    const old = await appendAt(store, T0, 'zebra');
    clock = T0 + 100 * DAY;
    expect(store.applyRetention({ maxAgeDays: 30, maxEvents: null })).toBe(1);
    const fresh = (await store.append({ event: ev('task.created', { note: 'giraffe' }) })).event.id;
    // AUTOINCREMENT: the freed id is never handed out again, so no old entry could be inherited.
    expect(fresh).toBe(old + 1);
    // Read from the index itself: a search joins the events table and would hide a stale entry.
    expect(ftsRowids('zebra')).toEqual([]);
    expect(ftsRowids('giraffe')).toEqual([fresh]);
    expect(search(store, { text: 'zebra' }).events).toEqual([]);
    expect(typesFound(store, { text: 'giraffe' })).toEqual(['task.created']);
  });

  it('stores a redelivery of a deleted event as a new event', async () => {
    const store = open();
    const event = ev('order.completed', { order_id: 'ord_old' });
    await store.append({ event });
    clock = T0 + 400 * DAY;
    store.applyRetention({ maxAgeDays: 365, maxEvents: null });
    const again = await store.append({ event });
    expect(again.status).toBe('ok');
    expect(again.event.deliveries).toBe(1);
  });
});

describe('store: restart, settings and schema', () => {
  it('keeps history, read flags, delivery counts and settings across close and reopen', async () => {
    const store = open();
    const ids = await appendFixtures(store);
    const completed = ids.get('order.completed') as number;
    store.markRead([completed], true);
    const completedFixture = loadFixtures().find((f) => f.name === 'order.completed');
    await store.append({ event: completedFixture?.event as SingleFileEvent });
    store.setSetting('settings', { retention: { maxAgeDays: 30 } });
    store.setSetting('receiver.token', 'tok_abc');
    const before = search(store);
    await store.close();

    const reopened = open();
    expect(search(reopened)).toEqual(before);
    expect(reopened.get(completed)).toMatchObject({ read: true, deliveries: 2 });
    expect(reopened.getSetting('settings')).toEqual({ retention: { maxAgeDays: 30 } });
    expect(reopened.getSetting('receiver.token')).toBe('tok_abc');
    expect(typesFound(reopened, { text: 'Acme' })).toEqual(['entity.created']);
    // Dedupe survives the restart too.
    expect((await reopened.append({ event: completedFixture?.event as SingleFileEvent })).event).toMatchObject({
      id: completed,
      deliveries: 3,
    });
  });

  it('keeps newest-first order after a restart even if the clock went back', async () => {
    const store = open();
    clock = T0 + DAY;
    const before = (await store.append({ event: ev('task.created', { n: 1 }) })).event.id;
    await store.close();
    clock = T0; // the wall clock was set back
    const reopened = open();
    const after = (await reopened.append({ event: ev('task.created', { n: 2 }) })).event.id;
    expect(walk(reopened, { limit: 1 }).ids).toEqual([after, before]);
  });

  it('round-trips settings of every JSON kind, overwrites them, and answers undefined for unknown keys', () => {
    const store = open();
    expect(store.getSetting('missing')).toBeUndefined();
    const values = ['text', 42, 0, true, false, null, [1, 'two', { three: 3 }], { a: { b: [null] } }];
    for (const [i, value] of values.entries()) {
      store.setSetting(`k${i}`, value);
      expect(store.getSetting(`k${i}`)).toEqual(value);
    }
    store.setSetting('k0', 'changed');
    expect(store.getSetting('k0')).toBe('changed');
  });

  it('sets the schema version and WAL mode, and creates missing parent directories', async () => {
    const nested = join(dir, 'a', 'b', 'history.sqlite');
    const store = open(nested);
    await store.append({ event: ev('task.created') });
    const db = rawDb(nested);
    try {
      const { user_version } = db.prepare('PRAGMA user_version').get() as { user_version: number };
      const { journal_mode } = db.prepare('PRAGMA journal_mode').get() as { journal_mode: string };
      expect(user_version).toBe(MIGRATIONS.length);
      expect(user_version).toBeGreaterThan(0);
      expect(journal_mode).toBe('wal');
    } finally {
      db.close();
    }
  });

  it('uses a connection in WAL mode with synchronous=FULL: every commit is fsynced before append resolves', () => {
    // Per connection, not kept in the file: read on the connection the store itself opens.
    const db = openConnection(file);
    try {
      expect(db.prepare('PRAGMA synchronous').get()).toEqual({ synchronous: 2 }); // 2 = FULL
      expect(db.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
    } finally {
      db.close();
    }
  });

  it('says that FTS5 is missing, and which Node.js is needed, when the probe finds no such module', () => {
    const db = new DatabaseSync(':memory:');
    try {
      // This Node's SQLite has FTS5: the real probe passes and leaves nothing behind.
      assertFts5(db);
      expect(db.prepare("SELECT count(*) AS n FROM temp.sqlite_master WHERE name = 'fts5_probe'").get()).toEqual({
        n: 0,
      });
      // The same check where the module is absent: a real "no such module" from SQLite.
      expect(() => assertFts5(db, 'CREATE VIRTUAL TABLE temp.probe USING fts5_absent(x)')).toThrow(
        new RegExp(
          `Node\\.js \\(${process.version.replaceAll('.', '\\.')}\\) has no FTS5 full-text search\\. .*needs Node\\.js 24`,
        ),
      );
      // Any other failure is reported as itself, not blamed on a missing module.
      expect(() => assertFts5(db, 'CREATE VIRTUAL TABLE')).toThrow(/incomplete input|syntax error/);
    } finally {
      db.close();
    }
  });

  it('reopens an existing history without re-running its migrations', async () => {
    const store = open();
    await store.append({ event: ev('task.created') });
    await store.close();
    const reopened = open();
    expect(reopened.counts().total).toBe(1);
  });

  it('lets several processes open a new history at the same moment: each migrates it or finds it done', async () => {
    // Real concurrent openers: worker threads, each with its own SQLite connection. For each of a
    // few fresh files, a barrier releases them together once all are ready, so that their first
    // statements race (one round alone loses the race only some of the time).
    const openers = 4;
    const files = Array.from({ length: 5 }, (_, round) => join(dir, `fresh-${round}.sqlite`));
    const barrier = new Int32Array(new SharedArrayBuffer(4));
    const source = `
      const { workerData, parentPort } = require('node:worker_threads');
      (async () => {
        const { openStore } = await import(workerData.storeUrl);
        const barrier = new Int32Array(workerData.barrier);
        const outcomes = [];
        for (const [round, file] of workerData.files.entries()) {
          Atomics.add(barrier, 0, 1);
          Atomics.notify(barrier, 0);
          const all = workerData.openers * (round + 1);
          for (let seen; (seen = Atomics.load(barrier, 0)) < all; ) Atomics.wait(barrier, 0, seen);
          try {
            const store = openStore(file);
            await store.append({ event: { event_type: 'task.created', opener: workerData.n } });
            await store.close();
            outcomes.push('opened');
          } catch (error) {
            outcomes.push(String(error?.stack ?? error));
          }
        }
        parentPort.postMessage(outcomes);
      })();`;
    const storeUrl = new URL('../electron/core/store.ts', import.meta.url).href;
    const outcomes = await Promise.all(
      Array.from(
        { length: openers },
        (_, n) =>
          new Promise<string[]>((resolve, reject) => {
            const worker = new Worker(source, {
              eval: true,
              workerData: { storeUrl, files, barrier: barrier.buffer, openers, n },
            });
            worker.once('message', (message: string[]) => {
              resolve(message);
              void worker.terminate();
            });
            worker.once('error', reject);
          }),
      ),
    );
    expect(outcomes.flat()).toEqual(Array(openers * files.length).fill('opened'));
    for (const path of files) {
      const db = rawDb(path);
      try {
        expect((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version).toBe(
          MIGRATIONS.length,
        );
        expect((db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n).toBe(openers);
      } finally {
        db.close();
      }
    }
  });

  it('refuses, with a clear message, a history written by a newer schema', async () => {
    const store = open();
    await store.append({ event: ev('task.created') });
    await store.close();
    const db = rawDb();
    db.exec(`PRAGMA user_version = ${MIGRATIONS.length + 5}`);
    db.close();
    expect(() => openStore(file)).toThrow(
      new RegExp(
        `newer SingleFile Monitor \\(schema ${MIGRATIONS.length + 5}\\); this version knows ${MIGRATIONS.length}`,
      ),
    );
    // The refused file is left as it was.
    const check = rawDb();
    try {
      expect((check.prepare('PRAGMA user_version').get() as { user_version: number }).user_version).toBe(
        MIGRATIONS.length + 5,
      );
      expect((check.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n).toBe(1);
    } finally {
      check.close();
    }
  });
});
