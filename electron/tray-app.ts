import type { MonitorMethod, Status } from '../shared/api.ts';
import type { StoredEvent } from '../shared/events.ts';
import { PAUSED_UNTIL_RESUMED, pauseUntil } from '../shared/notification-switches.ts';
import type { Settings } from '../shared/settings.ts';
import type { Logger } from './core/log.ts';
import type { Monitor } from './core/monitor.ts';
import { createNotificationPolicy, type NotifyDecision, type PolicyClock, systemClock } from './core/notify.ts';
import type { LoginItem } from './login-item.ts';
import type { Notifier } from './notifications.ts';
import type { TrayController } from './tray.ts';
import { RECENT_EVENTS_SHOWN, type TrayAction, type TrayView } from './tray-menu.ts';
import type { WindowController, WindowRoute } from './window.ts';

/**
 * The tray app's behaviour, with every Electron object passed in: the monitor's pushes feed the
 * notification policy and the tray; tray actions and notification clicks lead to the window or
 * to a settings change. main.ts only builds the real objects and calls startTrayApp.
 */

export interface TrayAppDeps {
  monitor: Monitor;
  createTray: (initial: TrayView, onAction: (action: TrayAction) => void) => TrayController;
  createNotifier: (onClick: (decision: NotifyDecision) => void) => Notifier;
  window: WindowController;
  loginItem: LoginItem;
  /** Whether to touch the system's login items: not from a development build. */
  manageLoginItem: boolean;
  /**
   * The window stays hidden at start, except while the history is empty: a first start that
   * showed only a tray icon would leave the person without the URL to paste into SingleFile.
   */
  openWhenEmpty: boolean;
  clipboard: { writeText(text: string): void };
  quit: () => void;
  platform: NodeJS.Platform;
  clock?: PolicyClock;
  log: Logger;
}

export interface TrayApp {
  /** Re-reads the status and the recent events (after markRead and other calls from the window). */
  refresh(): void;
  handleAction(action: TrayAction): Promise<void>;
  /** What the tray shows now. */
  view(): TrayView;
  stop(): Promise<void>;
}

/** Calls from the window after which the unread count or the recent events may have changed. */
export const REFRESHING_METHODS: ReadonlySet<MonitorMethod> = new Set([
  'markRead',
  'markAllRead',
  'updateSettings',
  'regenerateWebhookUrl',
]);

/** Many events in a row make one redraw of the tray. */
const REFRESH_DELAY_MS = 250;
/** setTimeout's longest delay; a longer pause is checked again when it fires. */
const MAX_TIMER_MS = 2_147_483_647;

/** The route a clicked notification opens: its event, the history for a digest, else the status. */
export function routeForDecision(decision: NotifyDecision): WindowRoute {
  if (decision.eventId !== null) return { view: 'event', id: decision.eventId };
  return decision.kind === 'digest' ? { view: 'history' } : { view: 'status' };
}

