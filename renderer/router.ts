import { type EventQuery, EventQuerySchema } from '../shared/api.ts';
import { CATEGORIES, type Category, type StoredEvent } from '../shared/events.ts';

/**
 * Where the window is, kept in the URL's fragment so that back and forward, a reload and a copied
 * link all land on the same view with the same search. Pure: parse and format only.
 */

export interface HistoryQuery {
  text: string;
  categories: Category[];
  types: string[];
  /** Local calendar days, `YYYY-MM-DD`, both included; null = open-ended. */
  from: string | null;
  to: string | null;
}

export type Route =
  | { view: 'status' }
  | { view: 'history'; query: HistoryQuery }
  | { view: 'event'; id: number }
  | { view: 'settings' }
  | { view: 'stats' };

export const EMPTY_QUERY: HistoryQuery = { text: '', categories: [], types: [], from: null, to: null };

/**
 * The longest search text the Monitor API takes (EventQuerySchema): the search box and a link's
 * `q` stop there, since a longer one would only be refused.
 */
export const MAX_SEARCH_TEXT = EventQuerySchema.shape.text.unwrap().maxLength ?? 500;

const DAY = /^\d{4}-\d{2}-\d{2}$/;

export function parseRoute(hash: string): Route {
  const [path = '', search = ''] = hash.replace(/^#/, '').split('?', 2);
  const params = new URLSearchParams(search);
  const event = /^\/event\/(\d{1,15})$/.exec(path);
  if (event) return { view: 'event', id: Number(event[1]) };
  switch (path) {
    case '/history':
      return { view: 'history', query: parseQuery(params) };
    case '/settings':
      return { view: 'settings' };
    case '/stats':
      return { view: 'stats' };
    default:
      return { view: 'status' };
  }
}

function parseQuery(params: URLSearchParams): HistoryQuery {
  const list = (name: string) => (params.get(name) ?? '').split(',').filter((item) => item !== '');
  const day = (name: string) => {
    const value = params.get(name);
    return value && DAY.test(value) ? value : null;
  };
  return {
    text: (params.get('q') ?? '').slice(0, MAX_SEARCH_TEXT),
    categories: list('c').filter((c): c is Category => (CATEGORIES as readonly string[]).includes(c)),
    types: list('t'),
    from: day('from'),
    to: day('to'),
  };
}

export function formatRoute(route: Route): string {
  switch (route.view) {
    case 'status':
      return '#/';
    case 'event':
      return `#/event/${route.id}`;
    case 'settings':
    case 'stats':
      return `#/${route.view}`;
    case 'history': {
      const { text, categories, types, from, to } = route.query;
      const params = new URLSearchParams();
      if (text) params.set('q', text);
      if (categories.length) params.set('c', categories.join(','));
      if (types.length) params.set('t', types.join(','));
      if (from) params.set('from', from);
      if (to) params.set('to', to);
      const search = params.toString();
      return `#/history${search ? `?${search}` : ''}`;
    }
  }
}

/** Midnight at the start of a local calendar day, as an ISO instant. */
function localMidnight(day: string, addDays = 0): string {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(y ?? 1970, (m ?? 1) - 1, (d ?? 1) + addDays).toISOString();
}

/** The Monitor API query for what the History view shows. */
export function toEventQuery(query: HistoryQuery): Omit<EventQuery, 'limit' | 'cursor'> {
  const result: Omit<EventQuery, 'limit' | 'cursor'> = {};
  if (query.text.trim()) result.text = query.text.trim();
  if (query.categories.length) result.categories = query.categories;
  if (query.types.length) result.types = query.types;
  if (query.from) result.since = localMidnight(query.from);
  // "To" is the whole day: until the next midnight.
  if (query.to) result.until = localMidnight(query.to, 1);
  return result;
}

/**
 * Whether a newly arrived event belongs in the list as filtered, without asking the core. Full
 * text is the store's business (prefixes, phrases), so with search words this says "unknown".
 */
export function liveMatch(query: HistoryQuery, event: StoredEvent): boolean | 'unknown' {
  if (query.categories.length && !query.categories.includes(event.category)) return false;
  if (query.types.length && !query.types.includes(event.event_type)) return false;
  const received = Date.parse(event.received_at);
  if (query.from && received < Date.parse(localMidnight(query.from))) return false;
  if (query.to && received >= Date.parse(localMidnight(query.to, 1))) return false;
  return query.text.trim() ? 'unknown' : true;
}

export function sameQuery(a: HistoryQuery, b: HistoryQuery): boolean {
  return formatRoute({ view: 'history', query: a }) === formatRoute({ view: 'history', query: b });
}
