import { useCallback, useEffect, useRef, useState } from 'react';
import type { StoredEvent } from '../shared/events.ts';
import { ConnectionBanner } from './components/ConnectionBanner.tsx';
import { Sidebar } from './components/Sidebar.tsx';
import { ToastProvider, useToast } from './components/Toaster.tsx';
import type { Transport } from './dashboard-client.ts';
import { TransportProvider, useApi, usePush, useStatus } from './hooks/transport.tsx';
import { useEventList } from './hooks/useEventList.ts';
import { navigate, useRoute } from './hooks/useRoute.ts';
import { EMPTY_QUERY, formatRoute, type HistoryQuery, sameQuery } from './router.ts';
import { EventDetail } from './views/EventDetail.tsx';
import { HistoryView, type ListMemory } from './views/History.tsx';
import { SettingsView } from './views/Settings.tsx';
import { StatsView } from './views/Stats.tsx';
import { StatusView } from './views/Status.tsx';

export function App({ transport }: { transport: Transport }) {
  return (
    <TransportProvider transport={transport}>
      <ToastProvider>
        <Shell />
      </ToastProvider>
    </TransportProvider>
  );
}

function isTyping(target: EventTarget | null): boolean {
  const element = target as HTMLElement | null;
  return !!element && (element.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(element.tagName));
}

function Shell() {
  const route = useRoute();
  const api = useApi();
  const toast = useToast();
  const { status, refresh } = useStatus();
  // The list lives here, not in the History view, so that opening an event and coming back keeps
  // the loaded pages, the scroll position and the live arrivals.
  const lastQuery = useRef<HistoryQuery>(EMPTY_QUERY);
  if (route.view === 'history' && !sameQuery(route.query, lastQuery.current)) lastQuery.current = route.query;
  const historyQuery = lastQuery.current;
  const list = useEventList(api, historyQuery);
  const memory = useRef<ListMemory>({ offset: 0, selected: 0 });
  const memoryFor = useRef(historyQuery);
  if (memoryFor.current !== historyQuery) {
    memoryFor.current = historyQuery;
    memory.current = { offset: 0, selected: 0 };
  }
  const openedFromList = useRef(false);
  // `/` asks the search box for focus; the box takes it once it is on screen (now or after the
  // switch to History), and only once.
  const [focusRequest, setFocusRequest] = useState(0);
  const focusPending = useRef(false);
  const takeFocus = useCallback(() => {
    const pending = focusPending.current;
    focusPending.current = false;
    return pending;
  }, []);

  usePush('notice', (notice) => toast({ tone: 'notice', title: notice.title, body: notice.body }));

  const unread = status?.events.unread ?? 0;
  useEffect(() => {
    document.title = unread > 0 ? `(${unread}) SingleFile Monitor` : 'SingleFile Monitor';
  }, [unread]);

  const back = useCallback(() => {
    if (openedFromList.current) {
      openedFromList.current = false;
      window.history.back();
    } else {
      navigate({ view: 'history', query: lastQuery.current });
    }
  }, []);

  // `/` searches from anywhere; Esc goes back from an event.
  const view = route.view;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === '/' && !isTyping(e.target)) {
        e.preventDefault();
        focusPending.current = true;
        setFocusRequest((n) => n + 1);
        if (view !== 'history') navigate({ view: 'history', query: lastQuery.current });
      } else if (e.key === 'Escape' && view === 'event' && !isTyping(e.target)) {
        e.preventDefault();
        back();
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [view, back]);

  const onQuery = useCallback((query: HistoryQuery, options: { replace?: boolean } = {}) => {
    navigate({ view: 'history', query }, options);
  }, []);
  // Reading changes the unread count, which no push reports.
  const { setRead } = list;
  const onRead = useCallback(
    (ids: number[], read: boolean) => {
      setRead(ids, read);
      refresh();
    },
    [setRead, refresh],
  );
  const onOpen = useCallback((event: StoredEvent) => {
    openedFromList.current = true;
    navigate({ view: 'event', id: event.id });
  }, []);

  return (
    <div className="app">
      <Sidebar route={route} status={status} historyHref={formatRoute({ view: 'history', query: historyQuery })} />
      <main className="main" id="main">
        <ConnectionBanner />
        {route.view === 'status' ? <StatusView status={status} /> : null}
        {route.view === 'history' ? (
          <HistoryView
            query={historyQuery}
            list={list}
            memory={memory.current}
            onQuery={onQuery}
            onOpen={onOpen}
            onRead={onRead}
            focusRequest={focusRequest}
            takeFocus={takeFocus}
          />
        ) : null}
        {route.view === 'event' ? <EventDetail id={route.id} onBack={back} onRead={onRead} /> : null}
        {route.view === 'settings' ? <SettingsView status={status} /> : null}
        {route.view === 'stats' ? <StatsView /> : null}
      </main>
    </div>
  );
}
