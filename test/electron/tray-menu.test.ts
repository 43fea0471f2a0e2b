import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  buildTrayMenu,
  menuLabel,
  TRAY_STATES,
  type TrayItem,
  type TrayView,
  trayIconFile,
  trayState,
  trayTitle,
  trayTooltip,
  UNREAD_BADGE_MAX,
} from '../../electron/tray-menu.ts';
import type { Status } from '../../shared/api.ts';
import { PAUSED_UNTIL_RESUMED } from '../../shared/notification-switches.ts';
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

/** Width and height from a PNG's IHDR chunk, or null when the file is not a PNG. */
function pngSize(path: string): { width: number; height: number } | null {
  const head = readFileSync(path).subarray(0, 24);
  if (!head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return null;
  if (head.toString('ascii', 12, 16) !== 'IHDR') return null;
  return { width: head.readUInt32BE(16), height: head.readUInt32BE(20) };
}

describe('the tray icons', () => {
  const platforms = ['linux', 'win32', 'darwin'] as const;
  // Every count up to one past the badge's limit, and one far past it.
  const counts = [...Array.from({ length: UNREAD_BADGE_MAX + 2 }, (_, n) => n), 250, 100_000];
  const chosen = new Set(
    platforms.flatMap((platform) =>
      TRAY_STATES.flatMap((state) => counts.map((unread) => trayIconFile(state, unread, platform))),
    ),
  );

  it.each([
    ['linux', 0, 'offline.png'],
    ['linux', 1, 'offline-1.png'],
    ['linux', 9, 'offline-9.png'],
    ['linux', 10, 'offline-9plus.png'],
    ['linux', 250, 'offline-9plus.png'],
    ['win32', 0, 'offline.png'],
    ['win32', 1, 'offline-1.png'],
    ['win32', 9, 'offline-9.png'],
    ['win32', 10, 'offline-9plus.png'],
    ['win32', 250, 'offline-9plus.png'],
    // macOS writes the count as the title beside the icon (trayTitle): the image stays the same.
    ['darwin', 0, 'offlineTemplate.png'],
    ['darwin', 1, 'offlineTemplate.png'],
    ['darwin', 9, 'offlineTemplate.png'],
    ['darwin', 10, 'offlineTemplate.png'],
    ['darwin', 250, 'offlineTemplate.png'],
  ] as const)('on %s, %i unread shows %s', (platform, unread, file) => {
    expect(trayIconFile('offline', unread, platform)).toBe(file);
  });

  it('the badge follows each state', () => {
    expect(TRAY_STATES.map((state) => trayIconFile(state, 4, 'win32'))).toEqual([
      'online-4.png',
      'connecting-4.png',
      'offline-4.png',
      'paused-4.png',
    ]);
  });

  it('every image the code can choose is drawn, 16×16 with a 32×32 @2x beside it', () => {
    expect(chosen.size).toBe(TRAY_STATES.length * (1 + 1 + UNREAD_BADGE_MAX + 1));
    for (const file of chosen) {
      expect(pngSize(`${TRAY_DIR}${file}`), file).toEqual({ width: 16, height: 16 });
      const retina = file.replace('.png', '@2x.png');
      expect(pngSize(`${TRAY_DIR}${retina}`), retina).toEqual({ width: 32, height: 32 });
    }
  });

  it('each count is its own picture', () => {
    for (const state of TRAY_STATES) {
      const files = counts.slice(0, UNREAD_BADGE_MAX + 2).map((unread) => trayIconFile(state, unread, 'linux'));
      const pictures = new Set(files.map((file) => readFileSync(`${TRAY_DIR}${file}`).toString('base64')));
      expect(pictures.size, state).toBe(files.length);
    }
  });

  it('build/tray holds nothing else but the app icon', () => {
    const drawn = readdirSync(TRAY_DIR).sort();
    const used = [...chosen].flatMap((file) => [file, file.replace('.png', '@2x.png')]);
    expect(drawn).toEqual([...used, 'app.png'].sort());
    expect(existsSync(`${TRAY_DIR}app.png`)).toBe(true);
  });
});
