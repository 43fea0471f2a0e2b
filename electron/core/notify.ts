import type { Notice } from '../../shared/api.ts';
import { describeEventType, EVENT_CATALOG, keyFields, type StoredEvent } from '../../shared/events.ts';
import { typeSwitchedOn } from '../../shared/notification-switches.ts';
import type { Settings } from '../../shared/settings.ts';

/**
 * The notification policy: which events and tunnel notices become a desktop notification, and
 * with what words. Pure logic with an injected clock, so that the tray app decides exactly as the
 * tests do; Electron only shows what `deliver` is handed.
 *
 * Order of the rules: the type's switch → pause → quiet hours → digest of bursts.
 */

export type NotificationSettings = Settings['notifications'];

/** The key of tunnel notices in `types` and `quietHours.allowTypes`; on unless set to false. */
export const TUNNEL_NOTICE_TYPE = 'tunnel';

/**
 * The key of the receiver's own notices (flood control refusing deliveries); on unless set to
 * false. Not the tunnel's switch: someone who silences a flapping tunnel must still hear that
 * SingleFile's deliveries are being refused, and the other way round.
 */
export const RECEIVER_NOTICE_TYPE = 'receiver';

/** The switch a notice goes by: the receiver's kinds are named `receiver-…`; the rest are the tunnel's. */
export function noticeType(notice: Pick<Notice, 'kind'>): string {
  return notice.kind.startsWith('receiver-') ? RECEIVER_NOTICE_TYPE : TUNNEL_NOTICE_TYPE;
}

/**
 * The type of "Send a test event" (monitor.ts's TEST_EVENT_TYPE, repeated so that this module
 * stays free of the store). It always notifies unless turned off by name: the person pressed
 * the button to see that notifications work, whatever the hour or the pause.
 */
export const TEST_EVENT_TYPE = 'monitor.test';

/** What a notification says; `eventId` is the event a click opens (null: the history). */
export type NotifyDecision = Notice & { eventId: number | null };

// ---------------------------------------------------------------------------------------------
// Rules

/** The app's own kinds: on unless switched off by name, whatever the "Other" category says. */
const ALWAYS_ON = new Set([TEST_EVENT_TYPE, TUNNEL_NOTICE_TYPE, RECEIVER_NOTICE_TYPE]);

export function typeNotifies(settings: NotificationSettings, type: string): boolean {
  if (!Object.hasOwn(settings.types, type) && ALWAYS_ON.has(type)) return true;
  return typeSwitchedOn(settings, type);
}

export function isPaused(settings: NotificationSettings, nowMs: number): boolean {
  return settings.pausedUntil !== null && settings.pausedUntil > nowMs;
}

/** Minutes since local midnight. */
export function localMinuteOfDay(ms: number): number {
  const date = new Date(ms);
  return date.getHours() * 60 + date.getMinutes();
}

function parseTimeOfDay(text: string): number {
  const [hours, minutes] = text.split(':').map(Number);
  return (hours ?? 0) * 60 + (minutes ?? 0);
}

/**
 * Quiet from `start` (included) to `end` (excluded), crossing midnight when start > end
 * (22:00–07:00). start = end is an empty span, not a whole day: a whole day is a pause.
 */
export function inQuietHours(quietHours: NotificationSettings['quietHours'], minuteOfDay: number): boolean {
  if (!quietHours.enabled) return false;
  const start = parseTimeOfDay(quietHours.start);
  const end = parseTimeOfDay(quietHours.end);
  if (start === end) return false;
  return start < end ? minuteOfDay >= start && minuteOfDay < end : minuteOfDay >= start || minuteOfDay < end;
}

export type Verdict = 'notify' | 'off' | 'paused' | 'quiet-hours';

/** Whether something of this type may notify now, and if not, why (for the log and the tests). */
export function verdict(settings: NotificationSettings, type: string, nowMs: number, minuteOfDay: number): Verdict {
  if (!typeNotifies(settings, type)) return 'off';
  if (type === TEST_EVENT_TYPE) return 'notify';
  if (isPaused(settings, nowMs)) return 'paused';
  if (inQuietHours(settings.quietHours, minuteOfDay) && !settings.quietHours.allowTypes.includes(type)) {
    return 'quiet-hours';
  }
  return 'notify';
}

// ---------------------------------------------------------------------------------------------
// Words

/** Payload text is anything the sender chose: one line, no control characters, bounded. */
function clean(text: string, max = 80): string {
  return trimTo(text.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\s]+/gu, ' ').trim(), max);
}

/** Cuts to `max` characters (code points, never half an emoji) with an ellipsis. */
export function trimTo(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}

const KEY_FIELDS_SHOWN = 3;

