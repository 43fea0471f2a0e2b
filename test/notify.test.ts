import { describe, expect, it } from 'vitest';
import { TEST_EVENT_TYPE as MONITOR_TEST_EVENT_TYPE } from '../electron/core/monitor.ts';
import {
  createNotificationPolicy,
  digestNotification,
  escapeMarkup,
  eventNotification,
  forPlatform,
  hasDigestPhrase,
  inQuietHours,
  localMinuteOfDay,
  type NotificationSettings,
  type NotifyDecision,
  noticeType,
  type PolicyClock,
  RECEIVER_NOTICE_TYPE,
  TEST_EVENT_TYPE,
  TUNNEL_NOTICE_TYPE,
  trimTo,
  typeNotifies,
  verdict,
} from '../electron/core/notify.ts';
import type { Notice } from '../shared/api.ts';
import { CATEGORIES, EVENT_CATALOG, type StoredEvent } from '../shared/events.ts';
import {
  categoryState,
  PAUSED_UNTIL_RESUMED,
  pauseUntil,
  typeSwitchedOn,
  withCategory,
} from '../shared/notification-switches.ts';
import { DEFAULT_SETTINGS } from '../shared/settings.ts';
import { loadFixtures } from './helpers/fixtures.ts';

const base = DEFAULT_SETTINGS.notifications;
const settingsWith = (patch: Partial<NotificationSettings>): NotificationSettings => ({ ...base, ...patch });

let nextId = 1;
function stored(event_type: string, payload: Record<string, unknown> = {}): StoredEvent {
  return {
    id: nextId++,
    event_type,
    category: 'Other',
    received_at: '2024-01-15T10:00:00.000Z',
    occurred_at: null,
    payload: { event_type, ...payload },
    deliveries: 1,
    read: false,
  };
}

/** A clock whose time moves only when the test says so; timers fire in order as it passes. */
function manualClock(start = Date.UTC(2024, 0, 15, 12)) {
  let now = start;
  const timers: Array<{ at: number; fn: () => void; live: boolean }> = [];
  const clock: PolicyClock & { advance(ms: number): void; pending(): number } = {
    now: () => now,
    setTimer(fn, ms) {
      const timer = { at: now + ms, fn, live: true };
      timers.push(timer);
      return () => {
        timer.live = false;
      };
    },
    advance(ms) {
      const end = now + ms;
      for (;;) {
        const due = timers.filter((t) => t.live && t.at <= end).sort((a, b) => a.at - b.at)[0];
        if (!due) break;
        due.live = false;
        now = due.at;
        due.fn();
      }
      now = end;
    },
    pending: () => timers.filter((t) => t.live).length,
  };
  return clock;
}

const NOON = 12 * 60;

