import { describe, expect, it } from 'vitest';
import { canonicalJson, dedupeKey, jsonDepth, searchableValues } from '../electron/core/event-json.ts';
import type { SingleFileEvent } from '../shared/events.ts';
import { loadFixtures } from './helpers/fixtures.ts';

const LEVELS = 100_000;

/** `{"a":{"a":…{}…}}` nested `levels` objects deep, built without recursion. */
function nestedObject(levels: number): unknown {
  let value: Record<string, unknown> = {};
  for (let i = 1; i < levels; i++) value = { a: value };
  return value;
}

describe('jsonDepth', () => {
  it.each([
    [null, 0],
    ['text', 0],
    [42, 0],
    [{}, 1],
    [[], 1],
    [{ a: 1, b: 'x' }, 1],
    [{ a: { b: [1, { c: null }] } }, 4],
    [[[], [[]], [[[]]]], 4],
  ])('measures %j as %i deep', (value, depth) => {
    expect(jsonDepth(value)).toBe(depth);
  });

  it('measures 100,000 levels of objects without overflowing the stack', () => {
    expect(jsonDepth(nestedObject(LEVELS))).toBe(LEVELS);
  });

  it('measures 100,000 levels of parsed arrays without overflowing the stack', () => {
    const value: unknown = JSON.parse(`${'['.repeat(LEVELS)}${']'.repeat(LEVELS)}`);
    expect(jsonDepth(value)).toBe(LEVELS);
  });

  it('stops counting soon after the limit', () => {
    const depth = jsonDepth(nestedObject(LEVELS), 64);
    expect(depth).toBeGreaterThan(64);
    expect(depth).toBeLessThan(LEVELS);
    expect(jsonDepth(nestedObject(64), 64)).toBe(64);
  });
});

describe('searchableValues', () => {
  it('lists every string and finite number in document order, never keys, booleans or null', () => {
    const value = {
      event_type: 'order.completed',
      keyword: ['first', { inner: 'second', n: 3 }],
      flag: true,
      empty: null,
      last: 4.5,
    };
    expect(searchableValues(value)).toEqual(['order.completed', 'first', 'second', '3', '4.5']);
  });

  it('gives the values of each fixture in the order they were written', () => {
    for (const { raw, event } of loadFixtures()) {
      const expected = Object.values(JSON.parse(raw) as Record<string, unknown>).flatMap((v) =>
        Array.isArray(v) ? v.map(String) : [String(v)],
      );
      expect(searchableValues(event)).toEqual(expected);
    }
  });

  it('handles an object with 100,000 keys', () => {
    const value: Record<string, string> = {};
    for (let i = 0; i < LEVELS; i++) value[`k${i}`] = `v${i}`;
    const found = searchableValues(value);
    expect(found).toHaveLength(LEVELS);
    expect(found[0]).toBe('v0');
    expect(found[LEVELS - 1]).toBe(`v${LEVELS - 1}`);
  });

  it('handles an array of 100,000 elements and 100,000 levels of nesting', () => {
    expect(searchableValues(Array.from({ length: LEVELS }, (_, i) => i))).toHaveLength(LEVELS);
    const deep = JSON.parse(`${'['.repeat(LEVELS)}"bottom"${']'.repeat(LEVELS)}`);
    expect(searchableValues(deep)).toEqual(['bottom']);
  });

  it('includes the values under an own __proto__ key', () => {
    const value = JSON.parse('{"event_type":"x","__proto__":{"hidden":"sneaky"}}');
    expect(searchableValues(value)).toEqual(['x', 'sneaky']);
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every level and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, 1, { z: 1, y: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[3,1,{"y":2,"z":1}]},"b":1}',
    );
  });

  it('gives equal text for objects that differ only in key order', () => {
    const a = JSON.parse('{"event_type":"t","x":{"p":1,"q":[1,2]},"s":"é\\n\\""}');
    const b = JSON.parse('{"s":"é\\n\\"","x":{"q":[1,2],"p":1},"event_type":"t"}');
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(canonicalJson(a)).not.toBe(canonicalJson({ ...b, s: 'other' }));
  });

  it('is valid JSON that parses back to the same value, own __proto__ key included', () => {
    for (const { event } of loadFixtures()) expect(JSON.parse(canonicalJson(event))).toEqual(event);
    const tricky = JSON.parse('{"__proto__":{"x":1},"k\\"ey":"\\u2028","n":-0.5,"e":1e21,"arr":[]}');
    const back = JSON.parse(canonicalJson(tricky));
    expect(back).toEqual(tricky);
    expect(Object.hasOwn(back, '__proto__')).toBe(true);
  });

  it('writes scalars as JSON does, and a number JSON cannot hold as itself', () => {
    expect(canonicalJson('a"b')).toBe('"a\\"b"');
    expect(canonicalJson(1.5)).toBe('1.5');
    expect(canonicalJson(true)).toBe('true');
    expect(canonicalJson(null)).toBe('null');
    expect(canonicalJson(undefined)).toBe('null');
    expect(canonicalJson(Number.POSITIVE_INFINITY)).toBe('Infinity');
    expect(canonicalJson(Number.NaN)).toBe('NaN');
  });
});

