import { describe, expect, it } from 'vitest';
import {
  CATEGORIES,
  describeEventType,
  EVENT_CATALOG,
  EventSchema,
  MAX_EVENT_TYPE_LENGTH,
  occurredAtMs,
  type SingleFileEvent,
  StoredEventSchema,
} from '../shared/events.ts';
import { loadFixtures } from './helpers/fixtures.ts';

/** The table of the fixtures README: category, SingleFile's name, trigger, event_type. */
const README_TABLE = [
  ['Entities', 'New Entity', 'Entity created', 'entity.created'],
  ['Entities', 'Update Entity', 'Entity updated', 'entity.updated'],
  ['Documents', 'New Document', 'Document available', 'document.created'],
  ['Documents', 'Update Document', 'Document updated', 'document.updated'],
  ['Documents', 'Delete Document', 'Document deleted', 'document.deleted'],
  ['Jurisdictions', 'New Jurisdiction', 'Jurisdiction added', 'jurisdiction.created'],
  ['Jurisdictions', 'Update Jurisdiction', 'Jurisdiction updated', 'jurisdiction.updated'],
  ['Tasks', 'New Task Instance', 'Task created', 'task.created'],
  ['Orders', 'Order Submitted', 'Order submitted', 'order.submitted'],
  ['Orders', 'Order Cancelled', 'Order cancelled', 'order.cancelled'],
  ['Orders', 'Order Completed', 'Order completed', 'order.completed'],
] as const;

describe('the event catalog', () => {
  it('lists SingleFile’s eleven event types as the fixtures README gives them', () => {
    expect(EVENT_CATALOG.map((info) => [info.category, info.name, info.trigger, info.type])).toEqual(README_TABLE);
    expect(new Set(EVENT_CATALOG.map((info) => info.type)).size).toBe(11);
  });

  it('has a fixture for every catalog type and a catalog type for every fixture', () => {
    expect(loadFixtures().map((f) => f.name)).toEqual(EVENT_CATALOG.map((info) => info.type).sort());
  });

  it('uses only known categories, and keeps Other for unknown types', () => {
    for (const info of EVENT_CATALOG) expect(CATEGORIES).toContain(info.category);
    expect(EVENT_CATALOG.some((info) => (info.category as string) === 'Other')).toBe(false);
  });

  it.each(README_TABLE)('describes a known type: %s / %s', (category, name, _trigger, type) => {
    expect(describeEventType(type)).toEqual({ category, name, known: true });
  });

  it.each(['invoice.paid', 'Order.Completed', 'order.completed ', '', '__proto__', 'constructor', 'toString'])(
    'describes the unknown type %j as Other, named by its own string',
    (type) => {
      expect(describeEventType(type)).toEqual({ category: 'Other', name: type, known: false });
    },
  );
});

describe('EventSchema', () => {
  it('accepts every fixture', () => {
    for (const { event } of loadFixtures()) expect(EventSchema.safeParse(event).success).toBe(true);
  });

  it('accepts an unknown type and keeps every other field', () => {
    const input = { event_type: 'invoice.paid', amount: 10, nested: { a: [1, 'b'] }, flag: false };
    expect(EventSchema.parse(input)).toEqual(input);
  });

  it.each([
    [{}, 'event_type is missing'],
    [{ event_type: 42 }, 'event_type must be a string'],
    [{ event_type: null }, 'event_type must be a string'],
    [{ event_type: '' }, 'event_type must not be empty'],
    [{ event_type: 'x'.repeat(MAX_EVENT_TYPE_LENGTH + 1) }, `at most ${MAX_EVENT_TYPE_LENGTH} characters`],
  ])('refuses %j with a short reason', (input, reason) => {
    const result = EventSchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toContain(reason);
  });

  it.each([null, 'text', 42, ['event_type']])('refuses the non-object %j', (input) => {
    expect(EventSchema.safeParse(input).success).toBe(false);
  });

  it('accepts an event_type of exactly the maximum length', () => {
    expect(EventSchema.safeParse({ event_type: 'x'.repeat(MAX_EVENT_TYPE_LENGTH) }).success).toBe(true);
  });

  it.each(['yesterday', '2024-02-31T00:00:00Z', '2024-01-15', 1705314600, null, { at: 1 }])(
    'does not refuse an event for the invalid timestamp %j',
    (timestamp) => {
      const result = EventSchema.safeParse({ event_type: 'order.completed', timestamp });
      expect(result.success).toBe(true);
      expect(result.data?.timestamp).toBeUndefined();
    },
  );

  it('keeps a valid timestamp', () => {
    expect(EventSchema.parse({ event_type: 'x', timestamp: '2024-01-15T10:30:00Z' }).timestamp).toBe(
      '2024-01-15T10:30:00Z',
    );
  });
});

describe('occurredAtMs', () => {
  const at = (timestamp: unknown) => occurredAtMs({ event_type: 'x', timestamp } as SingleFileEvent);

  it.each([
    ['2024-01-15T10:30:00Z', Date.UTC(2024, 0, 15, 10, 30)],
    ['2024-01-15T10:30:00.123Z', Date.UTC(2024, 0, 15, 10, 30, 0, 123)],
    ['2024-01-15T12:30:00+02:00', Date.UTC(2024, 0, 15, 10, 30)],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
  ])('reads %j', (timestamp, expected) => {
    expect(at(timestamp)).toBe(expected);
  });

  it.each([
    'yesterday',
    '',
    '2024-02-31T00:00:00Z',
    '2023-02-29T00:00:00Z',
    '2024-01-15',
    '2024-01-15T10:30:00',
    0,
    null,
  ])('gives null for %j', (timestamp) => {
    expect(at(timestamp)).toBeNull();
  });

  it('gives null when there is no timestamp', () => {
    expect(occurredAtMs({ event_type: 'x' })).toBeNull();
  });

  it('reads every fixture’s timestamp', () => {
    for (const { event } of loadFixtures()) {
      expect(occurredAtMs(event)).toBe(Date.parse(event.timestamp as string));
    }
  });
});

describe('StoredEventSchema', () => {
  it('accepts a stored event and refuses an unknown category', () => {
    const stored = {
      id: 1,
      event_type: 'invoice.paid',
      category: 'Other',
      received_at: '2024-01-15T10:30:00.000Z',
      occurred_at: null,
      payload: { event_type: 'invoice.paid' },
      deliveries: 1,
      read: false,
    };
    expect(StoredEventSchema.parse(stored)).toEqual(stored);
    expect(StoredEventSchema.safeParse({ ...stored, category: 'Invoices' }).success).toBe(false);
    expect(StoredEventSchema.safeParse({ ...stored, deliveries: 0 }).success).toBe(false);
  });
});
