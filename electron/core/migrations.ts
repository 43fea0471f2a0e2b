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
];
