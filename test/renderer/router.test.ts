import { describe, expect, it } from 'vitest';
import {
  EMPTY_QUERY,
  formatRoute,
  type HistoryQuery,
  liveMatch,
  parseRoute,
  type Route,
  toEventQuery,
} from '../../renderer/router.ts';
import { makeEvent } from './fake-monitor.ts';

describe('routes in the URL fragment', () => {
  const routes: Route[] = [
    { view: 'status' },
    { view: 'settings' },
    { view: 'stats' },
    { view: 'event', id: 42 },
    { view: 'history', query: EMPTY_QUERY },
    {
      view: 'history',
      query: {
        text: 'certificate "good standing" & <b>',
        categories: ['Orders', 'Documents'],
        types: ['order.completed', 'custom.type'],
        from: '2024-01-15',
        to: '2024-01-20',
      },
    },
  ];

  it('reads back every route it writes, search text and filters included', () => {
    for (const route of routes) expect(parseRoute(formatRoute(route))).toEqual(route);
  });

  it('keeps an empty search out of the URL', () => {
    expect(formatRoute({ view: 'history', query: EMPTY_QUERY })).toBe('#/history');
  });

  it('falls back to the status view, and drops what it does not know, instead of failing', () => {
    expect(parseRoute('')).toEqual({ view: 'status' });
    expect(parseRoute('#/nowhere')).toEqual({ view: 'status' });
    expect(parseRoute('#/event/abc')).toEqual({ view: 'status' });
    expect(parseRoute('#/history?c=Orders,Nope&from=yesterday&to=2024-13')).toEqual({
      view: 'history',
      query: { ...EMPTY_QUERY, categories: ['Orders'] },
    });
  });
});

describe('toEventQuery', () => {
  it('sends only the filters that are set, the text trimmed', () => {
    expect(toEventQuery(EMPTY_QUERY)).toEqual({});
    expect(toEventQuery({ ...EMPTY_QUERY, text: '  cert  ', categories: ['Orders'] })).toEqual({
      text: 'cert',
      categories: ['Orders'],
    });
  });

  it('takes the date range as whole local days: from midnight to the next midnight after "to"', () => {
    const query = toEventQuery({ ...EMPTY_QUERY, from: '2024-01-15', to: '2024-01-15' });
    expect(query.since).toBe(new Date(2024, 0, 15).toISOString());
    expect(query.until).toBe(new Date(2024, 0, 16).toISOString());
  });
});

describe('liveMatch: does a new event belong in the list shown', () => {
  const order = makeEvent(
    1,
    { event_type: 'order.completed' },
    { received_at: new Date(2024, 0, 15, 12).toISOString() },
  );
  const query = (change: Partial<HistoryQuery>): HistoryQuery => ({ ...EMPTY_QUERY, ...change });

  it('yes without filters', () => {
    expect(liveMatch(EMPTY_QUERY, order)).toBe(true);
  });

  it('follows categories, types and dates', () => {
    expect(liveMatch(query({ categories: ['Orders'] }), order)).toBe(true);
    expect(liveMatch(query({ categories: ['Documents'] }), order)).toBe(false);
    expect(liveMatch(query({ types: ['order.submitted'] }), order)).toBe(false);
    expect(liveMatch(query({ from: '2024-01-16' }), order)).toBe(false);
    expect(liveMatch(query({ to: '2024-01-14' }), order)).toBe(false);
    expect(liveMatch(query({ from: '2024-01-15', to: '2024-01-15' }), order)).toBe(true);
  });

  it('leaves full-text matches to the store', () => {
    expect(liveMatch(query({ text: 'ord_1' }), order)).toBe('unknown');
    expect(liveMatch(query({ text: 'ord_1', categories: ['Documents'] }), order)).toBe(false);
  });
});
