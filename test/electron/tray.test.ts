import type { MenuItemConstructorOptions, NativeImage, Tray } from 'electron';
import { describe, expect, it } from 'vitest';
import { createTrayController, type TrayDeps } from '../../electron/tray.ts';
import type { TrayAction, TrayView } from '../../electron/tray-menu.ts';
import { DEFAULT_SETTINGS } from '../../shared/settings.ts';
import { FakeNativeImage, FakeTray, statusOf, storedEvent } from './fakes.ts';

function setup(platform: NodeJS.Platform, initial: Partial<TrayView> = {}) {
  const actions: TrayAction[] = [];
  const templates: MenuItemConstructorOptions[][] = [];
  const deps: TrayDeps = {
    Tray: FakeTray as unknown as new (image: NativeImage) => Tray,
    Menu: {
      buildFromTemplate: (template: MenuItemConstructorOptions[]) => {
        templates.push(template);
        return { template } as never;
      },
    },
    nativeImage: { createFromPath: (path: string) => new FakeNativeImage(path) as unknown as NativeImage },
    iconDir: '/icons',
    platform,
    onAction: (action) => actions.push(action),
  };
  const view: TrayView = {
    status: statusOf({}),
    recent: [],
    notifications: DEFAULT_SETTINGS.notifications,
    startAtLogin: false,
    now: Date.UTC(2024, 0, 1),
    platform,
    ...initial,
  };
  const controller = createTrayController(deps, view);
  const tray = FakeTray.last as FakeTray;
  return { controller, tray, actions, templates, view };
}

const byLabel = (template: MenuItemConstructorOptions[], label: string): MenuItemConstructorOptions | undefined =>
  template
    .flatMap((item) => [item, ...((item.submenu as MenuItemConstructorOptions[] | undefined) ?? [])])
    .find((item) => item.label === label);
const click = (item: MenuItemConstructorOptions | undefined) => (item?.click as (() => void) | undefined)?.();

describe('the tray adapter', () => {
  it('clicking a menu item performs its action', () => {
    const event = storedEvent('order.completed', { order_id: 'ord_7' });
    const { templates, actions } = setup('linux', { recent: [event] });
    const menu = templates.at(-1) ?? [];
    click(byLabel(menu, '• Order Completed — ord_7'));
    click(byLabel(menu, 'Copy webhook URL'));
    click(byLabel(menu, 'Until tomorrow morning'));
    click(byLabel(menu, 'Start at login'));
    click(byLabel(menu, 'Quit SingleFile Monitor'));
    expect(actions).toEqual([
      { type: 'open-event', id: event.id },
      { type: 'copy-webhook-url' },
      { type: 'pause', choice: 'tomorrow' },
      { type: 'toggle-start-at-login' },
      { type: 'quit' },
    ]);
    expect(byLabel(menu, 'Start at login')?.type).toBe('checkbox');
    expect(byLabel(menu, 'Pause notifications')?.type).toBe('submenu');
  });

  it('a left click on the icon opens the window', () => {
    const { tray, actions } = setup('win32');
    tray.emit('click');
    expect(actions).toEqual([{ type: 'open-window' }]);
  });

  it('the icon follows the state and the unread count; the menu is rebuilt only on change', () => {
    const { controller, tray, templates, view } = setup('linux');
    expect((tray.image as FakeNativeImage).path).toBe('/icons/online.png');
    expect(templates).toHaveLength(1);
    controller.update({ ...view });
    expect(templates).toHaveLength(1);
    expect(tray.calls).toEqual(['setContextMenu']);
    controller.update({ ...view, status: statusOf({ tunnel: { state: 'offline', lastError: 'down' } }) });
    expect((tray.image as FakeNativeImage).path).toBe('/icons/offline.png');
    expect(templates).toHaveLength(2);
    expect(tray.tooltip).toBe('SingleFile Monitor · Offline: down');
    controller.update({ ...view, status: statusOf({ unread: 3 }) });
    expect((tray.image as FakeNativeImage).path).toBe('/icons/online-3.png');
    expect(tray.tooltip).toContain('3 unread');
    controller.update({ ...view, status: statusOf({ unread: 4 }) });
    expect((tray.image as FakeNativeImage).path).toBe('/icons/online-4.png');
    controller.update({ ...view, status: statusOf({ unread: 12 }) });
    expect((tray.image as FakeNativeImage).path).toBe('/icons/online-9plus.png');
    expect(tray.tooltip).toContain('12 unread');
    expect(tray.calls.filter((call) => call === 'setImage')).toHaveLength(4);
    controller.update({ ...view, status: statusOf({ unread: 250 }) });
    expect(tray.calls.filter((call) => call === 'setImage')).toHaveLength(4);
    controller.destroy();
    expect(tray.destroyed).toBe(true);
  });

  it('on macOS: template images, and the unread count as the title', () => {
    const { controller, tray, view } = setup('darwin', { status: statusOf({ unread: 5 }) });
    expect(tray.image).toMatchObject({ path: '/icons/onlineTemplate.png', template: true });
    expect(tray.title).toBe('5');
    controller.update({ ...view, status: statusOf({ unread: 0 }) });
    expect(tray.title).toBe('');
    controller.update({
      ...view,
      notifications: { ...view.notifications, pausedUntil: view.now + 60_000 },
    });
    expect(tray.image).toMatchObject({ path: '/icons/pausedTemplate.png', template: true });
  });
});
