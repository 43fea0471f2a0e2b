import { z } from 'zod';

/**
 * SingleFile's eleven webhook event types. SingleFile documents the names and triggers; only
 * `order.completed` is shown on the wire, so the other strings are our best reading of it
 * (see fixtures/events/README.md). Nothing may depend on them beyond labels and defaults.
 */
export const CATEGORIES = ['Entities', 'Documents', 'Jurisdictions', 'Tasks', 'Orders', 'Other'] as const;
export const CategorySchema = z.enum(CATEGORIES);
export type Category = z.infer<typeof CategorySchema>;

export interface EventTypeInfo {
  readonly type: string;
  readonly category: Exclude<Category, 'Other'>;
  /** SingleFile's own name for the event, as its settings page shows it. */
  readonly name: string;
  readonly trigger: string;
}

export const EVENT_CATALOG: readonly EventTypeInfo[] = [
  { type: 'entity.created', category: 'Entities', name: 'New Entity', trigger: 'Entity created' },
  { type: 'entity.updated', category: 'Entities', name: 'Update Entity', trigger: 'Entity updated' },
  { type: 'document.created', category: 'Documents', name: 'New Document', trigger: 'Document available' },
  { type: 'document.updated', category: 'Documents', name: 'Update Document', trigger: 'Document updated' },
  { type: 'document.deleted', category: 'Documents', name: 'Delete Document', trigger: 'Document deleted' },
  { type: 'jurisdiction.created', category: 'Jurisdictions', name: 'New Jurisdiction', trigger: 'Jurisdiction added' },
  {
    type: 'jurisdiction.updated',
    category: 'Jurisdictions',
    name: 'Update Jurisdiction',
    trigger: 'Jurisdiction updated',
  },
  { type: 'task.created', category: 'Tasks', name: 'New Task Instance', trigger: 'Task created' },
  { type: 'order.submitted', category: 'Orders', name: 'Order Submitted', trigger: 'Order submitted' },
  { type: 'order.cancelled', category: 'Orders', name: 'Order Cancelled', trigger: 'Order cancelled' },
  { type: 'order.completed', category: 'Orders', name: 'Order Completed', trigger: 'Order completed' },
];

const catalogByType = new Map(EVENT_CATALOG.map((info) => [info.type, info]));

/** What we know about a type; an unknown type is "Other" and keeps its own string as its name. */
export function describeEventType(type: string): { category: Category; name: string; known: boolean } {
  const info = catalogByType.get(type);
  return info
    ? { category: info.category, name: info.name, known: true }
    : { category: 'Other', name: type, known: false };
}

export const MAX_EVENT_TYPE_LENGTH = 200;

/**
 * The one rule an event must follow: a JSON object with a non-empty string `event_type`.
 * Every other field is kept as sent. A `timestamp` that is not an ISO date-time is kept in the
 * payload but ignored as the event's time, never a reason to refuse the event.
 */
const IsoTimestampSchema = z.iso.datetime({ offset: true });

export const EventSchema = z.looseObject({
  event_type: z
    .string({ error: (issue) => (issue.input === undefined ? 'event_type is missing' : 'event_type must be a string') })
    .min(1, { error: 'event_type must not be empty' })
    .max(MAX_EVENT_TYPE_LENGTH, { error: `event_type must be at most ${MAX_EVENT_TYPE_LENGTH} characters` }),
  timestamp: IsoTimestampSchema.optional().catch(undefined),
});
export type SingleFileEvent = z.infer<typeof EventSchema>;

/**
 * The payload's own time in epoch milliseconds, when it carries a valid ISO `timestamp`.
 * Checked again here because the receiver keeps the object as sent, not zod's cleaned copy.
 */
export function occurredAtMs(event: SingleFileEvent): number | null {
  const checked = IsoTimestampSchema.safeParse(event.timestamp);
  if (!checked.success) return null;
  const ms = Date.parse(checked.data);
  return Number.isFinite(ms) ? ms : null;
}

/** An event as the history keeps it: what every view, the CLI and the API show. */
export const StoredEventSchema = z.object({
  id: z.number().int().positive(),
  event_type: z.string(),
  category: CategorySchema,
  received_at: z.string(),
  occurred_at: z.string().nullable(),
  payload: z.record(z.string(), z.unknown()),
  deliveries: z.number().int().positive(),
  read: z.boolean(),
});
export type StoredEvent = z.infer<typeof StoredEventSchema>;

/** The payload fields people recognise an event by, in the order they are shown. */
const KEY_FIELDS: ReadonlyArray<readonly [field: string, label: string]> = [
  ['document_name', 'Document'],
  ['entity_name', 'Entity'],
  ['task_name', 'Task'],
  ['order_type', 'Order type'],
  ['order_id', 'Order'],
  ['document_id', 'Document id'],
  ['entity_id', 'Entity id'],
  ['jurisdiction', 'Jurisdiction'],
  ['status', 'Status'],
  ['reason', 'Reason'],
];

/** The recognisable fields of a payload that are present as text or numbers, labelled. */
export function keyFields(payload: Record<string, unknown>): Array<{ label: string; value: string }> {
  const found: Array<{ label: string; value: string }> = [];
  for (const [field, label] of KEY_FIELDS) {
    const value = Object.hasOwn(payload, field) ? payload[field] : undefined;
    if (typeof value === 'string' && value !== '') found.push({ label, value });
    else if (typeof value === 'number' && Number.isFinite(value)) found.push({ label, value: String(value) });
  }
  return found;
}
