import { useEffect, useRef, useState } from 'react';
import { describeEventType, EVENT_CATALOG, keyFields, type StoredEvent } from '../../shared/events.ts';
import { CategoryBadge } from '../components/CategoryBadge.tsx';
import { CopyButton } from '../components/CopyButton.tsx';
import { Icon } from '../components/Icons.tsx';
import { formatDateTime } from '../format.ts';
import { useApi } from '../hooks/transport.tsx';
import { errorText } from '../hooks/useAction.ts';
import { eventName, isTestEvent } from '../names.ts';

/**
 * One event: SingleFile's name for it, the fields people know it by, and the payload exactly as
 * it came. Everything from the payload is rendered as text by React, never as HTML.
 */
export function EventDetail({
  id,
  onBack,
  onRead,
}: {
  id: number;
  onBack(): void;
  onRead(ids: number[], read: boolean): void;
}) {
  const api = useApi();
  const [event, setEvent] = useState<StoredEvent | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  // The latest callback, without reloading the event when its identity changes.
  const reported = useRef(onRead);
  reported.current = onRead;

  useEffect(() => {
    let current = true;
    setEvent(undefined);
    api.getEvent({ id }).then(
      (found) => {
        if (!current) return;
        setEvent(found);
        // Opening an event is reading it.
        if (found && !found.read) {
          api.markRead({ ids: [id], read: true }).then(
            () => {
              if (current) setEvent({ ...found, read: true });
              reported.current([id], true);
            },
            () => {},
          );
        }
      },
      (failure: unknown) => current && setError(errorText(failure)),
    );
    return () => {
      current = false;
    };
  }, [api, id]);

  const back = (
    <button type="button" className="button ghost" onClick={onBack} aria-label="Back to history (Esc)">
      <Icon name="back" size={16} />
      History
    </button>
  );
  if (error) {
    return (
      <div className="page">
        {back}
        <p className="error-text" role="alert">
          Could not load event #{id}: {error}
        </p>
      </div>
    );
  }
  if (event === undefined) return <p className="loading">Loading…</p>;
  if (event === null) {
    return (
      <div className="page">
        {back}
        <div className="empty">
          <p>Event #{id} is not in the history (it may have been removed by the retention settings).</p>
        </div>
      </div>
    );
  }

  const type = describeEventType(event.event_type);
  const trigger = EVENT_CATALOG.find((info) => info.type === event.event_type)?.trigger;
  const fields = keyFields(event.payload);
  const raw = JSON.stringify(event.payload, null, 2);
  return (
    <article className="page" aria-labelledby="event-title">
      <div className="detail-nav">{back}</div>
      <header className="detail-head">
        <CategoryBadge category={event.category} />
        <h1 id="event-title">{eventName(event.event_type)}</h1>
        <code className="type-code">{event.event_type}</code>
      </header>
      {type.known ? (
        <p className="muted">{trigger}.</p>
      ) : isTestEvent(event.event_type) ? (
        <p className="muted">Sent by “Send a test event” to check the way from SingleFile to this computer.</p>
      ) : (
        <p className="muted">An event type SingleFile Monitor does not know: shown exactly as it came.</p>
      )}

      <section className="card" aria-labelledby="fields-title">
        <h2 id="fields-title">Details</h2>
        <dl className="fields">
          {fields.map((field) => (
            <div key={field.label}>
              <dt>{field.label}</dt>
              <dd>{field.value}</dd>
            </div>
          ))}
          <div>
            <dt>Received</dt>
            <dd>
              <time dateTime={event.received_at}>{formatDateTime(event.received_at)}</time>
            </dd>
          </div>
          {event.occurred_at ? (
            <div>
              <dt>Happened</dt>
              <dd>
                <time dateTime={event.occurred_at}>{formatDateTime(event.occurred_at)}</time>
              </dd>
            </div>
          ) : null}
          <div>
            <dt>Deliveries</dt>
            <dd>{event.deliveries === 1 ? '1' : `${event.deliveries} (SingleFile retried; stored once)`}</dd>
          </div>
          <div>
            <dt>History id</dt>
            <dd>#{event.id}</dd>
          </div>
        </dl>
        <button
          type="button"
          className="button small"
          onClick={() =>
            api.markRead({ ids: [event.id], read: !event.read }).then(() => {
              setEvent({ ...event, read: !event.read });
              onRead([event.id], !event.read);
            })
          }
        >
          Mark as {event.read ? 'unread' : 'read'}
        </button>
      </section>

      <section className="card" aria-labelledby="raw-title">
        <div className="card-head">
          <h2 id="raw-title">Raw JSON</h2>
          <CopyButton text={raw} label="Copy JSON" />
        </div>
        <pre className="raw">
          <code>{raw}</code>
        </pre>
      </section>
    </article>
  );
}
