import { channel } from 'node:diagnostics_channel';
import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
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
import { searchSql } from './search-query.ts';

/** The store cannot take the write: the receiver answers 503 so that SingleFile retries. */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
}

/** A query the store cannot run as given (a cursor that is not ours): the caller's mistake. */
export class InvalidQueryError extends Error {
  override name = 'InvalidQueryError';
}

/**
 * Each group commit is published here (when someone listens: the bench does), so that batching
 * under load can be observed without a hook in the store's API.
 */
export const STORE_COMMIT_CHANNEL = 'singlefile-monitor:store:commit';
export interface StoreCommit {
  /** Appends in the transaction, stored or failed. */
  events: number;
  /** From BEGIN to the end of COMMIT (fsync included). */
  ms: number;
}
const commitChannel = channel(STORE_COMMIT_CHANNEL);

/** Each time a batch finds the history locked by another connection and will try again. */
export const STORE_LOCKED_CHANNEL = 'singlefile-monitor:store:locked';
export interface StoreLocked {
  /** Appends waiting for the lock. */
  waiting: number;
}
const lockedChannel = channel(STORE_LOCKED_CHANNEL);

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
  /**
   * Resolves once the event is durably committed (fsync), together with others of its batch. While
   * another process holds the write lock it waits, without holding up the event loop, up to 5 s in all;
   * then it rejects with StoreUnavailableError.
   */
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

interface PreparedRow {
  key: Buffer;
  type: string;
  category: Category;
  occurredAt: number | null;
  payload: string;
  /** The text full-text search indexes. */
  body: string;
}

/** Another connection holds the write lock: the batch is tried again later, nothing was written. */
class HistoryLocked extends Error {
  constructor(cause: unknown) {
    super('database is locked (another process is writing to the history)', { cause });
  }
}

/** An event of the batch failed in SQL: the batch is replayed with a savepoint per event. */
class ItemFailed extends Error {
  constructor(cause: unknown) {
    super('an event of the batch failed', { cause });
  }
}

interface PendingAppend {
  input: AppendInput;
  /** When append was called (performance.now()): a lock is waited for at most LOCK_WAIT_MS from here. */
  since: number;
  resolve(result: AppendResult): void;
  reject(error: Error): void;
}

const DAY_MS = 86_400_000;
/** How long an append waits, in all, for another process's write lock before it fails (503). */
const LOCK_WAIT_MS = 5_000;
/** How soon a batch that found the history locked tries again; the event loop serves others meanwhile. */
const LOCK_RETRY_MS = 20;
const RETENTION_BATCH = 5_000;
/** Search statements kept prepared; the SQL varies only with the filters present. */
const STATEMENT_CACHE = 64;