export async function startTrayApp(deps: TrayAppDeps): Promise<TrayApp> {
  const { monitor, log } = deps;
  const clock = deps.clock ?? systemClock;
  let settings: Settings = await monitor.getSettings({});
  let status: Status | null = null;
  let recent: StoredEvent[] = [];
  let stopped = false;
  const timers: { refresh: (() => void) | null; pause: (() => void) | null } = { refresh: null, pause: null };

  const view = (): TrayView => ({
    status,
    recent,
    notifications: settings.notifications,
    startAtLogin: settings.startAtLogin,
    now: clock.now(),
    platform: deps.platform,
  });

  const notifier = deps.createNotifier((decision) => deps.window.show(routeForDecision(decision)));
  const policy = createNotificationPolicy({
    settings: () => settings.notifications,
    deliver: (decision) => notifier.show(decision),
    clock,
  });
  const tray = deps.createTray(view(), (action) => {
    handleAction(action).catch((error: unknown) => log.error('tray', `${action.type} failed: ${String(error)}`));
  });

  function render(): void {
    if (stopped) return;
    tray.update(view());
    // The icon leaves "paused" by itself when the pause ends.
    timers.pause?.();
    timers.pause = null;
    const until = settings.notifications.pausedUntil;
    if (until !== null && until < PAUSED_UNTIL_RESUMED && until > clock.now()) {
      timers.pause = clock.setTimer(render, Math.min(until - clock.now() + 1000, MAX_TIMER_MS));
    }
  }

  async function reload(): Promise<Status> {
    const [current, page] = await Promise.all([
      monitor.getStatus({}),
      monitor.listEvents({ limit: RECENT_EVENTS_SHOWN }),
    ]);
    status = current;
    recent = page.events;
    render();
    return current;
  }

  function refresh(): void {
    if (timers.refresh || stopped) return;
    timers.refresh = clock.setTimer(() => {
      timers.refresh = null;
      reload().catch((error: unknown) => log.warn('tray', `could not refresh: ${String(error)}`));
    }, REFRESH_DELAY_MS);
  }

  async function applySettings(next: Settings): Promise<void> {
    const loginChanged = next.startAtLogin !== settings.startAtLogin;
    settings = next;
    render();
    if (loginChanged) await syncLoginItem();
  }

  async function syncLoginItem(): Promise<void> {
    if (!deps.manageLoginItem) {
      log.info('login', 'a development build does not change the login items');
      return;
    }
    if ((await deps.loginItem.get()) !== settings.startAtLogin) await deps.loginItem.set(settings.startAtLogin);
  }

  async function handleAction(action: TrayAction): Promise<void> {
    switch (action.type) {
      case 'open-window':
        return deps.window.show();
      case 'open-history':
        return deps.window.show({ view: 'history' });
      case 'open-event':
        return deps.window.show({ view: 'event', id: action.id });
      case 'copy-webhook-url':
        if (status?.webhookUrl) deps.clipboard.writeText(status.webhookUrl);
        return;
      case 'pause':
        return applySettings(
          await monitor.updateSettings({ notifications: { pausedUntil: pauseUntil(action.choice, clock.now()) } }),
        );
      case 'resume':
        return applySettings(await monitor.updateSettings({ notifications: { pausedUntil: null } }));
      case 'toggle-start-at-login':
        return applySettings(await monitor.updateSettings({ startAtLogin: !settings.startAtLogin }));
      case 'quit':
        return deps.quit();
    }
  }

  const unsubscribers = [
    monitor.subscribe('event', (event) => {
      policy.onEvent(event);
      recent = [event, ...recent.filter((known) => known.id !== event.id)].slice(0, RECENT_EVENTS_SHOWN);
      refresh();
    }),
    monitor.subscribe('notice', (notice) => {
      policy.onNotice(notice);
    }),
    monitor.subscribe('status', (next) => {
      status = next;
      // A status push also follows every settings change, from the window or from here.
      monitor
        .getSettings({})
        .then(applySettings)
        .catch((error: unknown) => log.warn('tray', `could not read the settings: ${String(error)}`));
    }),
  ];

  try {
    await monitor.start();
  } catch (error) {
    stopped = true;
    for (const unsubscribe of unsubscribers) unsubscribe();
    policy.dispose();
    tray.destroy();
    await monitor.stop().catch(() => {});
    throw error;
  }
  const started = await reload();
  if (deps.openWhenEmpty && started.events.total === 0) deps.window.show({ view: 'status' });
  await syncLoginItem().catch((error: unknown) => log.warn('login', `could not set start at login: ${String(error)}`));

  return {
    refresh,
    handleAction,
    view,
    async stop() {
      stopped = true;
      for (const unsubscribe of unsubscribers) unsubscribe();
      timers.refresh?.();
      timers.pause?.();
      policy.dispose();
      tray.destroy();
      await monitor.stop();
    },
  };
}
