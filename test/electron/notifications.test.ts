import type { Notification, NotificationConstructorOptions } from 'electron';
import { beforeEach, describe, expect, it } from 'vitest';
import type { NotifyDecision } from '../../electron/core/notify.ts';
import { createNotifier } from '../../electron/notifications.ts';
import { FakeNotification } from './fakes.ts';

const NotificationClass = FakeNotification as unknown as {
  new (options: NotificationConstructorOptions): Notification;
  isSupported(): boolean;
};

const decision: NotifyDecision = {
  kind: 'event',
  title: 'New Entity',
  body: 'Entity: Smith & Sons <Holdings>',
  at: '2024-01-15T10:00:00.000Z',
  eventId: 41,
};

describe('desktop notifications', () => {
  beforeEach(() => {
    FakeNotification.shown = [];
    FakeNotification.supported = true;
  });

  it('a click hands back the decision, whose event the window then opens', () => {
    const clicked: NotifyDecision[] = [];
    const notifier = createNotifier({
      Notification: NotificationClass,
      platform: 'darwin',
      onClick: (d) => clicked.push(d),
    });
    notifier.show(decision);
    const shown = FakeNotification.shown[0];
    expect(shown?.options).toMatchObject({ title: 'New Entity', body: 'Entity: Smith & Sons <Holdings>' });
    expect(clicked).toEqual([]);
    shown?.emit('click');
    expect(clicked).toEqual([decision]);
  });

  it('on Linux the body is escaped for the notification server markup', () => {
    const notifier = createNotifier({ Notification: NotificationClass, platform: 'linux', onClick: () => {} });
    notifier.show(decision);
    expect(FakeNotification.shown[0]?.options.body).toBe('Entity: Smith &amp; Sons &lt;Holdings&gt;');
  });

  it('shows nothing where notifications are not supported', () => {
    FakeNotification.supported = false;
    const notifier = createNotifier({ Notification: NotificationClass, platform: 'linux', onClick: () => {} });
    notifier.show(decision);
    expect(FakeNotification.shown).toEqual([]);
  });
});
