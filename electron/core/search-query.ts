/**
 * Turns what a person types into a safe FTS5 MATCH expression. Every word becomes a quoted
 * prefix term, so FTS5 operators (`AND`, `NEAR(`, `*`, `-`, `:`) and stray quotes are plain
 * text, never syntax. "Quoted words" stay together as a phrase. Words are ANDed.
 *
 * Returns null when nothing in the text can be a full-text token (only punctuation or emoji);
 * the store then falls back to a plain substring match.
 */
export function toFtsQuery(text: string): string | null {
  const terms: string[] = [];
  // FTS5 reads its query as a C string: a NUL would cut it short ("unterminated string").
  const clean = text.replaceAll('\u0000', ' ');
  for (const match of clean.matchAll(/"([^"]*)"|(\S+)/gu)) {
    const word = (match[1] ?? match[2] ?? '').trim();
    if (!/[\p{L}\p{N}]/u.test(word)) continue;
    terms.push(`"${word.replaceAll('"', '""')}"*`);
  }
  return terms.length > 0 ? terms.join(' ') : null;
}

/** Escapes `%`, `_` and `\` for a LIKE pattern with `ESCAPE '\'`. */
export function toLikePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * The LIKE pattern for the text as a sender that escapes non-ASCII characters would have written
 * it in its JSON (`\ud83d\ude80`: PHP's and Python's encoders do so by default), so that the
 * substring fallback still finds an emoji kept in such a payload. LIKE ignores ASCII case, so
 * `\uD83D` matches too. Null when the text is plain ASCII (the pattern would be the same).
 */
export function toEscapedLikePattern(text: string): string | null {
  if (!/[\u0080-\uffff]/.test(text)) return null;
  // Without the `u` flag the regex sees UTF-16 code units: an emoji becomes its surrogate pair.
  const escaped = text.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return toLikePattern(escaped);
}

/** A search as the store runs it: the request's filters, parsed, with times in epoch ms. */
export interface SearchFilters {
  text?: string | undefined;
  types?: readonly string[] | undefined;
  categories?: readonly string[] | undefined;
  since?: number | undefined;
  until?: number | undefined;
  unreadOnly?: boolean | undefined;
  /** Strictly older than this (received_at, id): where the previous page ended. */
  before?: readonly [receivedAt: number, id: number] | null | undefined;
  /** Rows to fetch. */
  limit: number;
}

export interface SearchSql {
  sql: string;
  params: Array<string | number>;
}

/**
 * The SQL of one page of a search, newest first. The SQL text depends only on which filters are
 * present and how many types and categories there are, so the store can cache its statements.
 *
 * With full-text words the index is the outer loop, walked from its highest rowid down, and the
 * walk stops as soon as the page is full: a word that matches 100,000 events costs a page, not a
 * sort of 100,000 rows. That order is the history's order because the store gives ids in the
 * order of received_at (an event never gets an earlier time than one stored before it).
 */
export function searchSql(filters: SearchFilters): SearchSql {
  const where: string[] = [];
  const params: Array<string | number> = [];
  const text = filters.text?.trim();
  const match = text ? toFtsQuery(text) : null;
  if (text && !match) {
    // Nothing a full-text token can be made of (emoji, punctuation): a substring of the JSON
    // as sent, also in its \u-escaped spelling, or of the type.
    const patterns = [toLikePattern(text), toEscapedLikePattern(text)].filter((p) => p !== null);
    const clauses = [...patterns.map(() => "e.payload LIKE ? ESCAPE '\\'"), "e.event_type LIKE ? ESCAPE '\\'"];
    where.push(`(${clauses.join(' OR ')})`);
    params.push(...patterns, toLikePattern(text));
  }
  if (filters.types?.length) {
    where.push(`e.event_type IN (${placeholders(filters.types.length)})`);
    params.push(...filters.types);
  }
  if (filters.categories?.length) {
    where.push(`e.category IN (${placeholders(filters.categories.length)})`);
    params.push(...filters.categories);
  }
  if (filters.since !== undefined) {
    where.push('e.received_at >= ?');
    params.push(filters.since);
  }
  if (filters.until !== undefined) {
    where.push('e.received_at < ?');
    params.push(filters.until);
  }
  if (filters.unreadOnly) where.push('e.read = 0');
  if (filters.before) {
    where.push('(e.received_at, e.id) < (?, ?)');
    params.push(filters.before[0], filters.before[1]);
  }
  if (match) {
    // CROSS JOIN keeps the index as the outer loop; the rowid bound lets FTS5 start at the cursor.
    const bound = filters.before ? ' AND events_fts.rowid < ?' : '';
    return {
      sql: `SELECT e.* FROM events_fts CROSS JOIN events AS e ON e.id = events_fts.rowid
        WHERE events_fts MATCH ?${bound}${where.map((w) => ` AND ${w}`).join('')}
        ORDER BY events_fts.rowid DESC LIMIT ?`,
      params: [match, ...(filters.before ? [filters.before[1]] : []), ...params, filters.limit],
    };
  }
  return {
    sql: `SELECT e.* FROM events AS e ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY e.received_at DESC, e.id DESC LIMIT ?`,
    params: [...params, filters.limit],
  };
}

function placeholders(count: number): string {
  return Array.from({ length: count }, () => '?').join(', ');
}
