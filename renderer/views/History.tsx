import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useEffect, useRef, useState } from 'react';
import {
  CATEGORIES,
  type Category,
  describeEventType,
  EVENT_CATALOG,
  keyFields,
  type StoredEvent,
} from '../../shared/events.ts';
import { CategoryBadge } from '../components/CategoryBadge.tsx';
import { Icon } from '../components/Icons.tsx';
import { useToast } from '../components/Toaster.tsx';
import { formatDateTime, formatRelative } from '../format.ts';
import { useApi, useSaveExport } from '../hooks/transport.tsx';
import type { EventList } from '../hooks/useEventList.ts';
import { eventName } from '../names.ts';
import { EMPTY_QUERY, type HistoryQuery, MAX_SEARCH_TEXT, toEventQuery } from '../router.ts';

export const ROW_HEIGHT = 60;
// Ask for the next page this many rows before the end, so that scrolling rarely waits.
const PREFETCH_ROWS = 40;

/** Where the list was, so that coming back from an event lands on the same row. */
export interface ListMemory {
  offset: number;
  selected: number;
}

export interface HistoryProps {
  query: HistoryQuery;
  list: EventList;
  memory: ListMemory;
  /** `replace`: change the current back/forward entry instead of adding one (while typing). */
  onQuery(query: HistoryQuery, options?: { replace?: boolean }): void;
  onOpen(event: StoredEvent): void;
  /** Events marked read or unread here (the unread count changes with them). */
  onRead(ids: number[], read: boolean): void;
  /** Changes when `/` asks for the search box; `takeFocus` says whether the request is still open. */
  focusRequest: number;
  takeFocus(): boolean;
}

export function HistoryView({ query, list, memory, onQuery, onOpen, onRead, focusRequest, takeFocus }: HistoryProps) {
  const filtered = JSON.stringify(query) !== JSON.stringify(EMPTY_QUERY);
  // The search box's text, ahead of `query` while the last keystrokes wait for the debounce.
  const [draft, setDraft] = useState(query.text);
  return (
    <div className="page page-fill">
      <header className="page-head">
        <h1>History</h1>
        {/* The export is of what the box shows, typed a moment ago or not. */}
        <Actions query={{ ...query, text: draft }} list={list} onRead={onRead} />
      </header>
      <SearchBar
        query={query}
        draft={draft}
        setDraft={setDraft}
        onQuery={onQuery}
        focusRequest={focusRequest}
        takeFocus={takeFocus}
      />
      <Filters query={query} onQuery={onQuery} />
      {list.pendingNew > 0 ? (
        <button type="button" className="new-events" onClick={list.reload}>
          {list.pendingNew === 1 ? '1 new event' : `${list.pendingNew} new events`} arrived — show matches
        </button>
      ) : null}
      {list.error ? (
        <p className="error-text" role="alert">
          Could not load events: {list.error}
        </p>
      ) : null}
      {list.events.length === 0 && !list.loading && !list.error ? (
        <div className="empty">
          <Icon name="inbox" size={40} />
          {filtered ? (
            <>
              <p>No events match.</p>
              <button type="button" className="button" onClick={() => onQuery(EMPTY_QUERY)}>
                Clear search and filters
              </button>
            </>
          ) : (
            <p>No events yet. Waiting for the first event…</p>
          )}
        </div>
      ) : (
        <EventListBox list={list} memory={memory} onOpen={onOpen} />
      )}
    </div>
  );
}

function SearchBar({
  query,
  draft,
  setDraft,
  onQuery,
  focusRequest,
  takeFocus,
}: Pick<HistoryProps, 'query' | 'onQuery' | 'focusRequest' | 'takeFocus'> & {
  draft: string;
  setDraft: (text: string) => void;
}) {
  const input = useRef<HTMLInputElement>(null);
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new request is the reason to run
  useEffect(() => {
    if (takeFocus()) input.current?.focus();
  }, [focusRequest, takeFocus]);
  const committed = useRef(query.text);
  // Back, forward or a filter reset change the text from outside: show it.
  useEffect(() => {
    committed.current = query.text;
    setDraft(query.text);
  }, [query.text, setDraft]);
  useEffect(() => {
    if (draft === committed.current) return;
    const timer = setTimeout(() => {
      // The first word typed adds a back/forward entry; the letters after it only refine it.
      const replace = committed.current !== '';
      committed.current = draft;
      onQuery({ ...query, text: draft }, { replace });
    }, 250);
    return () => clearTimeout(timer);
  }, [draft, query, onQuery]);
  return (
    <search className="search">
      <Icon name="search" className="search-icon" />
      <input
        ref={input}
        id="history-search"
        type="search"
        aria-label="Search events"
        placeholder="Search documents, entities, orders…   ( / )"
        value={draft}
        maxLength={MAX_SEARCH_TEXT}
        autoComplete="off"
        spellCheck={false}
        onChange={(e) => setDraft(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') (e.target as HTMLInputElement).blur();
        }}
      />
    </search>
  );
}