export function eventNotification(event: StoredEvent, at: string): NotifyDecision {
  const type = describeEventType(event.event_type);
  const info = EVENT_CATALOG.find((entry) => entry.type === event.event_type);
  if (event.event_type === TEST_EVENT_TYPE) {
    return {
      kind: 'event',
      title: 'Test event received',
      body: 'The webhook reached this computer and notifications work.',
      at,
      eventId: event.id,
    };
  }
  const fields = keyFields(event.payload)
    .slice(0, KEY_FIELDS_SHOWN)
    .map(({ label, value }) => `${label}: ${clean(value)}`);
  return {
    kind: 'event',
    title: clean(type.name),
    body: fields.length > 0 ? fields.join(' · ') : (info?.trigger ?? 'New event'),
    at,
    eventId: event.id,
  };
}

/** Digest phrases, singular and plural, for each catalog type ("5 documents available"). */
const PHRASES: Record<string, readonly [one: string, many: string]> = {
  'entity.created': ['new entity', 'new entities'],
  'entity.updated': ['entity updated', 'entities updated'],
  'document.created': ['document available', 'documents available'],
  'document.updated': ['document updated', 'documents updated'],
  'document.deleted': ['document deleted', 'documents deleted'],
  'jurisdiction.created': ['jurisdiction added', 'jurisdictions added'],
  'jurisdiction.updated': ['jurisdiction updated', 'jurisdictions updated'],
  'task.created': ['new task', 'new tasks'],
  'order.submitted': ['order submitted', 'orders submitted'],
  'order.cancelled': ['order cancelled', 'orders cancelled'],
  'order.completed': ['order completed', 'orders completed'],
};

export function hasDigestPhrase(type: string): boolean {
  return Object.hasOwn(PHRASES, type);
}

/**
 * "5 documents available · 2 orders completed": most frequent first, ties in arrival order.
 * `more`: the events held after a burst's first digest ("3 more documents available").
 */
export function digestNotification(
  events: readonly StoredEvent[],
  at: string,
  { more = false }: { more?: boolean } = {},
): NotifyDecision {
  const counts = new Map<string, number>();
  for (const event of events) counts.set(event.event_type, (counts.get(event.event_type) ?? 0) + 1);
  const extra = more ? ' more' : '';
  const parts = [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([type, count]) => {
      const phrase = Object.hasOwn(PHRASES, type) ? PHRASES[type] : undefined;
      return phrase
        ? `${count}${extra} ${count === 1 ? phrase[0] : phrase[1]}`
        : `${count}${extra} × ${clean(type, 40)}`;
    });
  const title = more ? `${events.length} more event${events.length === 1 ? '' : 's'}` : `${events.length} new events`;
  return { kind: 'digest', title, body: parts.join(' · '), at, eventId: null };
}

export function noticeNotification(notice: Notice): NotifyDecision {
  return { ...notice, title: clean(notice.title), body: clean(notice.body, 300), eventId: null };
}

/**
 * What each platform shows before it cuts the text itself, roughly: a toast's or a banner's
 * title line and its few lines of body. Trimming ourselves keeps the ellipsis where we want it.
 */
export const PLATFORM_LIMITS: Record<'darwin' | 'win32' | 'linux', { title: number; body: number }> = {
  darwin: { title: 60, body: 200 },
  win32: { title: 60, body: 200 },
  linux: { title: 60, body: 300 },
};

/** Escapes the characters that the freedesktop notification body reads as markup. */
export function escapeMarkup(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * The title and body to hand to the platform: trimmed to its limits, and on Linux the body
 * escaped, since notification servers render it as markup (a "<b>" in an entity's name must
 * stay text). The title (summary) is plain text in the freedesktop spec.
 */
export function forPlatform(decision: NotifyDecision, platform: NodeJS.Platform): { title: string; body: string } {
  const limits = platform === 'darwin' || platform === 'win32' ? PLATFORM_LIMITS[platform] : PLATFORM_LIMITS.linux;
  const title = trimTo(decision.title, limits.title);
  const body = trimTo(decision.body, limits.body);
  return platform === 'darwin' || platform === 'win32' ? { title, body } : { title, body: escapeMarkup(body) };
}

// ---------------------------------------------------------------------------------------------
// The state machine: single notifications, then a digest when a burst comes

export interface PolicyClock {
  now(): number;
  /** Runs `fn` once after `ms`; returns a cancel function. */
  setTimer(fn: () => void, ms: number): () => void;
}

export const systemClock: PolicyClock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const timer = setTimeout(fn, ms);
    // A pending digest must not keep the CLI or a test process alive.
    timer.unref?.();
    return () => clearTimeout(timer);
  },
};