describe('dedupeKey', () => {
  const key = (payload: SingleFileEvent, deliveryId?: string | null) => dedupeKey(payload, deliveryId).toString('hex');

  it('is 16 bytes', () => {
    const k = dedupeKey({ event_type: 'x' });
    expect(Buffer.isBuffer(k)).toBe(true);
    expect(k).toHaveLength(16);
  });

  it('prefers the delivery id over anything in the payload', () => {
    expect(key({ event_type: 'a', id: '1' }, 'msg_1')).toBe(key({ event_type: 'b', id: '2' }, 'msg_1'));
    expect(key({ event_type: 'a' }, 'msg_1')).not.toBe(key({ event_type: 'a' }, 'msg_2'));
    // An empty or missing delivery id falls back to the payload.
    expect(key({ event_type: 'a', id: '1', n: 1 }, '')).toBe(key({ event_type: 'a', id: '1', n: 2 }, null));
  });

  it('uses an id field, then an event_id field, when there is no delivery id', () => {
    expect(key({ event_type: 'a', id: 'e1', n: 1 })).toBe(key({ event_type: 'a', id: 'e1', n: 2 }));
    expect(key({ event_type: 'a', event_id: 'e1', n: 1 })).toBe(key({ event_type: 'a', event_id: 'e1', n: 2 }));
    expect(key({ event_type: 'a', id: 7, n: 1 })).toBe(key({ event_type: 'a', id: 7, n: 2 }));
    expect(key({ event_type: 'a', id: 'e1', event_id: 'x' })).toBe(key({ event_type: 'a', id: 'e1', event_id: 'y' }));
    // id and event_id with the same value are different sources, not the same delivery.
    expect(key({ event_type: 'a', id: 'e1' })).not.toBe(key({ event_type: 'a', event_id: 'e1' }));
  });

  it('counts a body id only within its event type: an update of a resource is not a retry of its creation', () => {
    expect(key({ event_type: 'entity.created', id: 'ent_1' })).not.toBe(
      key({ event_type: 'entity.updated', id: 'ent_1', name: 'Acme' }),
    );
    expect(key({ event_type: 'task.created', event_id: 7 })).not.toBe(
      key({ event_type: 'task.completed', event_id: 7 }),
    );
    // The type is quoted in the key, so a type holding the separator cannot pose as another pair.
    expect(key({ event_type: 'a', id: 'b:c' })).not.toBe(key({ event_type: 'a:b', id: 'c' }));
    expect(key({ event_type: 'a"', id: 'b' })).not.toBe(key({ event_type: 'a', id: '"b' }));
    // The webhook-id header is a true delivery id: it is not namespaced.
    expect(key({ event_type: 'entity.created', id: 'ent_1' }, 'msg_1')).toBe(
      key({ event_type: 'entity.updated', id: 'ent_1' }, 'msg_1'),
    );
  });

  it('ignores an id that is empty, not a string or number, or not the payload’s own', () => {
    expect(key({ event_type: 'a', id: '', n: 1 })).not.toBe(key({ event_type: 'a', id: '', n: 2 }));
    expect(key({ event_type: 'a', id: { x: 1 }, n: 1 })).not.toBe(key({ event_type: 'a', id: { x: 1 }, n: 2 }));
    const inherited = (n: number) => Object.assign(Object.create({ id: 'same' }), { event_type: 'a', n });
    expect(key(inherited(1))).not.toBe(key(inherited(2)));
  });

  it('hashes the canonical JSON otherwise: key order does not matter, content does', () => {
    const a = JSON.parse('{"event_type":"t","x":1,"y":{"b":2,"a":1}}');
    const b = JSON.parse('{"y":{"a":1,"b":2},"x":1,"event_type":"t"}');
    expect(key(a)).toBe(key(b));
    expect(key(a)).not.toBe(key({ ...a, x: 2 }));
    // 1e999 parses to Infinity, which JSON.stringify writes as null: still three different events.
    const overflow = JSON.parse('{"event_type":"t","x":1e999}');
    expect(new Set([key(overflow), key({ ...overflow, x: null }), key({ ...overflow, x: -Infinity })]).size).toBe(3);
    const keys = new Set(loadFixtures().map(({ event }) => key(event)));
    expect(keys.size).toBe(loadFixtures().length);
  });
});
