import { useEffect, useState } from 'react';
import type { SelfTestResult, Status } from '../../shared/api.ts';
import type { StoredEvent } from '../../shared/events.ts';
import { CopyButton } from '../components/CopyButton.tsx';
import { Icon } from '../components/Icons.tsx';
import { describeTunnel, formatRelative } from '../format.ts';
import { useApi, usePush } from '../hooks/transport.tsx';
import { useAction } from '../hooks/useAction.ts';
import { eventName } from '../names.ts';
import { SETUP_STEPS } from '../setup-steps.ts';

/** First run and at a glance: the URL to give SingleFile, whether it can get through, and how to set it up. */
export function StatusView({ status }: { status: Status | null }) {
  if (!status) return <p className="loading">Loading…</p>;
  return (
    <div className="page">
      <header className="page-head">
        <h1>Status</h1>
      </header>
      <WebhookCard status={status} />
      <div className="grid-2">
        <FirstEventCard status={status} />
        <TestEventCard />
      </div>
      <SetupCard />
    </div>
  );
}

function WebhookCard({ status }: { status: Status }) {
  const tunnel = describeTunnel(status.tunnel);
  const url = status.webhookUrl ?? status.receiver.localUrl;
  const isPublic = status.webhookUrl !== null;
  return (
    <section className="card hero" aria-labelledby="webhook-title">
      <h2 id="webhook-title">{isPublic ? 'Your webhook URL' : 'Local webhook URL'}</h2>
      <p className="muted">
        {isPublic
          ? 'Paste this into SingleFile as the endpoint URL. Keep it private: anyone with it can send events here.'
          : 'SingleFile cannot use this address: it needs the public HTTPS address of a tunnel. It is shown for tests from this computer.'}
      </p>
      {url ? (
        <div className="url-box">
          <code className="url">{url}</code>
          <CopyButton text={url} label="Copy URL" className="primary" />
        </div>
      ) : (
        <p className="muted">The receiver is not running.</p>
      )}
      <p className="tunnel-line">
        <span className={`dot tone-${tunnel.tone}`} aria-hidden="true" />
        <span>
          Tunnel: <strong>{tunnel.title}</strong>. {tunnel.detail}
        </span>
      </p>
      {status.tunnel.provider !== 'none' ? <TunnelCheck tunnel={status.tunnel} /> : null}
      {status.receiver.throttled ? (
        <div className="callout callout-warn" role="alert">
          <Icon name="warning" className="callout-icon" />
          <p>
            Too many deliveries at once: some are being refused for now (
            {status.receiver.throttledDeliveries.toLocaleString()} so far). SingleFile retries them later.
          </p>
        </div>
      ) : null}
      {status.tunnel.urlChanged ? (
        <div className="callout callout-warn" role="alert">
          <Icon name="warning" className="callout-icon" />
          <p>
            The public URL changed from <code>{status.tunnel.urlChanged.from}</code> to{' '}
            <code>{status.tunnel.urlChanged.to}</code>. Update the endpoint in SingleFile, or it will keep sending to
            the old one.
          </p>
        </div>
      ) : null}
    </section>
  );
}

/** The tunnel's self-test (a request through the public URL back to this computer): the latest, and one now. */
function TunnelCheck({ tunnel }: { tunnel: Status['tunnel'] }) {
  const api = useApi();
  // The answer to "check now"; the status push brings the same result, and later periodic ones.
  const { result: checked, running: checking, error, run: check } = useAction(() => api.checkTunnel({}));
  const last = newest(tunnel.selfTest, checked);
  return (
    <p className="tunnel-check small">
      <span role="status">
        {last === null
          ? 'Not checked yet. '
          : last.ok
            ? `Checked ${formatRelative(last.at, Date.now())}: through the tunnel and back in ${Math.round(last.rttMs ?? 0)} ms. `
            : `Checked ${formatRelative(last.at, Date.now())}: it did not get through (${last.error}). `}
      </span>
      <button type="button" className="button small" onClick={check} disabled={checking}>
        {checking ? 'Checking…' : 'Check the tunnel now'}
      </button>
      {error ? (
        <span className="error-text" role="alert">
          {' '}
          Could not check: {error}
        </span>
      ) : null}
    </p>
  );
}

function newest(a: SelfTestResult | null, b: SelfTestResult | null): SelfTestResult | null {
  if (a === null || b === null) return a ?? b;
  return a.at >= b.at ? a : b;
}

