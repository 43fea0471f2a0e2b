import { join } from 'node:path';
import type { Menu, MenuItemConstructorOptions, NativeImage, Tray } from 'electron';
import {
  buildTrayMenu,
  type TrayAction,
  type TrayItem,
  type TrayView,
  trayIconFile,
  trayState,
  trayTitle,
  trayTooltip,
  unreadCount,
} from './tray-menu.ts';

/** The Electron objects the tray needs: tray.ts is the only file that touches them. */
export interface TrayDeps {
  Tray: new (image: NativeImage) => Tray;
  Menu: Pick<typeof Menu, 'buildFromTemplate'>;
  nativeImage: { createFromPath(path: string): NativeImage };
  /** Folder of the tray images (build/tray, or resources/tray in the packaged app). */
  iconDir: string;
  platform: NodeJS.Platform;
  onAction: (action: TrayAction) => void;
}

export function toMenuTemplate(
  items: TrayItem[],
  onAction: (action: TrayAction) => void,
): MenuItemConstructorOptions[] {
  return items.map((item): MenuItemConstructorOptions => {
    if (item.kind === 'separator') return { type: 'separator' };
    const action = item.action;
    return {
      type: item.kind === 'submenu' ? 'submenu' : item.kind === 'checkbox' ? 'checkbox' : 'normal',
      ...(item.label !== undefined ? { label: item.label } : {}),
      ...(item.enabled !== undefined ? { enabled: item.enabled } : {}),
      ...(item.checked !== undefined ? { checked: item.checked } : {}),
      ...(item.submenu ? { submenu: toMenuTemplate(item.submenu, onAction) } : {}),
      ...(action ? { click: () => onAction(action) } : {}),
    };
  });
}

export interface TrayController {
  /** Redraws what changed: icon, tooltip, title and menu. */
  update(view: TrayView): void;
  destroy(): void;
}

export function createTrayController(deps: TrayDeps, initial: TrayView): TrayController {
  const image = (view: TrayView) => {
    const file = trayIconFile(trayState(view), unreadCount(view.status), deps.platform);
    const icon = deps.nativeImage.createFromPath(join(deps.iconDir, file));
    // Template images are drawn by macOS in the menu bar's colours; the name alone is not
    // always enough when the image is loaded from a path inside an asar archive.
    if (deps.platform === 'darwin') icon.setTemplateImage(true);
    return icon;
  };
  const tray = new deps.Tray(image(initial));
  let last = {
    icon: trayIconFile(trayState(initial), unreadCount(initial.status), deps.platform),
    menu: '',
    tooltip: '',
    title: '',
  };
  // Windows and most Linux panels open the menu on right click; a left click shows the window.
  tray.on('click', () => deps.onAction({ type: 'open-window' }));

  function update(view: TrayView): void {
    const icon = trayIconFile(trayState(view), unreadCount(view.status), deps.platform);
    const items = buildTrayMenu(view);
    const menu = JSON.stringify(items);
    const tooltip = trayTooltip(view);
    const title = trayTitle(view.status);
    // Rebuilding an open menu closes it on some platforms: only when something changed.
    if (icon !== last.icon) tray.setImage(image(view));
    if (menu !== last.menu) tray.setContextMenu(deps.Menu.buildFromTemplate(toMenuTemplate(items, deps.onAction)));
    if (tooltip !== last.tooltip) tray.setToolTip(tooltip);
    if (deps.platform === 'darwin' && title !== last.title) tray.setTitle(title);
    last = { icon, menu, tooltip, title };
  }

  update(initial);
  return {
    update,
    destroy: () => tray.destroy(),
  };
}
