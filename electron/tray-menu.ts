import type { Status } from '../shared/api.ts';
import { describeEventType, keyFields, type StoredEvent } from '../shared/events.ts';
import { PAUSED_UNTIL_RESUMED, type PauseChoice } from '../shared/notification-switches.ts';
import { isPaused, type NotificationSettings, trimTo } from './core/notify.ts';

/**
 * What the tray shows, as plain data: the icon's state, its tooltip and title, and the menu as
 * items carrying actions instead of click functions. tray.ts turns it into Electron objects.
 */

export const TRAY_STATES = ['online', 'connecting', 'offline', 'paused'] as const;
export type TrayState = (typeof TRAY_STATES)[number];

export interface TrayView {
  /** null until the monitor has started. */
  status: Status | null;
  /** The newest events, newest first (the menu shows five). */
  recent: readonly StoredEvent[];
  notifications: NotificationSettings;
  startAtLogin: boolean;
  now: number;
  platform: NodeJS.Platform;
}

export type TrayAction =
  | { type: 'open-window' }
  | { type: 'copy-webhook-url' }
  | { type: 'open-event'; id: number }
  | { type: 'open-history' }
  | { type: 'pause'; choice: PauseChoice }
  | { type: 'resume' }
  | { type: 'toggle-start-at-login' }
  | { type: 'quit' };

export interface TrayItem {
  kind: 'normal' | 'separator' | 'checkbox' | 'submenu';
  label?: string;
  enabled?: boolean;
  checked?: boolean;
  action?: TrayAction;
  submenu?: TrayItem[];
}

export const RECENT_EVENTS_SHOWN = 5;
const LABEL_MAX = 60;

/** Offline wins (something is broken), then a pause (the person's choice), then the tunnel. */
export function trayState(view: Pick<TrayView, 'status' | 'notifications' | 'now'>): TrayState {
  const { status } = view;
  if (status && (!status.receiver.listening || status.tunnel.state === 'offline')) return 'offline';
  if (isPaused(view.notifications, view.now)) return 'paused';
  if (!status) return 'connecting';
  if (status.tunnel.state === 'connecting' || status.tunnel.state === 'reconnecting') return 'connecting';
  return 'online';
}

