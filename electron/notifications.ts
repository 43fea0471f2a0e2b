import type { Notification, NotificationConstructorOptions } from 'electron';
import type { Logger } from './core/log.ts';
import { forPlatform, type NotifyDecision } from './core/notify.ts';

export interface NotifierDeps {
  Notification: { new (options: NotificationConstructorOptions): Notification; isSupported(): boolean };
  platform: NodeJS.Platform;
  icon?: string;
  /** A click on a notification: main opens the window on its event (or the history). */
  onClick: (decision: NotifyDecision) => void;
  log?: Logger;
}

/**
 * Electron forgets a notification's click handler once the JavaScript object is garbage
 * collected, so the ones on screen are kept here until clicked or closed (at most this many).
 */
const KEPT = 50;

export interface Notifier {
  show(decision: NotifyDecision): void;
}

/** Shows the policy's decisions as desktop notifications, in each platform's limits and markup. */
export function createNotifier(deps: NotifierDeps): Notifier {
  const onScreen = new Set<Notification>();
  return {
    show(decision) {
      if (!deps.Notification.isSupported()) {
        deps.log?.warn('notify', `notifications are not supported here: ${decision.title}`);
        return;
      }
      const { title, body } = forPlatform(decision, deps.platform);
      const notification = new deps.Notification({ title, body, ...(deps.icon ? { icon: deps.icon } : {}) });
      onScreen.add(notification);
      if (onScreen.size > KEPT) {
        const oldest = onScreen.values().next().value;
        if (oldest) onScreen.delete(oldest);
      }
      notification.on('click', () => {
        onScreen.delete(notification);
        deps.onClick(decision);
      });
      notification.on('close', () => {
        onScreen.delete(notification);
      });
      notification.show();
    },
  };
}
