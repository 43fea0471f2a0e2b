/**
 * The history's schema, one step per entry; `PRAGMA user_version` counts the steps applied.
 * Never edit a step that has shipped: add the next one.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE events (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused, even after retention empties the table
    dedupe_key       BLOB    NOT NULL UNIQUE,
    event_type       TEXT    NOT NULL,
    category         TEXT    NOT NULL,
    received_at      INTEGER NOT NULL,  -- epoch ms, first delivery
    occurred_at      INTEGER,           -- epoch ms, the payload's own timestamp when valid
    last_delivery_at INTEGER NOT NULL,
    deliveries       INTEGER NOT NULL DEFAULT 1,
    read             INTEGER NOT NULL DEFAULT 0,
    payload          TEXT    NOT NULL   -- the JSON body as received
  );
  -- Newest-first pages, alone or within one type or category; rowid breaks ties.
  CREATE INDEX events_by_time ON events (received_at);
  CREATE INDEX events_by_type_time ON events (event_type, received_at);
  CREATE INDEX events_by_category_time ON events (category, received_at);

  -- Contentless: the text lives once, in events.payload; the index only points at rowids.
  CREATE VIRTUAL TABLE events_fts USING fts5 (
    event_type, body,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
  );

  CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL  -- JSON
  ) WITHOUT ROWID;
  `,
  // 2: what a million events need (bench/, issue 6).
  `
  -- Totals per category, kept by triggers in the writing transaction, so that the status, the
  -- stats and retention never count a million rows.
  CREATE TABLE event_counts (
    category   TEXT PRIMARY KEY,
    total      INTEGER NOT NULL DEFAULT 0,
    unread     INTEGER NOT NULL DEFAULT 0,
    duplicates INTEGER NOT NULL DEFAULT 0  -- deliveries beyond the first
  ) WITHOUT ROWID;
  INSERT INTO event_counts (category, total, unread, duplicates)
    SELECT category, count(*), sum(read = 0), sum(deliveries - 1) FROM events GROUP BY category;

  CREATE TRIGGER event_counts_insert AFTER INSERT ON events BEGIN
    INSERT INTO event_counts (category, total, unread, duplicates)
      VALUES (NEW.category, 1, NEW.read = 0, NEW.deliveries - 1)
      ON CONFLICT (category) DO UPDATE SET
        total = total + 1, unread = unread + excluded.unread, duplicates = duplicates + excluded.duplicates;
  END;
  CREATE TRIGGER event_counts_delete AFTER DELETE ON events BEGIN
    UPDATE event_counts
      SET total = total - 1, unread = unread - (OLD.read = 0), duplicates = duplicates - (OLD.deliveries - 1)
      WHERE category = OLD.category;
  END;
  CREATE TRIGGER event_counts_update AFTER UPDATE OF category, read, deliveries ON events BEGIN
    UPDATE event_counts
      SET total = total - 1, unread = unread - (OLD.read = 0), duplicates = duplicates - (OLD.deliveries - 1)
      WHERE category = OLD.category;
    INSERT INTO event_counts (category, total, unread, duplicates)
      VALUES (NEW.category, 1, NEW.read = 0, NEW.deliveries - 1)
      ON CONFLICT (category) DO UPDATE SET
        total = total + 1, unread = unread + excluded.unread, duplicates = duplicates + excluded.duplicates;
  END;

  -- Newest-first pages as before (received_at, then id), and events per day and category (the
  -- stats) from the index alone, without reading the rows.
  DROP INDEX events_by_time;
  CREATE INDEX events_by_time_id_category ON events (received_at, id, category);
  `,
];
