import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PAUSED_UNTIL_RESUMED } from '../../electron/core/notify.ts';
import {
  buildTrayMenu,
  menuLabel,
  type TrayItem,
  type TrayState,
  type TrayView,
  trayIconFile,
  trayState,
  trayTitle,
  trayTooltip,
} from '../../electron/tray-menu.ts';
import type { Status } from '../../shared/api.ts';
import { DEFAULT_SETTINGS } from '../../shared/settings.ts';
import { statusOf, storedEvent } from './fakes.ts';

const NOW = new Date(2024, 2, 14, 12, 0).getTime();
const TRAY_DIR = fileURLToPath(new URL('../../build/tray/', import.meta.url));

function view(status: Status | null, extra: Partial<TrayView> = {}): TrayView {
  return {
    status,
    recent: [],
    notifications: DEFAULT_SETTINGS.notifications,
    startAtLogin: false,
    now: NOW,
    platform: 'linux',
    ...extra,
  };
}
const paused = (until: number) => ({ ...DEFAULT_SETTINGS.notifications, pausedUntil: until });
const labels = (items: TrayItem[]) => items.map((item) => (item.kind === 'separator' ? '---' : item.label));
const find = (items: TrayItem[], label: string) => items.find((item) => item.label === label);

describe('the tray state', () => {
  it.each([
    ['online', view(statusOf({})), 'online'],
    ['connecting', view(statusOf({ tunnel: { state: 'connecting' } })), 'connecting'],
    ['reconnecting', view(statusOf({ tunnel: { state: 'reconnecting' } })), 'connecting'],
    ['not started yet', view(null), 'connecting'],
    ['offline', view(statusOf({ tunnel: { state: 'offline', lastError: 'no route' } })), 'offline'],
    ['receiver down', view(statusOf({ receiver: { listening: false } })), 'offline'],
    ['local only', view(statusOf({ tunnel: { provider: 'none', state: 'stopped', publicUrl: null } })), 'online'],
    ['paused', view(statusOf({}), { notifications: paused(NOW + 60_000) }), 'paused'],
    [
      'paused while connecting',
      view(statusOf({ tunnel: { state: 'connecting' } }), { notifications: paused(NOW + 1) }),
      'paused',
    ],
    [
      'offline while paused',
      view(statusOf({ tunnel: { state: 'offline' } }), { notifications: paused(NOW + 1) }),
      'offline',
    ],
    ['pause over', view(statusOf({}), { notifications: paused(NOW - 1) }), 'online'],
  ] as const)('%s → %s', (_name, trayView, expected) => {
    expect(trayState(trayView)).toBe(expected);
  });
});