function toggle<T>(list: readonly T[], item: T): T[] {
  return list.includes(item) ? list.filter((x) => x !== item) : [...list, item];
}

function Filters({ query, onQuery }: Pick<HistoryProps, 'query' | 'onQuery'>) {
  const types = EVENT_CATALOG.filter((info) => query.categories.includes(info.category));
  const extraTypes = query.types.filter((t) => !types.some((info) => info.type === t));
  return (
    <div className="filters">
      <fieldset className="chips">
        <legend className="visually-hidden">Categories</legend>
        {CATEGORIES.map((category: Category) => (
          <button
            key={category}
            type="button"
            className={`chip cat-${category.toLowerCase()}`}
            aria-pressed={query.categories.includes(category)}
            onClick={() => {
              const categories = toggle(query.categories, category);
              // Types of a category no longer chosen would hide everything: they go with it.
              const kept = query.types.filter((t) => {
                const c = describeEventType(t).category;
                return categories.includes(c) || categories.length === 0;
              });
              onQuery({ ...query, categories, types: kept });
            }}
          >
            {category}
          </button>
        ))}
      </fieldset>
      <div className="dates">
        <label>
          From
          <input
            type="date"
            value={query.from ?? ''}
            max={query.to ?? undefined}
            onChange={(e) => onQuery({ ...query, from: e.target.value || null })}
          />
        </label>
        <label>
          To
          <input
            type="date"
            value={query.to ?? ''}
            min={query.from ?? undefined}
            onChange={(e) => onQuery({ ...query, to: e.target.value || null })}
          />
        </label>
      </div>
      {types.length + extraTypes.length > 0 ? (
        <fieldset className="chips chips-types">
          <legend className="visually-hidden">Event types</legend>
          {[
            ...types.map((info) => ({ type: info.type, name: info.name })),
            ...extraTypes.map((t) => ({ type: t, name: t })),
          ].map(({ type, name }) => (
            <button
              key={type}
              type="button"
              className="chip chip-small"
              aria-pressed={query.types.includes(type)}
              onClick={() => onQuery({ ...query, types: toggle(query.types, type) })}
            >
              {name}
            </button>
          ))}
        </fieldset>
      ) : null}
    </div>
  );
}

function Actions({ query, list, onRead }: { query: HistoryQuery; list: EventList; onRead: HistoryProps['onRead'] }) {
  const api = useApi();
  const saveExport = useSaveExport();
  const toast = useToast();
  // Events saved so far while an export runs; null when none does.
  const [exporting, setExporting] = useState<number | null>(null);
  const exportAs = async (format: 'csv' | 'json') => {
    setExporting(0);
    try {
      // Streamed to a file a page at a time: the export is never held whole, here or in the core.
      const saved = await saveExport({ format, query: toEventQuery(query) }, setExporting);
      if (saved) {
        toast({
          tone: 'success',
          title: `Exported ${saved.count.toLocaleString()} event${saved.count === 1 ? '' : 's'}`,
          body: saved.filename,
        });
      }
    } catch (error) {
      toast({ tone: 'error', title: 'Export failed', body: error instanceof Error ? error.message : String(error) });
    } finally {
      setExporting(null);
    }
  };
  const busy = exporting !== null;
  const markAllRead = async () => {
    try {
      const { updated } = await api.markAllRead({});
      onRead(
        list.events.map((e) => e.id),
        true,
      );
      toast({ tone: 'success', title: `Marked ${updated.toLocaleString()} as read` });
    } catch (error) {
      toast({
        tone: 'error',
        title: 'Could not mark as read',
        body: error instanceof Error ? error.message : String(error),
      });
    }
  };
  return (
    <div className="actions">
      <button type="button" className="button" onClick={markAllRead}>
        <Icon name="check" size={16} />
        Mark all read
      </button>
      {busy ? (
        <span className="muted small" role="status">
          Exporting… {exporting > 0 ? `${exporting.toLocaleString()} events` : ''}
        </span>
      ) : null}
      <fieldset className="button-group">
        <legend className="visually-hidden">Export the events shown</legend>
        <button type="button" className="button" disabled={busy} onClick={() => exportAs('csv')}>
          <Icon name="download" size={16} />
          Export CSV
        </button>
        <button type="button" className="button" disabled={busy} onClick={() => exportAs('json')}>
          JSON
        </button>
      </fieldset>
    </div>
  );
}

