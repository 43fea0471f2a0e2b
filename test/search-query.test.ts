import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toEscapedLikePattern, toFtsQuery, toLikePattern } from '../electron/core/search-query.ts';

describe('toFtsQuery', () => {
  it.each([
    ['Acme', '"Acme"*'],
    ['  Acme   Widgets ', '"Acme"* "Widgets"*'],
    ['"Annual Report"', '"Annual Report"*'],
    ['"Annual Report" Delaware', '"Annual Report"* "Delaware"*'],
    ['" spaced "', '"spaced"*'],
    ['ord_12345', '"ord_12345"*'],
    ['AND', '"AND"*'],
    ['a OR b', '"a"* "OR"* "b"*'],
    ['NOT x', '"NOT"* "x"*'],
    ['NEAR(', '"NEAR("*'],
    ['-foo', '"-foo"*'],
    ['a:b', '"a:b"*'],
    ['^Acme', '"^Acme"*'],
    ['Acme*', '"Acme*"*'],
    ['a"b', '"a""b"*'],
    ['"open', '"""open"*'],
    ['🚀 Acme', '"Acme"*'],
    ['café', '"café"*'],
    ['東京', '"東京"*'],
    ['42', '"42"*'],
    ['a\u0000b', '"a"* "b"*'],
  ])('turns %j into %j', (text, expected) => {
    expect(toFtsQuery(text)).toBe(expected);
  });

  it.each([
    '',
    '   ',
    '"',
    '""',
    '" "',
    "'",
    '*',
    '-',
    '(',
    ')',
    '^',
    '%',
    '_',
    '\\',
    '🚀',
    '🚀 🎉',
    '\u0000',
    '.,;:!?',
  ])('gives null for %j, which has nothing a full-text token can be made of', (text) => {
    expect(toFtsQuery(text)).toBeNull();
  });
});

describe('toFtsQuery against a real FTS5 index', () => {
  let db: DatabaseSync;

  beforeAll(() => {
    db = new DatabaseSync(':memory:');
    db.exec(
      "CREATE VIRTUAL TABLE f USING fts5 (event_type, body, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2')",
    );
    const insert = db.prepare('INSERT INTO f (rowid, event_type, body) VALUES (?, ?, ?)');
    insert.run(1, 'entity.created', 'Acme Widgets LLC\nWyoming\nent_70001');
    insert.run(2, 'order.submitted', 'Annual Report\nDelaware\nord_12346\ncafé');
    insert.run(3, 'note.added', 'and or not near\n東京');
  });

  afterAll(() => db.close());

  function match(text: string): number[] {
    const query = toFtsQuery(text);
    if (query === null) return [];
    return (
      db.prepare('SELECT rowid FROM f WHERE f MATCH ? ORDER BY rowid').all(query) as Array<{ rowid: number }>
    ).map((row) => row.rowid);
  }

  it.each([
    ['acme', [1]],
    ['Acm', [1]],
    ['acme widgets', [1]],
    ['acme delaware', []],
    ['"Annual Report"', [2]],
    ['"Report Annual"', []],
    ['ord_12346', [2]],
    ['ord', [2]],
    ['cafe', [2]],
    ['CAFÉ', [2]],
    ['AND', [3]],
    ['NOT near', [3]],
    ['-acme', [1]],
    ['東京', [3]],
  ])('matches %j in rows %j', (text, rows) => {
    expect(match(text)).toEqual(rows);
  });

  const hostile = [
    'AND',
    'OR',
    'NOT',
    'AND OR NOT',
    '"',
    '""',
    "'",
    '*',
    'NEAR(',
    'NEAR(a b, 5)',
    '-',
    '-foo',
    'a:b',
    'body:acme',
    '{event_type body}:acme',
    '(',
    ')',
    '^',
    '🚀',
    '%',
    '_',
    '\\',
    'a\u0000b',
    '\u0000acme',
    '\ud800x',
    'x\udfff',
    '\u0001\u001f\u007f',
    'ʰ',
    '\u0301a',
    'x'.repeat(500),
    'a '.repeat(250),
    '"a" '.repeat(125),
    'NEAR('.repeat(100),
    '"'.repeat(499),
    "'); DROP TABLE f; --",
  ];

  it.each(hostile.map((text) => [text.length > 40 ? `${text.slice(0, 30)}… (${text.length} chars)` : text, text]))(
    'never makes an FTS5 syntax error of %j',
    (_label, text) => {
      expect(() => match(text)).not.toThrow();
    },
  );

  it('left the table intact after the hostile queries', () => {
    expect(match('acme')).toEqual([1]);
  });
});

describe('toLikePattern', () => {
  it.each([
    ['abc', '%abc%'],
    ['%', '%\\%%'],
    ['_', '%\\_%'],
    ['\\', '%\\\\%'],
    ['50%_off\\now', '%50\\%\\_off\\\\now%'],
    ['🚀', '%🚀%'],
  ])('escapes %j as %j', (text, pattern) => {
    expect(toLikePattern(text)).toBe(pattern);
  });

  it.each([
    ['50%', '50% off', true],
    ['50%', '50x off', false],
    ['a_c', 'xa_cx', true],
    ['a_c', 'abc', false],
    ['\\', 'C:\\temp', true],
    ['\\', 'C:/temp', false],
    ['🚀', 'go 🚀 go', true],
    ['ACME', 'acme', true],
  ])('with ESCAPE, %j matches %j: %s', (text, subject, expected) => {
    const db = new DatabaseSync(':memory:');
    try {
      const row = db.prepare("SELECT ? LIKE ? ESCAPE '\\' AS hit").get(subject, toLikePattern(text)) as { hit: number };
      expect(row.hit === 1).toBe(expected);
    } finally {
      db.close();
    }
  });
});

describe('toEscapedLikePattern', () => {
  it.each(['abc', '%', '\\', '', 'a\u007f'])('gives null for the plain ASCII text %j', (text) => {
    expect(toEscapedLikePattern(text)).toBeNull();
  });

  it.each([
    ['🚀', '%\\\\ud83d\\\\ude80%'],
    ['café', '%caf\\\\u00e9%'],
    ['50% é', '%50\\% \\\\u00e9%'],
  ])('spells %j as a JSON encoder that escapes non-ASCII would: %j', (text, pattern) => {
    expect(toEscapedLikePattern(text)).toBe(pattern);
  });

  it('matches the escaped JSON in either hex case, and not the unescaped text', () => {
    const db = new DatabaseSync(':memory:');
    try {
      const like = db.prepare("SELECT ? LIKE ? ESCAPE '\\' AS hit");
      const pattern = toEscapedLikePattern('🚀') as string;
      const hit = (subject: string) => (like.get(subject, pattern) as { hit: number }).hit === 1;
      expect(hit(JSON.stringify({ note: 'go 🚀' }).replace('🚀', '\\ud83d\\ude80'))).toBe(true);
      expect(hit('{"note":"go \\uD83D\\uDE80"}')).toBe(true);
      expect(hit('{"note":"go \\ud83c\\udf89"}')).toBe(false);
    } finally {
      db.close();
    }
  });
});