describe('the tray menu', () => {
  const online = statusOf({ unread: 2 });
  const recent = [
    storedEvent('order.completed', { order_id: 'ord_1' }),
    storedEvent('document.created', { document_name: 'Report.pdf' }, true),
    storedEvent('invoice.paid'),
    ...Array.from({ length: 4 }, () => storedEvent('task.created')),
  ];

  it('online: status, public URL with copy, the last five events, history, pause, login, quit', () => {
    const items = buildTrayMenu(view(online, { recent }));
    expect(labels(items)).toEqual([
      'Online: SingleFile can reach this computer',
      '---',
      'https://sfm-test.loca.lt',
      'Copy webhook URL',
      '---',
      'Recent events (2 unread)',
      '• Order Completed — ord_1',
      'New Document — Report.pdf',
      '• invoice.paid',
      '• New Task Instance',
      '• New Task Instance',
      '---',
      'Open history',
      'Pause notifications',
      'Start at login',
      '---',
      'Quit SingleFile Monitor',
    ]);
    expect(find(items, 'Copy webhook URL')).toMatchObject({ enabled: true, action: { type: 'copy-webhook-url' } });
    expect(items[6]?.action).toEqual({ type: 'open-event', id: recent[0]?.id });
    expect(find(items, 'Open history')?.action).toEqual({ type: 'open-history' });
    expect(find(items, 'Start at login')).toMatchObject({ kind: 'checkbox', checked: false });
    expect(items.at(-1)?.action).toEqual({ type: 'quit' });
    const pause = find(items, 'Pause notifications');
    expect(pause?.submenu?.map((item) => item.action)).toEqual([
      { type: 'pause', choice: 'hour' },
      { type: 'pause', choice: 'tomorrow' },
      { type: 'pause', choice: 'resume' },
    ]);
  });

  it('connecting: no public URL yet, nothing to copy, no events yet', () => {
    const status = statusOf({ tunnel: { state: 'connecting', publicUrl: null } });
    const items = buildTrayMenu(view(status));
    expect(labels(items).slice(0, 7)).toEqual([
      'Connecting…',
      '---',
      'No public URL yet',
      'Copy webhook URL',
      '---',
      'Recent events',
      'No events yet',
    ]);
    expect(find(items, 'Copy webhook URL')?.enabled).toBe(false);
    expect(find(items, 'No events yet')?.action).toBeUndefined();
  });

  it('offline: says why, keeps the last known URL', () => {
    const status = statusOf({ tunnel: { state: 'offline', lastError: 'the tunnel server is unreachable' } });
    const items = buildTrayMenu(view(status));
    expect(items[0]).toMatchObject({ label: 'Offline: the tunnel server is unreachable', enabled: false });
    expect(items[2]?.label).toBe('https://sfm-test.loca.lt');
  });

  it('paused: says until when, offers to resume first', () => {
    const until = new Date(2024, 2, 14, 13, 30).getTime();
    const items = buildTrayMenu(view(statusOf({}), { notifications: paused(until) }));
    expect(items[1]).toMatchObject({ label: 'Notifications paused until 13:30', enabled: false });
    const submenu = find(items, 'Notifications paused')?.submenu ?? [];
    expect(submenu[0]).toMatchObject({ label: 'Resume notifications', action: { type: 'resume' } });
    const tomorrow = new Date(2024, 2, 15, 8, 0).getTime();
    const next = buildTrayMenu(view(statusOf({}), { notifications: paused(tomorrow) }));
    expect(next[1]?.label).toMatch(/^Notifications paused until (Mon|Tue|Wed|Thu|Fri|Sat|Sun) 08:00$/);
    const forever = buildTrayMenu(view(statusOf({}), { notifications: paused(PAUSED_UNTIL_RESUMED) }));
    expect(forever[1]?.label).toBe('Notifications paused until you resume');
  });

  it('start at login is checked when on', () => {
    expect(find(buildTrayMenu(view(statusOf({}), { startAtLogin: true })), 'Start at login')?.checked).toBe(true);
  });

  it('labels: "&" is doubled where it marks a mnemonic, one line, bounded', () => {
    expect(menuLabel('Smith & Co', 'linux')).toBe('Smith && Co');
    expect(menuLabel('Smith & Co', 'win32')).toBe('Smith && Co');
    expect(menuLabel('Smith & Co', 'darwin')).toBe('Smith & Co');
    expect(menuLabel('two\nlines', 'linux')).toBe('two lines');
    expect(Array.from(menuLabel('x'.repeat(200), 'linux'))).toHaveLength(60);
    const event = storedEvent('entity.created', { entity_name: 'Smith & Co' });
    const items = buildTrayMenu(view(statusOf({}), { recent: [event], platform: 'win32' }));
    expect(labels(items)).toContain('• New Entity — Smith && Co');
  });

  it('tooltip and macOS title carry the unread count', () => {
    expect(trayTooltip(view(statusOf({ unread: 3 })))).toBe(
      'SingleFile Monitor · Online: SingleFile can reach this computer · 3 unread',
    );
    expect(trayTitle(statusOf({ unread: 0 }))).toBe('');
    expect(trayTitle(statusOf({ unread: 7 }))).toBe('7');
    expect(trayTitle(statusOf({ unread: 1500 }))).toBe('99+');
  });
});

describe('the tray icons', () => {
  const states: TrayState[] = ['online', 'connecting', 'offline', 'paused'];
  it.each(['linux', 'win32', 'darwin'] as const)('every state has its drawn images on %s', (platform) => {
    for (const state of states) {
      for (const unread of [0, 4]) {
        const file = trayIconFile(state, unread, platform);
        expect(existsSync(`${TRAY_DIR}${file}`), file).toBe(true);
        expect(existsSync(`${TRAY_DIR}${file.replace('.png', '@2x.png')}`), `${file} @2x`).toBe(true);
      }
    }
  });

  it('macOS gets template images; the others show a dot when something is unread', () => {
    expect(trayIconFile('paused', 3, 'darwin')).toBe('pausedTemplate.png');
    expect(trayIconFile('offline', 3, 'win32')).toBe('offline-unread.png');
    expect(trayIconFile('offline', 0, 'linux')).toBe('offline.png');
  });
});
