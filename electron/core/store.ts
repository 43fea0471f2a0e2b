import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import { type EventPage, type EventQuery, EventQuerySchema } from '../../shared/api.ts';
import {
  type Category,
  describeEventType,
  occurredAtMs,
  type SingleFileEvent,
  type StoredEvent,
} from '../../shared/events.ts';
import { dedupeKey, searchableValues } from './event-json.ts';
import { MIGRATIONS } from './migrations.ts';
import { toEscapedLikePattern, toFtsQuery, toLikePattern } from './search-query.ts';

/** The store cannot take the write: the receiver answers 503 so that SingleFile retries. */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
}

/** A query the store cannot run as given (a cursor that is not ours): the caller's mistake. */
export class InvalidQueryError extends Error {
  override name = 'InvalidQueryError';
}

export interface AppendInput {
  event: SingleFileEvent;
  /** The body as received, kept verbatim as the payload; defaults to the event re-serialized. */
  rawJson?: string;
  /** The sender's delivery id (`webhook-id` header), the preferred dedupe key. */
  deliveryId?: string | null;
}

export interface AppendResult {
  status: 'ok' | 'duplicate';
  event: StoredEvent;
}

export interface RetentionPolicy {
  maxAgeDays: number | null;
  maxEvents: number | null;
}

export interface EventCounts {
  total: number;
  unread: number;
  lastReceivedAt: string | null;
  byCategory: Record<string, number>;
}

export interface Store {
  /** Resolves once the event is durably committed (fsync), together with others of its batch. */
  append(input: AppendInput): Promise<AppendResult>;
  search(query: EventQuery): EventPage;
  get(id: number): StoredEvent | null;
  markRead(ids: readonly number[], read: boolean): number;
  markAllRead(): number;
  counts(): EventCounts;
  /** Events per local day and category since `sinceMs`, and retries counted as duplicates. */
  dailyStats(sinceMs: number, tzOffsetMinutes: number): DailyStats;
  /** Deletes events past the policy's age and count; returns how many went. */
  applyRetention(policy: RetentionPolicy): number;
  getSetting(key: string): unknown;
  setSetting(key: string, value: unknown): void;
  /** Waits for pending writes, then closes; later appends fail with StoreUnavailableError. */
  close(): Promise<void>;
}

export interface DailyStats {
  /** Oldest day first; days without events are left out. */
  days: Array<{ day: string; byCategory: Record<string, number> }>;
  /** Deliveries beyond the first, over the whole history. */
  duplicates: number;
}

export interface StoreOptions {
  now?: () => number;
}

interface EventRow {
  id: number;
  event_type: string;
  category: string;
  received_at: number;
  occurred_at: number | null;
  deliveries: number;
  read: number;
  payload: string;
}

interface PendingAppend {
  input: AppendInput;
  resolve(result: AppendResult): void;
  reject(error: Error): void;
}

const DAY_MS = 86_400_000;
const RETENTION_BATCH = 5_000;