export function statusLine(status: Status | null): string {
  if (!status) return 'Starting…';
  if (!status.receiver.listening) return 'Not receiving events';
  const tunnel = status.tunnel;
  switch (tunnel.state) {
    case 'online':
      return 'Online: SingleFile can reach this computer';
    case 'connecting':
      return 'Connecting…';
    case 'reconnecting':
      return 'Reconnecting…';
    case 'offline':
      return `Offline: ${tunnel.lastError ?? 'retrying'}`;
    case 'stopped':
      return tunnel.provider === 'none' ? 'Local only: no public URL' : 'Tunnel stopped';
  }
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** "14:30" today, "Tue 08:00" on another day, in local time. */
export function shortTime(ms: number, nowMs: number): string {
  const date = new Date(ms);
  const time = `${String(date.getHours()).padStart(2, '0')}:${String(date.getMinutes()).padStart(2, '0')}`;
  return date.toDateString() === new Date(nowMs).toDateString() ? time : `${WEEKDAYS[date.getDay()]} ${time}`;
}

export function pausedLine(notifications: NotificationSettings, nowMs: number): string | null {
  if (!isPaused(notifications, nowMs) || notifications.pausedUntil === null) return null;
  if (notifications.pausedUntil >= PAUSED_UNTIL_RESUMED) return 'Notifications paused until you resume';
  return `Notifications paused until ${shortTime(notifications.pausedUntil, nowMs)}`;
}

export function unreadCount(status: Status | null): number {
  return status?.events.unread ?? 0;
}

export function trayTooltip(view: TrayView): string {
  const unread = unreadCount(view.status);
  const parts = ['SingleFile Monitor', statusLine(view.status)];
  if (unread > 0) parts.push(`${unread} unread`);
  const paused = pausedLine(view.notifications, view.now);
  if (paused) parts.push(paused);
  return parts.join(' · ');
}

/** The text beside the macOS menu-bar icon: the unread count, or nothing. */
export function trayTitle(status: Status | null): string {
  const unread = unreadCount(status);
  return unread === 0 ? '' : unread > 99 ? '99+' : String(unread);
}

/**
 * A label as the platform's menu reads it: one line, bounded, and on Windows and Linux every
 * "&" doubled, or "Smith & Co" shows as "Smith  Co" with an underlined space (a mnemonic).
 */
export function menuLabel(text: string, platform: NodeJS.Platform): string {
  const line = trimTo(text.replace(/[\p{Cc}\s]+/gu, ' ').trim(), LABEL_MAX);
  return platform === 'darwin' ? line : line.replace(/&/g, '&&');
}

export function eventLabel(event: StoredEvent): string {
  const name = describeEventType(event.event_type).name;
  const first = keyFields(event.payload)[0];
  return `${event.read ? '' : '• '}${name}${first ? ` — ${first.value}` : ''}`;
}

export function buildTrayMenu(view: TrayView): TrayItem[] {
  const label = (text: string) => menuLabel(text, view.platform);
  const status = view.status;
  const items: TrayItem[] = [{ kind: 'normal', label: label(statusLine(status)), enabled: false }];
  const paused = pausedLine(view.notifications, view.now);
  if (paused) items.push({ kind: 'normal', label: label(paused), enabled: false });

  const publicUrl = status?.tunnel.publicUrl ?? null;
  items.push(
    { kind: 'separator' },
    { kind: 'normal', label: label(publicUrl ?? 'No public URL yet'), enabled: false },
    {
      kind: 'normal',
      label: 'Copy webhook URL',
      enabled: Boolean(status?.webhookUrl),
      action: { type: 'copy-webhook-url' },
    },
    { kind: 'separator' },
  );

  const unread = unreadCount(status);
  items.push({
    kind: 'normal',
    label: unread > 0 ? `Recent events (${unread} unread)` : 'Recent events',
    enabled: false,
  });
  const recent = view.recent.slice(0, RECENT_EVENTS_SHOWN);
  if (recent.length === 0) items.push({ kind: 'normal', label: 'No events yet', enabled: false });
  for (const event of recent) {
    items.push({ kind: 'normal', label: label(eventLabel(event)), action: { type: 'open-event', id: event.id } });
  }

  const pauseItems: TrayItem[] = [];
  if (paused) {
    pauseItems.push(
      { kind: 'normal', label: 'Resume notifications', action: { type: 'resume' } },
      { kind: 'separator' },
    );
  }
  pauseItems.push(
    { kind: 'normal', label: 'For 1 hour', action: { type: 'pause', choice: 'hour' } },
    { kind: 'normal', label: 'Until tomorrow morning', action: { type: 'pause', choice: 'tomorrow' } },
    { kind: 'normal', label: 'Until I resume', action: { type: 'pause', choice: 'resume' } },
  );

  items.push(
    { kind: 'separator' },
    { kind: 'normal', label: 'Open history', action: { type: 'open-history' } },
    { kind: 'submenu', label: paused ? 'Notifications paused' : 'Pause notifications', submenu: pauseItems },
    {
      kind: 'checkbox',
      label: 'Start at login',
      checked: view.startAtLogin,
      action: { type: 'toggle-start-at-login' },
    },
    { kind: 'separator' },
    { kind: 'normal', label: 'Quit SingleFile Monitor', action: { type: 'quit' } },
  );
  return items;
}

/** The highest count the Windows and Linux icons draw; more is "9+" (scripts/draw-icons.mjs). */
export const UNREAD_BADGE_MAX = 9;

/**
 * The icon file for a state, under the tray icon folder (the @2x file beside it is found by
 * name). macOS gets black "Template" images that it tints for light and dark menu bars; the
 * count is the title beside it. Windows and Linux have no title, so their colour icons carry the
 * count in a badge: `online-3.png`, and `online-9plus.png` for ten or more.
 */
export function trayIconFile(state: TrayState, unread: number, platform: NodeJS.Platform): string {
  if (platform === 'darwin') return `${state}Template.png`;
  if (unread < 1) return `${state}.png`;
  return unread > UNREAD_BADGE_MAX ? `${state}-${UNREAD_BADGE_MAX}plus.png` : `${state}-${unread}.png`;
}
