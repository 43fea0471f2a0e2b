/**
 * A deterministic stream of realistic SingleFile events for the history benchmark: the eleven
 * types in the proportions a busy registered-agent account would see, with the fields the
 * fixtures carry (ids, entity and document names, jurisdictions, order types, reasons), and
 * arrival times spread evenly over the span with bursts. The same seed gives the same history, so two runs
 * query the same data.
 */

export interface SyntheticEvent {
  /** The body as SingleFile would send it. */
  rawJson: string;
  event: { event_type: string; [field: string]: unknown };
  /** Epoch ms the receiver got it; ascending along the stream. */
  receivedAt: number;
}

export interface SyntheticOptions {
  count: number;
  /** The newest event arrives at this time; the oldest `spanDays` before it. */
  endMs: number;
  spanDays: number;
  seed?: number;
}

/** Share of each type, out of 1000. */
const TYPE_WEIGHTS: ReadonlyArray<readonly [string, number]> = [
  ['task.created', 200],
  ['document.created', 190],
  ['order.submitted', 130],
  ['order.completed', 110],
  ['entity.updated', 90],
  ['document.updated', 80],
  ['entity.created', 60],
  ['jurisdiction.updated', 50],
  ['jurisdiction.created', 40],
  ['order.cancelled', 25],
  ['document.deleted', 25],
];

// Delaware and Wyoming first: most formations happen there, so their words are the frequent ones.
const JURISDICTIONS = [
  'Delaware',
  'Wyoming',
  'California',
  'Texas',
  'New York',
  'Florida',
  'Nevada',
  'Illinois',
  'Washington',
  'Georgia',
  'Colorado',
  'Massachusetts',
  'New Jersey',
  'Ohio',
  'Pennsylvania',
  'Oregon',
  'Arizona',
  'Virginia',
  'North Carolina',
  'Michigan',
];
const NAME_FIRST = [
  'Acme',
  'Northwind',
  'Contoso',
  'Globex',
  'Initech',
  'Umbrella',
  'Stark',
  'Wayne',
  'Hooli',
  'Vandelay',
  'Pied Piper',
  'Soylent',
  'Tyrell',
  'Cyberdyne',
  'Wonka',
  'Gringotts',
  'Oceanic',
  'Monarch',
  'Blue Harbor',
  'Silver Creek',
  'Red Rock',
  'Granite',
  'Summit',
  'Evergreen',
  'Lakeside',
  'Riverbend',
  'Ironwood',
  'Maple',
  'Cedar',
  'Aspen',
];
const NAME_SECOND = [
  'Widgets',
  'Traders',
  'Holdings',
  'Ventures',
  'Logistics',
  'Analytics',
  'Foods',
  'Robotics',
  'Capital',
  'Partners',
  'Labs',
  'Studios',
  'Health',
  'Energy',
  'Realty',
  'Consulting',
  'Media',
  'Systems',
  'Outfitters',
  'Brewing',
];
const ENTITY_TYPES: ReadonlyArray<readonly [string, string]> = [
  ['LLC', 'LLC'],
  ['Corporation', 'Inc.'],
  ['Corporation', 'Corp.'],
  ['LP', 'LP'],
  ['PLLC', 'PLLC'],
];
const DOCUMENTS: ReadonlyArray<readonly [string, string]> = [
  ['Certificate of Good Standing', 'Certificate'],
  ['Articles of Organization', 'Formation'],
  ['Certificate of Incorporation', 'Formation'],
  ['Annual Report', 'Report'],
  ['Statement of Information', 'Report'],
  ['Service of Process', 'Legal'],
  ['Registered Agent Consent', 'Consent'],
  ['Franchise Tax Notice', 'Tax'],
  ['Operating Agreement', 'Agreement'],
  ['EIN Confirmation Letter', 'Tax'],
];
const ORDER_TYPES = [
  'Annual Report',
  'Certificate of Good Standing',
  'Foreign Qualification',
  'Registered Agent Change',
  'Amendment',
  'Dissolution',
  'Formation',
  'Franchise Tax Filing',
];
const CANCEL_REASONS = ['Duplicate order', 'Requested by customer', 'Payment failed', 'Entity dissolved'];
const TASK_NAMES = ['File {year} Annual Report', 'Renew registered agent', 'Pay franchise tax', 'Review compliance'];
const ENTITY_CHANGES = ['registered_agent', 'principal_address', 'officers', 'entity_name', 'mailing_address'];
const JURISDICTION_STATUSES = ['active', 'pending', 'good standing', 'delinquent'];