describe('rules per type and category', () => {
  it.each([
    ['order.completed', base, true],
    ['document.created', base, true],
    ['order.submitted', base, false],
    ['entity.created', base, false],
    ['invoice.paid', base, false],
    ['order.completed', settingsWith({ types: { 'order.completed': false } }), false],
    ['task.created', settingsWith({ types: { 'task.created': true } }), true],
    ['invoice.paid', settingsWith({ types: { 'category:Other': true } }), true],
    // A type's own switch wins over its category's.
    ['order.completed', settingsWith({ types: { 'category:Orders': false, 'order.completed': true } }), true],
    ['order.cancelled', settingsWith({ types: { 'category:Orders': true } }), true],
    [TEST_EVENT_TYPE, base, true],
    [TEST_EVENT_TYPE, settingsWith({ types: { [TEST_EVENT_TYPE]: false } }), false],
    [TUNNEL_NOTICE_TYPE, base, true],
    [TUNNEL_NOTICE_TYPE, settingsWith({ types: { [TUNNEL_NOTICE_TYPE]: false } }), false],
  ])('%s notifies: %s → %s', (type, settings, expected) => {
    expect(typeNotifies(settings, type)).toBe(expected);
  });

  it('a category switch turns every type of the category on or off, and its state follows', () => {
    const ordersOn = { ...base, types: withCategory(base.types, 'Orders', true) };
    for (const info of EVENT_CATALOG) {
      const expected = info.category === 'Orders' || base.defaultOn.includes(info.type);
      expect(typeNotifies(ordersOn, info.type), info.type).toBe(expected);
    }
    expect(categoryState(ordersOn, 'Orders')).toBe('on');
    expect(categoryState(base, 'Orders')).toBe('mixed');
    expect(categoryState(base, 'Tasks')).toBe('off');
    const docsOff = { ...base, types: withCategory(base.types, 'Documents', false) };
    expect(typeNotifies(docsOff, 'document.created')).toBe(false);
    expect(categoryState(docsOff, 'Documents')).toBe('off');
    const otherOn = { ...base, types: withCategory(base.types, 'Other', true) };
    expect(categoryState(otherOn, 'Other')).toBe('on');
    expect(typeNotifies(otherOn, 'invoice.paid')).toBe(true);
  });

  it('every category of the catalog has a state', () => {
    for (const category of CATEGORIES) expect(['on', 'off', 'mixed']).toContain(categoryState(base, category));
  });

  it("the window's switches (typeSwitchedOn) are the policy's, but for the app's own kinds", () => {
    const variants: NotificationSettings[] = [
      base,
      settingsWith({ types: { 'order.completed': false, 'task.created': true } }),
      settingsWith({ types: { 'category:Other': true, 'category:Orders': false } }),
      settingsWith({ defaultOn: [], types: { 'document.updated': true } }),
    ];
    const types = [...EVENT_CATALOG.map((info) => info.type), 'invoice.paid', 'document.archived'];
    for (const settings of variants) {
      for (const type of types) expect(typeSwitchedOn(settings, type), type).toBe(typeNotifies(settings, type));
    }
    // "Other" off silences unknown SingleFile types, never the test event or the app's notices.
    const otherOff = settingsWith({ types: { 'category:Other': false } });
    expect(typeSwitchedOn(otherOff, 'invoice.paid')).toBe(false);
    for (const own of [TEST_EVENT_TYPE, TUNNEL_NOTICE_TYPE, RECEIVER_NOTICE_TYPE]) {
      expect(typeSwitchedOn(otherOff, own), own).toBe(false);
      expect(typeNotifies(otherOff, own), own).toBe(true);
    }
  });
});

describe('quiet hours', () => {
  const at = (hours: number, minutes = 0) => hours * 60 + minutes;
  it.each([
    // start, end, time, quiet?
    ['22:00', '07:00', at(23, 30), true],
    ['22:00', '07:00', at(0, 0), true],
    ['22:00', '07:00', at(6, 59), true],
    ['22:00', '07:00', at(7, 0), false],
    ['22:00', '07:00', at(21, 59), false],
    ['22:00', '07:00', at(22, 0), true],
    ['09:00', '17:30', at(12, 0), true],
    ['09:00', '17:30', at(17, 30), false],
    ['09:00', '17:30', at(8, 59), false],
    ['12:00', '12:00', at(12, 0), false],
  ])('%s–%s at minute %i: quiet = %s', (start, end, minute, expected) => {
    expect(inQuietHours({ enabled: true, start, end, allowTypes: [] }, minute)).toBe(expected);
  });

  it('are off unless enabled', () => {
    expect(inQuietHours({ enabled: false, start: '00:00', end: '23:59', allowTypes: [] }, at(12))).toBe(false);
  });

  it('let the chosen types through, and only those', () => {
    const quiet = settingsWith({
      quietHours: { enabled: true, start: '22:00', end: '07:00', allowTypes: ['order.completed'] },
    });
    const now = Date.UTC(2024, 0, 15, 23);
    expect(verdict(quiet, 'order.completed', now, at(23))).toBe('notify');
    expect(verdict(quiet, 'document.created', now, at(23))).toBe('quiet-hours');
    expect(verdict(quiet, 'document.created', now, at(8))).toBe('notify');
  });

  it('read the local time of day', () => {
    expect(localMinuteOfDay(new Date(2024, 5, 1, 23, 45).getTime())).toBe(at(23, 45));
    expect(localMinuteOfDay(new Date(2024, 5, 2, 0, 5).getTime())).toBe(at(0, 5));
  });
});

