import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { MonitorApi } from '../../shared/api.ts';
import type { StoredEvent } from '../../shared/events.ts';
import { type HistoryQuery, liveMatch, sameQuery, toEventQuery } from '../router.ts';
import { usePush, useResync } from './transport.tsx';
import { errorText } from './useAction.ts';

export interface EventList {
  events: StoredEvent[];
  hasMore: boolean;
  loading: boolean;
  error: string | null;
  /** Events that arrived while a text search is shown: the store decides whether they match. */
  pendingNew: number;
  loadMore(): void;
  reload(): void;
  setRead(ids: readonly number[], read: boolean): void;
}

export const PAGE_SIZE = 200;

/**
 * The events of a query, newest first, loaded a page at a time as the list scrolls, with new
 * arrivals put on top as they come. Answers to an older query are dropped.
 */
export function useEventList(api: MonitorApi, query: HistoryQuery): EventList {
  const [events, setEvents] = useState<StoredEvent[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [pendingNew, setPendingNew] = useState(0);
  const generation = useRef(0);
  const busy = useRef(false);
  const current = useRef(query);
  const cursorRef = useRef<string | null>(null);

  const load = useCallback(
    (reset: boolean) => {
      if (busy.current && !reset) return;
      if (!reset && cursorRef.current === null) return;
      const mine = reset ? ++generation.current : generation.current;
      busy.current = true;
      setLoading(true);
      const request = {
        ...toEventQuery(current.current),
        limit: PAGE_SIZE,
        ...(reset || cursorRef.current === null ? {} : { cursor: cursorRef.current }),
      };
      api.listEvents(request).then(
        (page) => {
          if (mine !== generation.current) return;
          busy.current = false;
          cursorRef.current = page.nextCursor;
          setCursor(page.nextCursor);
          setEvents((before) => (reset ? page.events : appendNew(before, page.events)));
          setLoading(false);
          setError(null);
          if (reset) setPendingNew(0);
        },
        (failure: unknown) => {
          if (mine !== generation.current) return;
          busy.current = false;
          setLoading(false);
          setError(errorText(failure));
        },
      );
    },
    [api],
  );

  useEffect(() => {
    if (sameQuery(current.current, query) && generation.current > 0) return;
    current.current = query;
    cursorRef.current = null;
    load(true);
  }, [query, load]);

  usePush('event', (event) => {
    const match = liveMatch(current.current, event);
    if (match === 'unknown') setPendingNew((n) => n + 1);
    else if (match) setEvents((before) => (before.some((e) => e.id === event.id) ? before : [event, ...before]));
  });
  useResync(() => load(true));

  const loadMore = useCallback(() => load(false), [load]);
  const reload = useCallback(() => load(true), [load]);
  const setRead = useCallback((ids: readonly number[], read: boolean) => {
    const set = new Set(ids);
    setEvents((before) => before.map((e) => (set.has(e.id) && e.read !== read ? { ...e, read } : e)));
  }, []);
  const hasMore = cursor !== null;
  return useMemo(
    () => ({ events, hasMore, loading, error, pendingNew, loadMore, reload, setRead }),
    [events, hasMore, loading, error, pendingNew, loadMore, reload, setRead],
  );
}

/** A later page after the ones shown; an event that arrived live meanwhile is not shown twice. */
function appendNew(before: StoredEvent[], page: StoredEvent[]): StoredEvent[] {
  const seen = new Set(before.map((e) => e.id));
  return [...before, ...page.filter((e) => !seen.has(e.id))];
}