const DAY_MS = 86_400_000;

/** A small fast PRNG (mulberry32): reproducible, no dependency. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Entity {
  id: string;
  name: string;
  jurisdiction: string;
  entityType: string;
}

/** The events, oldest first. Lazy, so a million of them never sit in memory at once. */
export function* syntheticEvents(options: SyntheticOptions): Generator<SyntheticEvent> {
  const random = prng(options.seed ?? 42);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  // Skewed towards the front of the list: a few states and names are much more common.
  const pickSkewed = <T>(list: readonly T[]): T => list[Math.floor(random() ** 2 * list.length)] as T;
  let totalWeight = 0;
  const cumulative = TYPE_WEIGHTS.map(([, weight]) => {
    totalWeight += weight;
    return totalWeight;
  });
  const pickType = (): string => {
    const r = random() * totalWeight;
    return TYPE_WEIGHTS[cumulative.findIndex((c) => r < c)]?.[0] ?? 'task.created';
  };

  // A customer base that grows with the history: about one entity per 50 events.
  const entities: Entity[] = [];
  const newEntity = (): Entity => {
    const [entityType, suffix] = pick(ENTITY_TYPES);
    const entity = {
      id: `ent_${(100_000 + entities.length).toString()}`,
      name: `${pickSkewed(NAME_FIRST)} ${pick(NAME_SECOND)} ${suffix}`,
      jurisdiction: pickSkewed(JURISDICTIONS),
      entityType,
    };
    entities.push(entity);
    return entity;
  };
  for (let i = 0; i < 200; i++) newEntity();
  const anyEntity = (): Entity => entities[Math.floor(random() * entities.length)] as Entity;

  let orderSeq = 1_000_000;
  let documentSeq = 5_000_000;
  let taskSeq = 300_000;
  let jurisdictionSeq = 1_000;
  const recentOrders: string[] = [];
  const recentDocuments: string[] = [];

  const startMs = options.endMs - options.spanDays * DAY_MS;
  // The mean gap below is 0.2 × 25 ms + 0.8 × 0.875 × stepMs: solved so the stream fills the span.
  const stepMs = ((options.endMs - startMs) / Math.max(1, options.count) - 5) / 0.7;
  let clock = startMs;

  for (let n = 0; n < options.count; n++) {
    // Arrivals: the average pace, with bursts (many events within a second) now and then.
    clock += random() < 0.2 ? random() * 50 : stepMs * (0.5 + random() * 0.75);
    const receivedAt = Math.min(options.endMs, Math.round(clock));
    const timestamp = new Date(receivedAt - Math.floor(random() * 5_000)).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const type = pickType();
    let event: SyntheticEvent['event'];
    switch (type) {
      case 'entity.created': {
        const entity = newEntity();
        event = {
          event_type: type,
          entity_id: entity.id,
          entity_name: entity.name,
          entity_type: entity.entityType,
          jurisdiction: entity.jurisdiction,
          timestamp,
        };
        break;
      }
      case 'entity.updated': {
        const entity = anyEntity();
        const changes = [pick(ENTITY_CHANGES)];
        if (random() < 0.3) changes.push(pick(ENTITY_CHANGES));
        event = { event_type: type, entity_id: entity.id, entity_name: entity.name, changes, timestamp };
        break;
      }
      case 'document.created': {
        const entity = anyEntity();
        const [name, documentType] = pick(DOCUMENTS);
        const documentId = `doc_${documentSeq++}`;
        remember(recentDocuments, documentId);
        event = {
          event_type: type,
          document_id: documentId,
          entity_id: entity.id,
          order_id: recentOrders.length > 0 ? pick(recentOrders) : `ord_${orderSeq}`,
          document_name: `${name} - ${entity.name.replace(/\.$/, '')}.pdf`,
          document_type: documentType,
          timestamp,
        };
        break;
      }
      case 'document.updated': {
        const entity = anyEntity();
        const [name] = pick(DOCUMENTS);
        event = {
          event_type: type,
          document_id: recentDocuments.length > 0 ? pick(recentDocuments) : `doc_${documentSeq}`,
          entity_id: entity.id,
          document_name: `${name} - ${entity.name} (certified).pdf`,
          timestamp,
        };
        break;
      }
      case 'document.deleted':
        event = {
          event_type: type,
          document_id: recentDocuments.length > 0 ? pick(recentDocuments) : `doc_${documentSeq}`,
          entity_id: anyEntity().id,
          timestamp,
        };
        break;
      case 'jurisdiction.created': {
        const entity = anyEntity();
        event = {
          event_type: type,
          jurisdiction_id: `jur_${jurisdictionSeq++}`,
          entity_id: entity.id,
          jurisdiction: pickSkewed(JURISDICTIONS),
          registration_type: random() < 0.8 ? 'Foreign Qualification' : 'Domestic Formation',
          timestamp,
        };
        break;
      }
      case 'jurisdiction.updated':
        event = {
          event_type: type,
          jurisdiction_id: `jur_${1_000 + Math.floor(random() * Math.max(1, jurisdictionSeq - 1_000))}`,
          entity_id: anyEntity().id,
          jurisdiction: pickSkewed(JURISDICTIONS),
          status: pick(JURISDICTION_STATUSES),
          timestamp,
        };
        break;
      case 'task.created': {
        const entity = anyEntity();
        const year = new Date(receivedAt).getUTCFullYear() + (random() < 0.5 ? 0 : 1);
        event = {
          event_type: type,
          task_id: `tsk_${taskSeq++}`,
          entity_id: entity.id,
          task_name: `${pick(TASK_NAMES).replace('{year}', String(year))} for ${entity.name}`,
          due_date: new Date(receivedAt + Math.floor(random() * 120) * DAY_MS).toISOString().slice(0, 10),
          timestamp,
        };
        break;
      }
      case 'order.submitted': {
        const entity = anyEntity();
        const orderId = `ord_${orderSeq++}`;
        remember(recentOrders, orderId);
        event = {
          event_type: type,
          order_id: orderId,
          entity_id: entity.id,
          status: 'submitted',
          order_type: pick(ORDER_TYPES),
          jurisdiction: entity.jurisdiction,
          timestamp,
        };
        break;
      }
      case 'order.cancelled':
        event = {
          event_type: type,
          order_id: recentOrders.length > 0 ? pick(recentOrders) : `ord_${orderSeq++}`,
          entity_id: anyEntity().id,
          status: 'cancelled',
          reason: pick(CANCEL_REASONS),
          timestamp,
        };
        break;
      default:
        event = {
          event_type: 'order.completed',
          order_id: recentOrders.length > 0 ? pick(recentOrders) : `ord_${orderSeq++}`,
          entity_id: anyEntity().id,
          status: 'completed',
          timestamp,
        };
    }
    yield { rawJson: JSON.stringify(event), event, receivedAt };
  }
}

/** Keeps the last few hundred ids, the ones later events (completions, updates) refer to. */
function remember(list: string[], id: string): void {
  list.push(id);
  if (list.length > 500) list.shift();
}