function FirstEventCard({ status }: { status: Status }) {
  const api = useApi();
  const [last, setLast] = useState<StoredEvent | null>(null);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    api.listEvents({ limit: 1 }).then(
      (page) => setLast((seen) => seen ?? page.events[0] ?? null),
      () => {},
    );
    const timer = setInterval(() => setNow(Date.now()), 30_000);
    return () => clearInterval(timer);
  }, [api]);
  usePush('event', (event) => {
    setLast(event);
    setNow(Date.now());
  });
  const waiting = status.events.total === 0 && !last;
  return (
    <section className="card" aria-labelledby="events-title">
      <h2 id="events-title">Events</h2>
      {waiting ? (
        <div className="waiting" role="status">
          <span className="pulse" aria-hidden="true" />
          <div>
            <strong>Waiting for the first event…</strong>
            <p className="muted small">
              Once SingleFile is set up and the endpoint is enabled, events appear here within seconds.
            </p>
          </div>
        </div>
      ) : (
        <div className="last-event">
          <p className="big-number">{status.events.total.toLocaleString()}</p>
          <p className="muted small">
            events received{status.events.unread ? `, ${status.events.unread.toLocaleString()} unread` : ''}
          </p>
          {last ? (
            <p>
              Last: <a href={`#/event/${last.id}`}>{eventName(last.event_type)}</a>,{' '}
              <time dateTime={last.received_at}>{formatRelative(last.received_at, now)}</time>
            </p>
          ) : null}
          <a className="button last-event-link" href="#/history">
            Open history
          </a>
        </div>
      )}
    </section>
  );
}

const STAGES = ['tunnel', 'receiver', 'history'] as const;
type Stage = (typeof STAGES)[number];
const STAGE_NAMES: Record<Stage, string> = {
  tunnel: 'Tunnel',
  receiver: 'Receiver',
  history: 'History',
};
/** What a failure at each stage means. */
const FAILED_AT: Record<Stage, string> = {
  tunnel: 'It did not get through the tunnel.',
  receiver: 'The receiver refused it.',
  history: 'It arrived but could not be stored.',
};

function TestEventCard() {
  const api = useApi();
  const { result, running: sending, error, run: send } = useAction(() => api.sendTestEvent({}));
  // Sent to the local URL, it never went through a tunnel: no tunnel stage to show.
  const stages: readonly Stage[] = result?.via === 'local' ? STAGES.slice(1) : STAGES;
  const failedIndex = result?.failedAt ? stages.indexOf(result.failedAt) : -1;
  return (
    <section className="card" aria-labelledby="test-title">
      <h2 id="test-title">Test the connection</h2>
      <p className="muted small">
        Sends an event the way SingleFile does: through the public URL, or the local one without a tunnel.
      </p>
      <button type="button" className="button primary" onClick={send} disabled={sending}>
        <Icon name="send" size={16} />
        {sending ? 'Sending…' : 'Send a test event'}
      </button>
      {result ? (
        <div className="test-result" role="status">
          <ol className="path" aria-label="Where the test event got to">
            {stages.map((stage, i) => {
              const state = result.ok || i < failedIndex ? 'ok' : i === failedIndex ? 'failed' : 'skipped';
              return (
                <li key={stage} className={`path-step path-${state}`}>
                  <span className="path-dot" aria-hidden="true" />
                  {STAGE_NAMES[stage]}
                  <span className="visually-hidden">
                    : {state === 'ok' ? 'passed' : state === 'failed' ? 'failed here' : 'not reached'}
                  </span>
                </li>
              );
            })}
          </ol>
          <p className={result.ok ? 'ok-text' : 'error-text'}>
            {result.ok ? 'It worked. ' : `${FAILED_AT[result.failedAt ?? 'receiver']} `}
            {result.message}
          </p>
          {result.eventId ? <a href={`#/event/${result.eventId}`}>See the test event</a> : null}
        </div>
      ) : null}
      {error ? (
        <p className="error-text" role="alert">
          Could not send: {error}
        </p>
      ) : null}
    </section>
  );
}

function SetupCard() {
  return (
    <section className="card" aria-labelledby="setup-title">
      <h2 id="setup-title">Connect SingleFile</h2>
      <ol className="steps">
        {SETUP_STEPS.map((step) => (
          <li key={step.title}>
            <h3>{step.title}</h3>
            <ul>
              {step.items.map((item) => (
                <li key={item}>{item}</li>
              ))}
            </ul>
            {step.important ? (
              <div className="callout callout-warn">
                <Icon name="warning" className="callout-icon" />
                <p>
                  <strong>{step.important}</strong>
                </p>
              </div>
            ) : null}
          </li>
        ))}
      </ol>
    </section>
  );
}