export function openStore(file: string, options: StoreOptions = {}): Store {
  const now = options.now ?? Date.now;
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new DatabaseSync(file);
  try {
    configure(db);
  } catch (error) {
    db.close();
    throw error;
  }

  const sql = {
    upsert: db.prepare(
      `INSERT INTO events (dedupe_key, event_type, category, received_at, occurred_at, last_delivery_at, payload)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (dedupe_key) DO UPDATE SET deliveries = deliveries + 1, last_delivery_at = excluded.last_delivery_at
       RETURNING id, event_type, category, received_at, occurred_at, deliveries, read, payload`,
    ),
    index: db.prepare('INSERT INTO events_fts (rowid, event_type, body) VALUES (?, ?, ?)'),
    get: db.prepare('SELECT * FROM events WHERE id = ?'),
    latest: db.prepare('SELECT max(received_at) AS at FROM events'),
    counts: db.prepare(
      'SELECT category, count(*) AS n, sum(read = 0) AS unread, max(received_at) AS last FROM events GROUP BY category',
    ),
    perDay: db.prepare(
      `SELECT (received_at + CAST(? AS INTEGER)) / 86400000 AS day, category, count(*) AS n
       FROM events WHERE received_at >= ? GROUP BY day, category ORDER BY day`,
    ),
    duplicates: db.prepare('SELECT coalesce(sum(deliveries - 1), 0) AS n FROM events'),
    getSetting: db.prepare('SELECT value FROM settings WHERE key = ?'),
    setSetting: db.prepare(
      'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ),
    oldestKept: db.prepare('SELECT received_at, id FROM events ORDER BY received_at DESC, id DESC LIMIT 1 OFFSET ?'),
    expiredIds: db.prepare(
      'SELECT id FROM events WHERE received_at < ? OR (received_at = ? AND id <= ?) ORDER BY received_at, id LIMIT ?',
    ),
    deleteEvent: db.prepare('DELETE FROM events WHERE id = ?'),
    deleteIndexed: db.prepare('DELETE FROM events_fts WHERE rowid = ?'),
  } satisfies Record<string, StatementSync>;

  // Received times only move forward, so "newest first" by time and by arrival agree even when
  // the wall clock is set back.
  let lastReceivedAt = Number((sql.latest.get() as { at: number | null }).at ?? 0);
  let pending: PendingAppend[] = [];
  let flushScheduled = false;
  let closed = false;

  function insertOne({ event, rawJson, deliveryId }: AppendInput): AppendResult {
    const payloadText = rawJson ?? JSON.stringify(event);
    const receivedAt = Math.max(now(), lastReceivedAt);
    const { category } = describeEventType(event.event_type);
    const row = sql.upsert.get(
      dedupeKey(event, deliveryId),
      event.event_type,
      category,
      receivedAt,
      occurredAtMs(event),
      receivedAt,
      payloadText,
    ) as unknown as EventRow;
    if (row.deliveries === 1) {
      lastReceivedAt = receivedAt;
      sql.index.run(row.id, event.event_type, searchableValues(event).join('\n'));
      return { status: 'ok', event: toStoredEvent(row) };
    }
    return { status: 'duplicate', event: toStoredEvent(row) };
  }

  // Group commit: every append that arrives before the next turn of the event loop shares one
  // transaction and one fsync. Each event has its own savepoint, so a bad one fails alone, and
  // no promise resolves before COMMIT has returned.
  function flush(): void {
    flushScheduled = false;
    const batch = pending;
    pending = [];
    if (batch.length === 0) return;
    const outcomes: Array<AppendResult | Error> = [];
    try {
      db.exec('BEGIN IMMEDIATE');
      for (const item of batch) {
        db.exec('SAVEPOINT item');
        try {
          outcomes.push(insertOne(item.input));
          db.exec('RELEASE item');
        } catch (error) {
          db.exec('ROLLBACK TO item');
          db.exec('RELEASE item');
          outcomes.push(unavailable(error));
        }
      }
      db.exec('COMMIT');
    } catch (error) {
      if (db.isTransaction) db.exec('ROLLBACK');
      lastReceivedAt = Number((sql.latest.get() as { at: number | null }).at ?? 0);
      for (const item of batch) item.reject(unavailable(error));
      return;
    }
    batch.forEach((item, i) => {
      const outcome = outcomes[i] as AppendResult | Error;
      if (outcome instanceof Error) item.reject(outcome);
      else item.resolve(outcome);
    });
  }

  function search(query: EventQuery): EventPage {
    const q = EventQuerySchema.parse(query);
    const where: string[] = [];
    const params: SQLInputValue[] = [];
    const text = q.text?.trim();
    if (text) {
      const match = toFtsQuery(text);
      if (match) {
        where.push('id IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ?)');
        params.push(match);
      } else {
        // Nothing a full-text token can be made of (emoji, punctuation): a substring of the JSON
        // as sent, also in its \u-escaped spelling, or of the type.
        const patterns = [toLikePattern(text), toEscapedLikePattern(text)].filter((p) => p !== null);
        const clauses = [...patterns.map(() => "payload LIKE ? ESCAPE '\\'"), "event_type LIKE ? ESCAPE '\\'"];
        where.push(`(${clauses.join(' OR ')})`);
        params.push(...patterns, toLikePattern(text));
      }
    }
    if (q.types?.length) {
      where.push(`event_type IN (${placeholders(q.types.length)})`);
      params.push(...q.types);
    }
    if (q.categories?.length) {
      where.push(`category IN (${placeholders(q.categories.length)})`);
      params.push(...q.categories);
    }
    if (q.since) {
      where.push('received_at >= ?');
      params.push(Date.parse(q.since));
    }
    if (q.until) {
      where.push('received_at < ?');
      params.push(Date.parse(q.until));
    }
    if (q.unreadOnly) where.push('read = 0');
    if (q.cursor) {
      const [at, id] = decodeCursor(q.cursor);
      where.push('(received_at < ? OR (received_at = ? AND id < ?))');
      params.push(at, at, id);
    }
    const rows = db
      .prepare(
        `SELECT * FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY received_at DESC, id DESC LIMIT ?`,
      )
      .all(...params, q.limit + 1) as unknown as EventRow[];
    const page = rows.slice(0, q.limit);
    const last = page.at(-1);
    return {
      events: page.map(toStoredEvent),
      nextCursor: rows.length > q.limit && last ? encodeCursor(last.received_at, last.id) : null,
    };
  }

  function applyRetention({ maxAgeDays, maxEvents }: RetentionPolicy): number {
    // Everything at or before this (time, id) goes: the older of the two limits wins.
    let cutoff: [number, number] | null = null;
    if (maxAgeDays !== null) cutoff = [now() - maxAgeDays * DAY_MS, 0];
    if (maxEvents !== null) {
      const row = sql.oldestKept.get(maxEvents) as { received_at: number; id: number } | undefined;
      if (row && (!cutoff || row.received_at > cutoff[0] || (row.received_at === cutoff[0] && row.id > cutoff[1]))) {
        cutoff = [row.received_at, row.id];
      }
    }
    if (!cutoff) return 0;
    let deleted = 0;
    // Small transactions, so that the receiver's commits are never held up for long.
    for (;;) {
      const ids = sql.expiredIds.all(cutoff[0], cutoff[0], cutoff[1], RETENTION_BATCH) as Array<{ id: number }>;
      if (ids.length === 0) return deleted;
      db.exec('BEGIN IMMEDIATE');
      try {
        for (const { id } of ids) {
          sql.deleteIndexed.run(id);
          sql.deleteEvent.run(id);
        }
        db.exec('COMMIT');
      } catch (error) {
        db.exec('ROLLBACK');
        throw error;
      }
      deleted += ids.length;
    }
  }

  return {
    append(input) {
      if (closed) return Promise.reject(new StoreUnavailableError('the event store is closed'));
      return new Promise((resolve, reject) => {
        pending.push({ input, resolve, reject });
        if (!flushScheduled) {
          flushScheduled = true;
          setImmediate(flush);
        }
      });
    },
    search,
    get(id) {
      const row = sql.get.get(id) as EventRow | undefined;
      return row ? toStoredEvent(row) : null;
    },
    markRead(ids, read) {
      if (ids.length === 0) return 0;
      const result = db
        .prepare(`UPDATE events SET read = ? WHERE id IN (${placeholders(ids.length)}) AND read != ?`)
        .run(read ? 1 : 0, ...ids, read ? 1 : 0);
      return Number(result.changes);
    },
    markAllRead() {
      return Number(db.prepare('UPDATE events SET read = 1 WHERE read = 0').run().changes);
    },
    counts() {
      const rows = sql.counts.all() as Array<{ category: string; n: number; unread: number; last: number }>;
      const byCategory = Object.fromEntries(rows.map((r) => [r.category, r.n]));
      const last = rows.reduce((max, r) => Math.max(max, r.last), 0);
      return {
        total: rows.reduce((sum, r) => sum + r.n, 0),
        unread: rows.reduce((sum, r) => sum + r.unread, 0),
        lastReceivedAt: last > 0 ? new Date(last).toISOString() : null,
        byCategory,
      };
    },
    dailyStats(sinceMs, tzOffsetMinutes) {
      const offsetMs = tzOffsetMinutes * 60_000;
      const rows = sql.perDay.all(offsetMs, sinceMs) as Array<{ day: number; category: string; n: number }>;
      const days = new Map<number, Record<string, number>>();
      for (const row of rows) {
        const counts = days.get(row.day) ?? {};
        counts[row.category] = row.n;
        days.set(row.day, counts);
      }
      return {
        days: [...days].map(([day, byCategory]) => ({
          day: new Date(day * 86_400_000).toISOString().slice(0, 10),
          byCategory,
        })),
        duplicates: Number((sql.duplicates.get() as { n: number }).n),
      };
    },
    applyRetention,
    getSetting(key) {
      const row = sql.getSetting.get(key) as { value: string } | undefined;
      return row ? JSON.parse(row.value) : undefined;
    },
    setSetting(key, value) {
      sql.setSetting.run(key, JSON.stringify(value));
    },
    async close() {
      if (closed) return;
      closed = true;
      flush();
      db.close();
    },
  };
}

function configure(db: DatabaseSync): void {
  db.exec('PRAGMA busy_timeout = 5000');
  assertFts5(db);
  db.exec('PRAGMA journal_mode = WAL');
  // FULL: each commit is fsynced before the receiver says 200; NORMAL could lose the last ones.
  db.exec('PRAGMA synchronous = FULL');
  migrate(db);
}

function assertFts5(db: DatabaseSync): void {
  try {
    db.exec('CREATE VIRTUAL TABLE temp.fts5_probe USING fts5(x); DROP TABLE temp.fts5_probe;');
  } catch {
    throw new Error(
      `The SQLite built into this Node.js (${process.version}) has no FTS5 full-text search. ` +
        'SingleFile Monitor needs Node.js 24 or newer.',
    );
  }
}

function migrate(db: DatabaseSync): void {
  const version = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
  if (version > MIGRATIONS.length) {
    throw new Error(
      `This history was written by a newer SingleFile Monitor (schema ${version}); this version knows ${MIGRATIONS.length}.`,
    );
  }
  for (let next = version; next < MIGRATIONS.length; next++) {
    db.exec('BEGIN IMMEDIATE');
    try {
      db.exec(MIGRATIONS[next] as string);
      db.exec(`PRAGMA user_version = ${next + 1}`);
      db.exec('COMMIT');
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    }
  }
}

function toStoredEvent(row: EventRow): StoredEvent {
  return {
    id: row.id,
    event_type: row.event_type,
    category: row.category as Category,
    received_at: new Date(row.received_at).toISOString(),
    occurred_at: row.occurred_at === null ? null : new Date(row.occurred_at).toISOString(),
    payload: JSON.parse(row.payload),
    deliveries: row.deliveries,
    read: row.read === 1,
  };
}

function unavailable(error: unknown): StoreUnavailableError {
  const message = error instanceof Error ? error.message : String(error);
  return new StoreUnavailableError(`could not store the event: ${message}`, { cause: error });
}

function placeholders(count: number): string {
  return Array.from({ length: count }, () => '?').join(', ');
}

function encodeCursor(receivedAt: number, id: number): string {
  return Buffer.from(`${receivedAt}:${id}`).toString('base64url');
}

function decodeCursor(cursor: string): [number, number] {
  const match = /^(\d{1,15}):(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match) throw new InvalidQueryError('invalid cursor');
  return [Number(match[1]), Number(match[2])];
}
