import { useCallback, useEffect, useRef, useState } from 'react';
import type { Stats } from '../../shared/api.ts';
import { CATEGORIES } from '../../shared/events.ts';
import { BarChart, type DayBar } from '../components/BarChart.tsx';
import { formatDateTime, formatDuration } from '../format.ts';
import { useApi, usePush } from '../hooks/transport.tsx';
import { errorText } from '../hooks/useAction.ts';

const DAYS = 30;

function localDay(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** Every day of the period, oldest first, with the days the core left out (no events) as zeros. */
export function fillDays(days: Stats['days'], count: number, today: Date): DayBar[] {
  const known = new Map(days.map((d) => [d.day, d.byCategory]));
  const result: DayBar[] = [];
  for (let back = count - 1; back >= 0; back--) {
    const date = new Date(today.getFullYear(), today.getMonth(), today.getDate() - back);
    const day = localDay(date);
    result.push({ day, byCategory: known.get(day) ?? {} });
  }
  return result;
}

export function StatsView() {
  const api = useApi();
  const [stats, setStats] = useState<Stats | null>(null);
  const [error, setError] = useState<string | null>(null);
  const pending = useRef<ReturnType<typeof setTimeout> | null>(null);
  const load = useCallback(() => {
    // The viewer's own days: the offset east of UTC, the opposite sign of getTimezoneOffset.
    api.getStats({ days: DAYS, tzOffsetMinutes: -new Date().getTimezoneOffset() }).then(
      (s) => {
        setStats(s);
        setError(null);
      },
      (failure: unknown) => setError(errorText(failure)),
    );
  }, [api]);
  useEffect(() => {
    load();
    return () => {
      if (pending.current) clearTimeout(pending.current);
    };
  }, [load]);
  usePush('event', () => {
    if (pending.current) return;
    pending.current = setTimeout(() => {
      pending.current = null;
      load();
    }, 1_000);
  });

  if (error) return <p className="error-text">Could not load the stats: {error}</p>;
  if (!stats) return <p className="loading">Loading…</p>;
  const { tunnel } = stats;
  const uptime = tunnel.runningMs > 0 ? Math.round((tunnel.onlineMs / tunnel.runningMs) * 100) : 0;
  return (
    <div className="page">
      <header className="page-head">
        <h1>Stats</h1>
      </header>
      <div className="tiles">
        <Tile label="Events in history" value={stats.total.toLocaleString()} />
        <Tile label="Duplicates" value={stats.duplicates.toLocaleString()} note="Retries by SingleFile, stored once" />
        <Tile
          label="Rejected deliveries"
          value={stats.rejected.toLocaleString()}
          note={`Malformed or refused, since start${stats.failed ? `; ${stats.failed} could not be stored` : ''}`}
        />
        <Tile label="Last event" value={stats.lastEventAt ? formatDateTime(stats.lastEventAt) : 'None yet'} small />
        <Tile
          label="Tunnel uptime"
          value={tunnel.onlineMs > 0 ? `${uptime}%` : '—'}
          note={`Online ${formatDuration(tunnel.onlineMs)} of ${formatDuration(tunnel.runningMs)} since start`}
        />
      </div>
      <section className="card" aria-labelledby="chart-title">
        <h2 id="chart-title">Events per day, last {DAYS} days</h2>
        <BarChart days={fillDays(stats.days, DAYS, new Date())} />
      </section>
      <section className="card" aria-labelledby="by-category-title">
        <h2 id="by-category-title">By category</h2>
        <ul className="category-totals">
          {CATEGORIES.map((category) => (
            <li key={category}>
              <span className={`swatch cat-${category.toLowerCase()}`} aria-hidden="true" />
              <span>{category}</span>
              <strong>{(stats.byCategory[category] ?? 0).toLocaleString()}</strong>
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}

function Tile({ label, value, note, small = false }: { label: string; value: string; note?: string; small?: boolean }) {
  return (
    <div className="tile">
      <p className="tile-label">{label}</p>
      <p className={small ? 'tile-value tile-value-small' : 'tile-value'}>{value}</p>
      {note ? <p className="tile-note">{note}</p> : null}
    </div>
  );
}
