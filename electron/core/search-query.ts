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
  for (const match of text.matchAll(/"([^"]*)"|(\S+)/gu)) {
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