export interface DigestTiming {
  /** The window in which more than `threshold` notifying events make a burst. */
  windowMs: number;
  threshold: number;
  /** From the first held event to the digest: the rest of a batch joins it. */
  gatherMs: number;
  /** A burst ends after this long without a notifying event. */
  quietGapMs: number;
  /** In a burst that goes on, what was held since the last digest is told at least this often. */
  maxQuietMs: number;
}

export const DEFAULT_DIGEST_TIMING: DigestTiming = {
  windowMs: 10_000,
  threshold: 3,
  gatherMs: 3_000,
  quietGapMs: 10_000,
  maxQuietMs: 60_000,
};

export interface PolicyOptions {
  /** Read at each decision, so a change in the settings applies to the next event. */
  settings: () => NotificationSettings;
  deliver: (decision: NotifyDecision) => void;
  clock?: PolicyClock;
  minuteOfDay?: (ms: number) => number;
  timing?: Partial<DigestTiming>;
}

export type PolicyState = 'idle' | 'gathering' | 'quiet';

export interface NotificationPolicy {
  onEvent(event: StoredEvent): Verdict | 'held';
  onNotice(notice: Notice): Verdict;
  state(): PolicyState;
  /** Cancels pending timers; the events being held are dropped. */
  dispose(): void;
}

/**
 * idle: each notifying event is shown, until `threshold` have been shown within `windowMs`;
 *   the next one starts a burst → gathering.
 * gathering: events are held for `gatherMs`, then shown as one digest → quiet.
 * quiet: no notification while the burst goes on, but the events are held, not dropped: when
 *   `quietGapMs` pass without one, those held since the digest are told in one closing digest
 *   ("3 more documents available") → idle. A burst that never pauses gets such a digest at its
 *   first event `maxQuietMs` after the last one, so nothing the person asked for is swallowed.
 * Notices (the tunnel's, the receiver's) and test events skip all this: each one matters.
 */
export function createNotificationPolicy(options: PolicyOptions): NotificationPolicy {
  const clock = options.clock ?? systemClock;
  const minuteOfDay = options.minuteOfDay ?? localMinuteOfDay;
  const timing = { ...DEFAULT_DIGEST_TIMING, ...options.timing };
  let state: PolicyState = 'idle';
  let shownAt: number[] = [];
  let held: StoredEvent[] = [];
  let lastDigestAt = 0;
  let cancelTimer: (() => void) | null = null;

  const iso = (ms: number) => new Date(ms).toISOString();

  function setTimer(fn: () => void, ms: number): void {
    cancelTimer?.();
    cancelTimer = clock.setTimer(() => {
      cancelTimer = null;
      fn();
    }, ms);
  }

  /**
   * Tells what was held, as itself when it is one event. Held events are checked again: a pause
   * or quiet hours that began while they waited still apply.
   */
  function tellHeld(more: boolean): void {
    const now = clock.now();
    const settings = options.settings();
    const events = held.filter((event) => verdict(settings, event.event_type, now, minuteOfDay(now)) === 'notify');
    held = [];
    lastDigestAt = now;
    const at = iso(now);
    if (events.length === 1 && events[0]) options.deliver(eventNotification(events[0], at));
    else if (events.length > 1) options.deliver(digestNotification(events, at, { more }));
  }

  function flushDigest(): void {
    state = 'quiet';
    setTimer(endBurst, timing.quietGapMs);
    tellHeld(false);
  }

  function endBurst(): void {
    tellHeld(true);
    state = 'idle';
    shownAt = [];
  }

  return {
    onEvent(event) {
      const now = clock.now();
      const settings = options.settings();
      const decided = verdict(settings, event.event_type, now, minuteOfDay(now));
      if (decided !== 'notify') return decided;
      if (event.event_type === TEST_EVENT_TYPE || !settings.digest) {
        options.deliver(eventNotification(event, iso(now)));
        return 'notify';
      }
      if (state === 'quiet') {
        held.push(event);
        if (now - lastDigestAt >= timing.maxQuietMs) tellHeld(true);
        setTimer(endBurst, timing.quietGapMs);
        return 'held';
      }
      if (state === 'gathering') {
        held.push(event);
        return 'held';
      }
      shownAt = shownAt.filter((at) => now - at < timing.windowMs);
      if (shownAt.length < timing.threshold) {
        shownAt.push(now);
        options.deliver(eventNotification(event, iso(now)));
        return 'notify';
      }
      state = 'gathering';
      held = [event];
      setTimer(flushDigest, timing.gatherMs);
      return 'held';
    },
    onNotice(notice) {
      const now = clock.now();
      const decided = verdict(options.settings(), noticeType(notice), now, minuteOfDay(now));
      if (decided === 'notify') options.deliver(noticeNotification(notice));
      return decided;
    },
    state: () => state,
    dispose() {
      cancelTimer?.();
      cancelTimer = null;
      held = [];
      state = 'idle';
    },
  };
}