function isTyping(target: EventTarget | null): boolean {
  const element = target as HTMLElement | null;
  return !!element && (element.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(element.tagName));
}

function EventListBox({ list, memory, onOpen }: Pick<HistoryProps, 'list' | 'memory' | 'onOpen'>) {
  const scroller = useRef<HTMLDivElement>(null);
  const [selected, setSelected] = useState(() => Math.min(memory.selected, Math.max(0, list.events.length - 1)));
  const [now, setNow] = useState(() => Date.now());
  const { events, hasMore } = list;
  const virtualizer = useVirtualizer({
    count: events.length + (hasMore ? 1 : 0),
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 10,
    initialOffset: memory.offset,
    getItemKey: (index) => events[index]?.id ?? 'more',
  });
  const items = virtualizer.getVirtualItems();
  const lastIndex = items[items.length - 1]?.index ?? 0;

  useEffect(() => {
    if (hasMore && lastIndex >= events.length - PREFETCH_ROWS) list.loadMore();
  }, [hasMore, lastIndex, events.length, list]);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 30_000);
    return () => clearInterval(timer);
  }, []);
  useEffect(() => {
    memory.selected = selected;
  }, [selected, memory]);

  // j / k move, Enter opens: anywhere on the page except while typing in a field.
  const latest = useRef({ selected, events, onOpen, virtualizer });
  latest.current = { selected, events, onOpen, virtualizer };
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey || isTyping(e.target)) return;
      const { selected: at, events: shown, onOpen: open, virtualizer: v } = latest.current;
      if (e.key === 'j' || e.key === 'k') {
        e.preventDefault();
        const next = Math.max(0, Math.min(shown.length - 1, at + (e.key === 'j' ? 1 : -1)));
        setSelected(next);
        v.scrollToIndex(next, { align: 'auto' });
      } else if (e.key === 'Enter' && (e.target === document.body || e.target === scroller.current)) {
        const event = shown[at];
        if (event) {
          e.preventDefault();
          open(event);
        }
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);

  // One callback for every row, so that a row whose props did not change is not rendered again.
  const openAt = useRef((index: number) => {
    const event = latest.current.events[index];
    if (!event) return;
    setSelected(index);
    latest.current.onOpen(event);
  }).current;

  const active = events[selected];
  return (
    <div
      ref={scroller}
      className="list-scroller"
      role="listbox"
      aria-label="Events, newest first"
      tabIndex={0}
      aria-activedescendant={active ? `event-${active.id}` : undefined}
      onScroll={(e) => {
        memory.offset = e.currentTarget.scrollTop;
      }}
    >
      <div className="list-inner" style={{ height: virtualizer.getTotalSize() }}>
        {items.map((item) => {
          const event = events[item.index];
          if (!event) {
            return (
              <div
                key="more"
                className="row row-more"
                style={{ transform: `translateY(${item.start}px)`, height: ROW_HEIGHT }}
                role="presentation"
              >
                {list.loading ? 'Loading more…' : ''}
              </div>
            );
          }
          return (
            <EventRow
              key={event.id}
              event={event}
              index={item.index}
              top={item.start}
              selected={item.index === selected}
              now={now}
              onOpen={openAt}
            />
          );
        })}
      </div>
    </div>
  );
}

/** One row; memoized, since a frame of scrolling renders the list but changes few rows. */
const EventRow = memo(function EventRow({
  event,
  index,
  top,
  selected,
  now,
  onOpen,
}: {
  event: StoredEvent;
  index: number;
  top: number;
  selected: boolean;
  now: number;
  onOpen(index: number): void;
}) {
  const name = eventName(event.event_type);
  const summary = keyFields(event.payload)
    .slice(0, 3)
    .map((field) => field.value)
    .join(' · ');
  return (
    <a
      id={`event-${event.id}`}
      href={`#/event/${event.id}`}
      role="option"
      aria-selected={selected}
      tabIndex={-1}
      className={`row${event.read ? '' : ' unread'}${selected ? ' selected' : ''}`}
      style={{ transform: `translateY(${top}px)`, height: ROW_HEIGHT }}
      onClick={(e) => {
        e.preventDefault();
        onOpen(index);
      }}
    >
      <span className="unread-dot" aria-hidden="true" />
      {event.read ? null : <span className="visually-hidden">Unread: </span>}
      <CategoryBadge category={event.category} />
      <span className="row-main">
        <span className="row-title">{name}</span>
        <span className="row-fields">{summary || event.event_type}</span>
      </span>
      <time className="row-time" dateTime={event.received_at} title={formatDateTime(event.received_at)}>
        {formatRelative(event.received_at, now)}
      </time>
    </a>
  );
});