describe('pause', () => {
  it('for an hour, until tomorrow morning, until resumed', () => {
    const evening = new Date(2024, 2, 14, 17, 20).getTime();
    expect(pauseUntil('hour', evening)).toBe(evening + 3_600_000);
    const tomorrow = new Date(pauseUntil('tomorrow', evening));
    expect([tomorrow.getDate(), tomorrow.getHours(), tomorrow.getMinutes()]).toEqual([15, 8, 0]);
    // At 01:30 "tomorrow" is this morning: the night is not over yet.
    const night = new Date(pauseUntil('tomorrow', new Date(2024, 2, 15, 1, 30).getTime()));
    expect([night.getDate(), night.getHours()]).toEqual([15, 8]);
    // Across a month's end.
    const monthEnd = new Date(pauseUntil('tomorrow', new Date(2024, 0, 31, 9).getTime()));
    expect([monthEnd.getMonth(), monthEnd.getDate(), monthEnd.getHours()]).toEqual([1, 1, 8]);
    expect(pauseUntil('resume', evening)).toBe(PAUSED_UNTIL_RESUMED);
  });

  it('"until I resume" survives the trip through JSON settings', () => {
    const saved = JSON.parse(JSON.stringify({ pausedUntil: pauseUntil('resume', 0) }));
    expect(saved.pausedUntil).toBe(PAUSED_UNTIL_RESUMED);
  });

  it.each([
    [null, 'notify'],
    [1_000, 'notify'],
    [2_000, 'notify'],
    [2_001, 'paused'],
    [PAUSED_UNTIL_RESUMED, 'paused'],
  ] as const)('paused until %s, at 2000: %s', (pausedUntil, expected) => {
    expect(verdict(settingsWith({ pausedUntil }), 'order.completed', 2_000, NOON)).toBe(expected);
  });

  it('the test event gets through a pause and quiet hours; a switched-off type never does', () => {
    const closed = settingsWith({
      pausedUntil: PAUSED_UNTIL_RESUMED,
      quietHours: { enabled: true, start: '00:00', end: '23:59', allowTypes: [] },
    });
    expect(verdict(closed, TEST_EVENT_TYPE, 0, NOON)).toBe('notify');
    expect(verdict(closed, 'order.completed', 0, NOON)).toBe('paused');
    expect(verdict(closed, 'order.submitted', 0, NOON)).toBe('off');
    expect(TEST_EVENT_TYPE).toBe(MONITOR_TEST_EVENT_TYPE);
  });
});