export function openStore(file: string, options: StoreOptions = {}): Store {
  const now = options.now ?? Date.now;
  const db = openConnection(file);

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
    counts: db.prepare('SELECT category, total, unread FROM event_counts WHERE total > 0'),
    perDay: db.prepare(
      `SELECT (received_at + CAST(? AS INTEGER)) / 86400000 AS day, category, count(*) AS n
       FROM events WHERE received_at >= ? GROUP BY day, category ORDER BY day`,
    ),
    duplicates: db.prepare('SELECT coalesce(sum(duplicates), 0) AS n FROM event_counts'),
    getSetting: db.prepare('SELECT value FROM settings WHERE key = ?'),
    setSetting: db.prepare(
      'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ),
    // The n-th oldest: with the oldest first, the offset is the (usually small) excess.
    nthOldest: db.prepare('SELECT received_at, id FROM events ORDER BY received_at, id LIMIT 1 OFFSET ?'),
    expiredIds: db.prepare('SELECT id FROM events WHERE (received_at, id) <= (?, ?) ORDER BY received_at, id LIMIT ?'),
    deleteEvent: db.prepare('DELETE FROM events WHERE id = ?'),
    deleteIndexed: db.prepare('DELETE FROM events_fts WHERE rowid = ?'),
    begin: db.prepare('BEGIN IMMEDIATE'),
    commit: db.prepare('COMMIT'),
    savepoint: db.prepare('SAVEPOINT item'),
    release: db.prepare('RELEASE item'),
    rollbackToSavepoint: db.prepare('ROLLBACK TO item'),
  } satisfies Record<string, StatementSync>;
  const searchStatements = new Map<string, StatementSync>();

  // Received times only move forward, so "newest first" by time and by id agree even when the
  // wall clock is set back (search relies on it). Re-read inside each write transaction, so that
  // another process writing to the same history (the CLI and the tray app) is taken into account.
  let lastReceivedAt = 0;
  let pending: PendingAppend[] = [];
  let flushScheduled = false;
  let retryTimer: NodeJS.Timeout | null = null;
  let closed = false;

  /** Everything about an event that is computed in JS, outside the transaction (and may throw). */
  function prepareRow({ event, rawJson, deliveryId }: AppendInput): PreparedRow {
    return {
      key: dedupeKey(event, deliveryId),
      type: event.event_type,
      category: describeEventType(event.event_type).category,
      occurredAt: occurredAtMs(event),
      payload: rawJson ?? JSON.stringify(event),
      body: searchableValues(event).join('\n'),
    };
  }

  function insertOne(prepared: PreparedRow): AppendResult {
    const receivedAt = Math.max(now(), lastReceivedAt);
    const row = sql.upsert.get(
      prepared.key,
      prepared.type,
      prepared.category,
      receivedAt,
      prepared.occurredAt,
      receivedAt,
      prepared.payload,
    ) as unknown as EventRow;
    if (row.deliveries === 1) {
      lastReceivedAt = receivedAt;
      sql.index.run(row.id, prepared.type, prepared.body);
      return { status: 'ok', event: toStoredEvent(row) };
    }
    return { status: 'duplicate', event: toStoredEvent(row) };
  }

  /** Runs `work` in its own write transaction. */
  function inTransaction<T>(work: () => T): T {
    sql.begin.run();
    try {
      const result = work();
      sql.commit.run();
      return result;
    } catch (error) {
      if (db.isTransaction) db.exec('ROLLBACK');
      throw error;
    }
  }

  /**
   * One transaction for the batch. With `isolate`, each event gets its own savepoint, so that a
   * failing one is undone alone; without, a failing event aborts the attempt (`ItemFailed`).
   * Savepoints are not free: FTS5 writes its pending terms out at each one, which made a savepoint
   * per event cost a third of the insert (measured in bench/), so they are only used to replay a
   * batch in which an event failed.
   */
  function writeBatch(prepared: ReadonlyArray<PreparedRow | Error>, isolate: boolean): Array<AppendResult | Error> {
    const outcomes: Array<AppendResult | Error> = [];
    beginBatch();
    try {
      lastReceivedAt = Math.max(lastReceivedAt, Number((sql.latest.get() as { at: number | null }).at ?? 0));
      for (const item of prepared) {
        if (item instanceof Error) outcomes.push(item);
        else if (!isolate) {
          try {
            outcomes.push(insertOne(item));
          } catch (error) {
            throw new ItemFailed(error);
          }
        } else {
          sql.savepoint.run();
          try {
            outcomes.push(insertOne(item));
            sql.release.run();
          } catch (error) {
            sql.rollbackToSavepoint.run();
            sql.release.run();
            outcomes.push(unavailable(error));
          }
        }
      }
      sql.commit.run();
    } catch (error) {
      if (db.isTransaction) db.exec('ROLLBACK');
      throw error;
    }
    return outcomes;
  }

  /**
   * BEGIN IMMEDIATE for a batch, without the busy timeout: commits run on the event loop, and
   * waiting there for another process's lock (a markAllRead or retention in the tray app while
   * `serve` runs) would freeze the receiver, the dashboard and SSE for the whole wait. A locked
   * history throws HistoryLocked at once and flush() tries again on a timer. Once closing, nothing
   * else is left to serve, so the last batch waits as every other write does. (Set with exec: a
   * prepared PRAGMA busy_timeout takes effect when prepared, not when run.)
   */
  function beginBatch(): void {
    if (closed) {
      sql.begin.run();
      return;
    }
    db.exec('PRAGMA busy_timeout = 0');
    try {
      sql.begin.run();
    } catch (error) {
      throw isBusy(error) ? new HistoryLocked(error) : error;
    } finally {
      db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    }
  }

  /** The history is locked: fails the appends that have waited long enough, retries the rest soon. */
  function retryLater(batch: PendingAppend[], error: HistoryLocked): void {
    const now = performance.now();
    for (const item of batch) {
      if (now - item.since >= LOCK_WAIT_MS) item.reject(unavailable(error));
      else pending.push(item);
    }
    if (pending.length === 0) return;
    if (lockedChannel.hasSubscribers) lockedChannel.publish({ waiting: pending.length } satisfies StoreLocked);
    flushScheduled = true;
    retryTimer = setTimeout(flush, LOCK_RETRY_MS);
  }

  // Group commit: every append that arrives before the next turn of the event loop shares one
  // transaction and one fsync. A bad event fails alone (the batch is replayed with a savepoint
  // per event), and no promise resolves before COMMIT has returned.
  function flush(): void {
    flushScheduled = false;
    retryTimer = null;
    const batch = pending;
    pending = [];
    if (batch.length === 0) return;
    const prepared = batch.map((item) => {
      try {
        return prepareRow(item.input);
      } catch (error) {
        return unavailable(error);
      }
    });
    const lastBefore = lastReceivedAt;
    const began = performance.now();
    let outcomes: Array<AppendResult | Error>;
    try {
      try {
        outcomes = writeBatch(prepared, false);
      } catch (error) {
        if (!(error instanceof ItemFailed)) throw error;
        lastReceivedAt = lastBefore;
        outcomes = writeBatch(prepared, true);
      }
    } catch (error) {
      lastReceivedAt = lastBefore;
      if (error instanceof HistoryLocked) retryLater(batch, error);
      else for (const item of batch) item.reject(unavailable(error));
      return;
    }
    if (commitChannel.hasSubscribers) {
      commitChannel.publish({ events: batch.length, ms: performance.now() - began } satisfies StoreCommit);
    }
    batch.forEach((item, i) => {
      const outcome = outcomes[i] as AppendResult | Error;
      if (outcome instanceof Error) item.reject(outcome);
      else item.resolve(outcome);
    });
  }

  function search(query: EventQuery): EventPage {
    const q = EventQuerySchema.parse(query);
    const { sql: text, params } = searchSql({
      text: q.text,
      types: q.types,
      categories: q.categories,
      since: q.since === undefined ? undefined : Date.parse(q.since),
      until: q.until === undefined ? undefined : Date.parse(q.until),
      unreadOnly: q.unreadOnly,
      before: q.cursor ? decodeCursor(q.cursor) : null,
      limit: q.limit + 1,
    });
    let statement = searchStatements.get(text);
    if (!statement) {
      if (searchStatements.size >= STATEMENT_CACHE) searchStatements.clear();
      statement = db.prepare(text);
      searchStatements.set(text, statement);
    }
    const rows = statement.all(...params) as unknown as EventRow[];
    const page = rows.slice(0, q.limit);
    const last = page.at(-1);
    return {
      events: page.map(toStoredEvent),
      nextCursor: rows.length > q.limit && last ? encodeCursor(last.received_at, last.id) : null,
    };
  }

  function total(): number {
    return (sql.counts.all() as Array<{ total: number }>).reduce((sum, r) => sum + r.total, 0);
  }

  function applyRetention({ maxAgeDays, maxEvents }: RetentionPolicy): number {
    // Everything at or before this (time, id) goes: the older of the two limits wins.
    let cutoff: [number, number] | null = null;
    if (maxAgeDays !== null) cutoff = [now() - maxAgeDays * DAY_MS, 0];
    if (maxEvents !== null) {
      // The kept count comes from the counters, so a history within its limit costs nothing here.
      const excess = total() - maxEvents;
      const row = excess > 0 ? (sql.nthOldest.get(excess - 1) as { received_at: number; id: number }) : undefined;
      if (row && (!cutoff || row.received_at > cutoff[0] || (row.received_at === cutoff[0] && row.id > cutoff[1]))) {
        cutoff = [row.received_at, row.id];
      }
    }
    if (!cutoff) return 0;
    let deleted = 0;
    // Small transactions, so that the receiver's commits are never held up for long.
    for (;;) {
      const ids = sql.expiredIds.all(cutoff[0], cutoff[1], RETENTION_BATCH) as Array<{ id: number }>;
      if (ids.length === 0) return deleted;
      inTransaction(() => {
        for (const { id } of ids) {
          sql.deleteIndexed.run(id);
          sql.deleteEvent.run(id);
        }
      });
      deleted += ids.length;
    }
  }

  return {
    append(input) {
      if (closed) return Promise.reject(new StoreUnavailableError('the event store is closed'));
      return new Promise((resolve, reject) => {
        pending.push({ input, since: performance.now(), resolve, reject });
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
      const rows = sql.counts.all() as Array<{ category: string; total: number; unread: number }>;
      const last = Number((sql.latest.get() as { at: number | null }).at ?? 0);
      return {
        total: rows.reduce((sum, r) => sum + r.total, 0),
        unread: rows.reduce((sum, r) => sum + r.unread, 0),
        lastReceivedAt: last > 0 ? new Date(last).toISOString() : null,
        byCategory: Object.fromEntries(rows.map((r) => [r.category, r.total])),
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
      if (retryTimer) clearTimeout(retryTimer);
      flush();
      db.close();
    },
  };
}

/**
 * The store's connection to the history, configured (WAL, synchronous=FULL, FTS5 checked) and
 * migrated; exported so that tests can check the settings on the very connection a store uses.
 */
export function openConnection(file: string): DatabaseSync {
  if (file !== ':memory:') {
    mkdirSync(dirname(file), { recursive: true });
    assertWritable(file);
  }
  const db = new DatabaseSync(file);
  try {
    configure(db);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

/** How long a statement waits for another connection's lock before it fails. */
const BUSY_TIMEOUT_MS = 5_000;

function configure(db: DatabaseSync): void {
  db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
  assertFts5(db);
  enableWal(db);
  // FULL: each commit is fsynced before the receiver says 200; NORMAL could lose the last ones.
  db.exec('PRAGMA synchronous = FULL');
  migrate(db);
}

/**
 * WAL mode is kept in the file, so only the first opening of a new history switches to it. Two
 * processes doing that at once contend for the same locks, and SQLite then fails one of them with
 * "database is locked" at once rather than wait (its busy timeout is skipped where waiting could
 * deadlock): that one lets go, waits a little and tries again.
 */
function enableWal(db: DatabaseSync): void {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  for (;;) {
    try {
      db.exec('PRAGMA journal_mode = WAL');
      return;
    } catch (error) {
      if (!isBusy(error) || Date.now() > deadline) throw error;
      // Still opening, nothing else to serve yet: a plain blocking pause.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
}

/** SQLITE_BUSY, plain or extended: another connection holds the lock this one needs. */
function isBusy(error: unknown): boolean {
  const code = (error as { errcode?: unknown } | null)?.errcode;
  return typeof code === 'number' && (code & 0xff) === 5;
}

const FTS5_PROBE = 'CREATE VIRTUAL TABLE temp.fts5_probe USING fts5(x); DROP TABLE temp.fts5_probe;';

/**
 * Fails with a message a person can act on when this Node's SQLite has no FTS5 (search needs
 * it), instead of a "no such module" from deep inside the first migration. `probe` is the
 * statement that needs the module; its test names a module that exists nowhere.
 */
export function assertFts5(db: DatabaseSync, probe = FTS5_PROBE): void {
  try {
    db.exec(probe);
  } catch (error) {
    // Anything else (a locked or broken file) is reported as itself, not as a missing module.
    if (!/no such module/i.test(error instanceof Error ? error.message : '')) throw error;
    throw new Error(
      `The SQLite built into this Node.js (${process.version}) has no FTS5 full-text search. ` +
        'SingleFile Monitor needs Node.js 24 or newer.',
      { cause: error },
    );
  }
}

/**
 * Brings the schema up to date. The version is read again inside the write transaction: two
 * processes opening a new history at once (the tray app and the CLI, or `serve &` then `url`)
 * would otherwise both see version 0, and the second would fail on "table events already
 * exists". All missing steps go in that one transaction, so a history is never half-migrated.
 */
function migrate(db: DatabaseSync): void {
  // Without the lock, so that the common case (up to date) never waits for a writer.
  if (schemaVersion(db) === MIGRATIONS.length) return;
  db.exec('BEGIN IMMEDIATE');
  try {
    const version = schemaVersion(db);
    if (version > MIGRATIONS.length) {
      throw new Error(
        `This history was written by a newer SingleFile Monitor (schema ${version}); this version knows ${MIGRATIONS.length}.`,
      );
    }
    for (const step of MIGRATIONS.slice(version)) db.exec(step);
    db.exec(`PRAGMA user_version = ${MIGRATIONS.length}`);
    db.exec('COMMIT');
  } catch (error) {
    db.exec('ROLLBACK');
    throw error;
  }
}

function schemaVersion(db: DatabaseSync): number {
  return (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
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

/**
 * Refuses a history it could not write before SQLite opens it: opening a read-only file makes
 * SQLite create its -shm read-only too, and that stale file would keep every later start
 * read-only even after the person made the history writable again.
 */
function assertWritable(file: string): void {
  for (const path of [dirname(file), file, `${file}-wal`, `${file}-shm`]) {
    if (!existsSync(path)) continue;
    try {
      accessSync(path, constants.R_OK | constants.W_OK);
    } catch {
      throw new Error(
        `The history ${path} is read-only; SingleFile Monitor must be able to write to it (check its permissions).`,
      );
    }
  }
}
