import type { Status } from '../shared/api.ts';

/** Dates, durations and states as people read them. Pure: `now` and the locale come in. */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

// Building a DateTimeFormat costs far more than using one, and a scrolling list formats two
// dates per row per frame: one formatter per locale and style, made once.
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(locale: string | undefined, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale ?? ''}|${JSON.stringify(options)}`;
  let found = formatters.get(key);
  if (!found) {
    found = new Intl.DateTimeFormat(locale, options);
    formatters.set(key, found);
  }
  return found;
}

export function formatDateTime(iso: string, locale?: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return formatter(locale, { dateStyle: 'medium', timeStyle: 'medium' }).format(date);
}

export function formatRelative(iso: string, now: number, locale?: string): string {
  const at = Date.parse(iso);
  if (!Number.isFinite(at)) return iso;
  const ago = now - at;
  if (ago < 45_000) return 'just now';
  if (ago < HOUR) return `${Math.round(ago / MINUTE)} min ago`;
  if (ago < DAY && new Date(at).getDate() === new Date(now).getDate()) {
    return formatter(locale, { timeStyle: 'short' }).format(at);
  }
  const sameYear = new Date(at).getFullYear() === new Date(now).getFullYear();
  return formatter(locale, {
    month: 'short',
    day: 'numeric',
    ...(sameYear ? {} : { year: 'numeric' }),
    hour: 'numeric',
    minute: '2-digit',
  }).format(at);
}

export function formatDuration(ms: number): string {
  if (ms < MINUTE) return `${Math.max(0, Math.round(ms / 1000))} s`;
  if (ms < HOUR) return `${Math.round(ms / MINUTE)} min`;
  if (ms < DAY) return `${Math.floor(ms / HOUR)} h ${Math.round((ms % HOUR) / MINUTE)} min`;
  return `${Math.floor(ms / DAY)} d ${Math.round((ms % DAY) / HOUR)} h`;
}

export type Tone = 'ok' | 'busy' | 'warn' | 'off';

/** The tunnel's state in words: a short title and what it means for SingleFile. */
export function describeTunnel(tunnel: Status['tunnel']): { tone: Tone; title: string; detail: string } {
  const why = tunnel.lastError ? ` ${tunnel.lastError}` : '';
  if (tunnel.provider === 'none') {
    return {
      tone: 'off',
      title: 'No tunnel',
      detail: 'Events reach this computer only from programs running on it; SingleFile needs a public HTTPS address.',
    };
  }
  switch (tunnel.state) {
    case 'online':
      return { tone: 'ok', title: 'Online', detail: 'SingleFile can reach this computer through the tunnel.' };
    case 'connecting':
      return { tone: 'busy', title: 'Connecting…', detail: 'Opening the tunnel to the internet.' };
    case 'reconnecting':
      return { tone: 'busy', title: 'Reconnecting…', detail: `The tunnel dropped and is being reopened.${why}` };
    case 'offline':
      return {
        tone: 'warn',
        title: 'Offline',
        detail: `SingleFile cannot reach this computer right now; it will retry its deliveries.${why}`,
      };
    default:
      return { tone: 'off', title: 'Stopped', detail: 'The tunnel is not running.' };
  }
}
