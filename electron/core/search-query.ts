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