describe('words', () => {
  it.each(loadFixtures().map((fixture) => [fixture.name, fixture] as const))(
    '%s: the catalog name and the key fields, never JSON',
    (_name, fixture) => {
      const decision = eventNotification(stored(fixture.event.event_type, fixture.event), 'now');
      const info = EVENT_CATALOG.find((entry) => entry.type === fixture.event.event_type);
      expect(decision.title).toBe(info?.name);
      expect(decision.body).not.toMatch(/[{}"]/);
      expect(decision.body.length).toBeGreaterThan(0);
    },
  );

  it('names the order, the entity and the document', () => {
    const order = eventNotification(stored('order.completed', { order_id: 'ord_12345', entity_id: 'ent_1' }), 'now');
    expect(order).toMatchObject({ title: 'Order Completed', body: 'Order: ord_12345 · Entity id: ent_1' });
    const doc = eventNotification(
      stored('document.created', { document_name: 'Good Standing.pdf', entity_name: 'Acme LLC' }),
      'now',
    );
    expect(doc.body).toBe('Document: Good Standing.pdf · Entity: Acme LLC');
    const bare = eventNotification(stored('order.cancelled'), 'now');
    expect(bare.body).toBe('Order cancelled');
    const unknown = eventNotification(stored('invoice.paid', { invoice: { total: 3 } }), 'now');
    expect(unknown).toMatchObject({ title: 'invoice.paid', body: 'New event' });
  });

  it('flattens what a sender put in a field to one bounded line', () => {
    const decision = eventNotification(
      stored('entity.created', { entity_name: `Acme\n\tWidgets\u202e LLC ${'x'.repeat(200)}` }),
      'now',
    );
    expect(decision.body).not.toMatch(/[\n\t\u202e]/);
    expect(decision.body.startsWith('Entity: Acme Widgets LLC')).toBe(true);
    expect(Array.from(decision.body).length).toBeLessThanOrEqual('Entity: '.length + 80);
  });

  it('a digest counts by type, most frequent first', () => {
    const events = [
      ...Array.from({ length: 2 }, () => stored('order.completed')),
      ...Array.from({ length: 5 }, () => stored('document.created')),
      stored('entity.created'),
      stored('invoice.paid'),
    ];
    expect(digestNotification(events, 'now')).toMatchObject({
      kind: 'digest',
      title: '9 new events',
      body: '5 documents available · 2 orders completed · 1 new entity · 1 × invoice.paid',
      eventId: null,
    });
  });

  it('every catalog type has a digest phrase', () => {
    for (const info of EVENT_CATALOG) expect(hasDigestPhrase(info.type), info.type).toBe(true);
  });

  it.each([
    ['a & b', 'a &amp; b'],
    ['<b>bold</b>', '&lt;b&gt;bold&lt;/b&gt;'],
    ['&lt;', '&amp;lt;'],
    ['plain', 'plain'],
  ])('escapes %j for Linux markup', (text, escaped) => {
    expect(escapeMarkup(text)).toBe(escaped);
  });

  it.each([
    ['linux', 'Smith &amp; Co &lt;b&gt;'],
    ['darwin', 'Smith & Co <b>'],
    ['win32', 'Smith & Co <b>'],
  ] as const)('on %s the body is %j', (platform, body) => {
    const decision: NotifyDecision = { kind: 'event', title: 'A & B', body: 'Smith & Co <b>', at: 'now', eventId: 1 };
    expect(forPlatform(decision, platform)).toEqual({ title: 'A & B', body });
  });

  it('trims to the platform limits without splitting a character', () => {
    const long: NotifyDecision = {
      kind: 'event',
      title: 'T'.repeat(100),
      body: '😀'.repeat(500),
      at: 'now',
      eventId: 1,
    };
    for (const platform of ['linux', 'darwin', 'win32'] as const) {
      const shown = forPlatform(long, platform);
      expect(Array.from(shown.title)).toHaveLength(60);
      expect(shown.title.endsWith('…')).toBe(true);
      expect(Array.from(shown.body).length).toBeLessThanOrEqual(300);
      expect(shown.body).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
    }
    expect(trimTo('short', 10)).toBe('short');
    expect(trimTo('abcdef', 4)).toBe('abc…');
  });
});

describe('the policy over time', () => {
  function setup(overrides: Partial<NotificationSettings> = {}) {
    const clock = manualClock();
    const shown: NotifyDecision[] = [];
    // When each was delivered, by the clock.
    const shownAt: number[] = [];
    let settings = settingsWith(overrides);
    const policy = createNotificationPolicy({
      settings: () => settings,
      deliver: (decision) => {
        shown.push(decision);
        shownAt.push(clock.now());
      },
      clock,
      minuteOfDay: () => NOON,
    });
    return {
      clock,
      shown,
      shownAt,
      policy,
      set: (patch: Partial<NotificationSettings>) => {
        settings = { ...settings, ...patch };
      },
    };
  }

  it('a burst: three single notifications, then one digest, then quiet until the burst ends', () => {
    const { clock, shown, policy } = setup();
    for (let i = 0; i < 3; i++) {
      expect(policy.onEvent(stored('document.created', { document_name: `doc ${i}.pdf` }))).toBe('notify');
      clock.advance(1_000);
    }
    expect(shown.map((d) => d.kind)).toEqual(['event', 'event', 'event']);
    // The fourth within 10 s starts the digest; the rest of the batch joins it.
    const burst = [
      ...Array.from({ length: 5 }, () => stored('document.created')),
      ...Array.from({ length: 2 }, () => stored('order.completed')),
    ];
    for (const event of burst) expect(policy.onEvent(event)).toBe('held');
    expect(policy.state()).toBe('gathering');
    expect(shown).toHaveLength(3);
    clock.advance(3_000);
    expect(shown).toHaveLength(4);
    expect(shown[3]).toMatchObject({
      kind: 'digest',
      title: '7 new events',
      body: '5 documents available · 2 orders completed',
      eventId: null,
    });
    // Still coming: held, no notification while the burst goes on.
    for (let i = 0; i < 4; i++) {
      expect(policy.onEvent(stored('order.completed'))).toBe('held');
      clock.advance(5_000);
    }
    expect(shown).toHaveLength(4);
    expect(policy.state()).toBe('quiet');
    // 10 s without an event ends the burst with one digest of what was held since the first;
    // the next event is shown on its own again.
    clock.advance(5_000);
    expect(policy.state()).toBe('idle');
    expect(shown[4]).toMatchObject({ kind: 'digest', title: '4 more events', body: '4 more orders completed' });
    expect(policy.onEvent(stored('order.completed', { order_id: 'ord_9' }))).toBe('notify');
    expect(shown[5]).toMatchObject({ kind: 'event', body: 'Order: ord_9' });
  });

  // Each step at a time in ms from the start: an event of a type, or a change of the settings.
  type Step = [at: number, what: string | Partial<NotificationSettings>];
  const quick = (count: number, type = 'document.created'): Step[] =>
    Array.from({ length: count }, (_, i) => [i * 100, type]);
  const every = (from: number, to: number, stepMs: number, type = 'document.created'): Step[] =>
    Array.from({ length: Math.floor((to - from) / stepMs) + 1 }, (_, i) => [from + i * stepMs, type]);

  it.each<{ name: string; steps: Step[]; until: number; told: string[] }>([
    {
      name: 'a burst that stops at once: three single notifications and one digest, nothing more',
      steps: [...quick(8), [20_000, 'document.created']],
      until: 30_000,
      told: [
        '0s New Document',
        '0.1s New Document',
        '0.2s New Document',
        '3.3s 5 new events: 5 documents available',
        '20s New Document',
      ],
    },
    {
      name: 'events after the digest are told in one closing digest when the burst ends',
      steps: [...quick(5), [5_000, 'document.created'], [8_000, 'order.completed'], [11_000, 'document.created']],
      until: 30_000,
      told: [
        '0s New Document',
        '0.1s New Document',
        '0.2s New Document',
        '3.3s 2 new events: 2 documents available',
        '21s 3 more events: 2 more documents available · 1 more order completed',
      ],
    },
    {
      name: 'one event after the digest is told as itself when the burst ends',
      steps: [...quick(5), [5_000, 'order.completed']],
      until: 30_000,
      told: [
        '0s New Document',
        '0.1s New Document',
        '0.2s New Document',
        '3.3s 2 new events: 2 documents available',
        '15s Order Completed',
      ],
    },
    {
      name: 'a burst that never pauses: what was held is told at least every 60 s, and the rest at its end',
      steps: [...quick(5), ...every(5_000, 150_000, 5_000)],
      until: 200_000,
      told: [
        '0s New Document',
        '0.1s New Document',
        '0.2s New Document',
        '3.3s 2 new events: 2 documents available',
        '65s 13 more events: 13 more documents available',
        '125s 12 more events: 12 more documents available',
        '160s 5 more events: 5 more documents available',
      ],
    },
    {
      name: 'a pause that begins while events are held: they are not told',
      steps: [
        ...quick(5),
        [5_000, 'document.created'],
        [6_000, 'document.created'],
        [7_000, { pausedUntil: PAUSED_UNTIL_RESUMED }],
        [30_000, { pausedUntil: null }],
        [31_000, 'order.completed'],
      ],
      until: 40_000,
      told: [
        '0s New Document',
        '0.1s New Document',
        '0.2s New Document',
        '3.3s 2 new events: 2 documents available',
        '31s Order Completed',
      ],
    },
  ])('$name', ({ steps, until, told }) => {
    const { clock, shown, shownAt, policy, set } = setup();
    const start = clock.now();
    for (const [at, what] of steps) {
      clock.advance(at - (clock.now() - start));
      if (typeof what === 'string') policy.onEvent(stored(what));
      else set(what);
    }
    clock.advance(until - (clock.now() - start));
    expect(
      shown.map(
        (d, i) => `${((shownAt[i] ?? 0) - start) / 1000}s ${d.kind === 'digest' ? `${d.title}: ${d.body}` : d.title}`,
      ),
    ).toEqual(told);
  });

  it('events spread out are never digested', () => {
    const { clock, shown, policy } = setup();
    for (let i = 0; i < 10; i++) {
      expect(policy.onEvent(stored('order.completed'))).toBe('notify');
      clock.advance(4_000);
    }
    expect(shown.every((d) => d.kind === 'event')).toBe(true);
    expect(shown).toHaveLength(10);
  });

  it('a lone fourth event is shown as itself, not as "1 new events"', () => {
    const { clock, shown, policy } = setup();
    for (let i = 0; i < 4; i++) policy.onEvent(stored('order.completed', { order_id: `ord_${i}` }));
    clock.advance(3_000);
    expect(shown.map((d) => [d.kind, d.body])).toEqual([
      ['event', 'Order: ord_0'],
      ['event', 'Order: ord_1'],
      ['event', 'Order: ord_2'],
      ['event', 'Order: ord_3'],
    ]);
  });

  it('with digests off every notifying event is shown', () => {
    const { shown, policy } = setup({ digest: false });
    for (let i = 0; i < 8; i++) policy.onEvent(stored('order.completed'));
    expect(shown).toHaveLength(8);
  });

  it('events that do not notify do not make a burst', () => {
    const { shown, policy } = setup();
    for (let i = 0; i < 20; i++) expect(policy.onEvent(stored('order.submitted'))).toBe('off');
    expect(policy.onEvent(stored('order.completed'))).toBe('notify');
    expect(shown).toHaveLength(1);
    expect(policy.state()).toBe('idle');
  });

  it('a change of settings applies to the next event', () => {
    const { shown, policy, set } = setup();
    expect(policy.onEvent(stored('order.completed'))).toBe('notify');
    set({ pausedUntil: PAUSED_UNTIL_RESUMED });
    expect(policy.onEvent(stored('order.completed'))).toBe('paused');
    set({ pausedUntil: null, types: { 'order.completed': false } });
    expect(policy.onEvent(stored('order.completed'))).toBe('off');
    expect(shown).toHaveLength(1);
  });

  it('the test event is shown at once, even in a burst', () => {
    const { shown, policy } = setup();
    for (let i = 0; i < 4; i++) policy.onEvent(stored('order.completed'));
    const test = stored(TEST_EVENT_TYPE, { message: 'Test event from SingleFile Monitor' });
    expect(policy.onEvent(test)).toBe('notify');
    expect(shown.at(-1)).toMatchObject({ title: 'Test event received', eventId: test.id });
  });

  it('tunnel notices go through the same rules: pause, quiet hours, their own switch', () => {
    const notice: Notice = { kind: 'url-changed', title: 'Your webhook URL changed', body: 'Paste <it>', at: 'x' };
    const { shown, policy, set } = setup();
    expect(policy.onNotice(notice)).toBe('notify');
    expect(shown[0]).toMatchObject({ kind: 'url-changed', title: 'Your webhook URL changed', eventId: null });
    set({ pausedUntil: PAUSED_UNTIL_RESUMED });
    expect(policy.onNotice({ ...notice, kind: 'tunnel-offline' })).toBe('paused');
    set({ pausedUntil: null, quietHours: { enabled: true, start: '00:00', end: '23:59', allowTypes: [] } });
    expect(policy.onNotice(notice)).toBe('quiet-hours');
    set({ quietHours: { enabled: true, start: '00:00', end: '23:59', allowTypes: [TUNNEL_NOTICE_TYPE] } });
    expect(policy.onNotice({ ...notice, kind: 'tunnel-online' })).toBe('notify');
    set({ types: { [TUNNEL_NOTICE_TYPE]: false } });
    expect(policy.onNotice(notice)).toBe('off');
    expect(shown.map((d) => d.kind)).toEqual(['url-changed', 'tunnel-online']);
  });

  it("flood-control notices go by the receiver's own switch, not the tunnel's", () => {
    const throttled: Notice = { kind: 'receiver-throttled', title: 'Too many deliveries', body: '429', at: 'x' };
    const offline: Notice = { kind: 'tunnel-offline', title: 'Offline', body: 'retrying', at: 'x' };
    expect(noticeType(throttled)).toBe(RECEIVER_NOTICE_TYPE);
    expect(noticeType(offline)).toBe(TUNNEL_NOTICE_TYPE);
    const { shown, policy, set } = setup();
    set({ types: { [TUNNEL_NOTICE_TYPE]: false } });
    expect(policy.onNotice(offline)).toBe('off');
    expect(policy.onNotice(throttled)).toBe('notify');
    set({ types: { [RECEIVER_NOTICE_TYPE]: false } });
    expect(policy.onNotice(throttled)).toBe('off');
    expect(policy.onNotice(offline)).toBe('notify');
    set({ types: {}, quietHours: { enabled: true, start: '00:00', end: '23:59', allowTypes: [RECEIVER_NOTICE_TYPE] } });
    expect(policy.onNotice(throttled)).toBe('notify');
    expect(policy.onNotice(offline)).toBe('quiet-hours');
    expect(shown.map((d) => d.kind)).toEqual(['receiver-throttled', 'tunnel-offline', 'receiver-throttled']);
  });

  it('notices are not counted into a burst', () => {
    const { shown, policy } = setup();
    const notice: Notice = { kind: 'tunnel-online', title: 'Back online', body: 'ok', at: 'x' };
    for (let i = 0; i < 5; i++) policy.onNotice(notice);
    expect(policy.onEvent(stored('order.completed'))).toBe('notify');
    expect(shown).toHaveLength(6);
  });

  it('dispose drops the digest being gathered and its timer', () => {
    const { clock, shown, policy } = setup();
    for (let i = 0; i < 5; i++) policy.onEvent(stored('order.completed'));
    expect(clock.pending()).toBe(1);
    policy.dispose();
    expect(clock.pending()).toBe(0);
    clock.advance(60_000);
    expect(shown).toHaveLength(3);
  });
});
