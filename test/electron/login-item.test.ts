import { rmSync } from 'node:fs';
import { access, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AUTOSTART_FILE,
  autostartDesktopEntry,
  autostartPath,
  createLoginItem,
  execArgument,
  loginCommand,
} from '../../electron/login-item.ts';
import { tempDir } from '../helpers/fixtures.ts';

const realFs = { writeFile: (path: string, text: string) => writeFile(path, text), mkdir, rm, access };
const noApp = {
  setLoginItemSettings: () => {
    throw new Error('not on Linux');
  },
  getLoginItemSettings: () => {
    throw new Error('not on Linux');
  },
} as never;

describe('the Linux autostart entry', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('is written to $XDG_CONFIG_HOME/autostart and removed again', async () => {
    const home = tempDir();
    dirs.push(home);
    const config = join(home, 'cfg');
    const item = createLoginItem({
      platform: 'linux',
      app: noApp,
      fs: realFs,
      env: { XDG_CONFIG_HOME: config },
      home,
      execPath: '/opt/SingleFile Monitor/singlefile-monitor',
    });
    expect(await item.get()).toBe(false);
    await item.set(true);
    const path = join(config, 'autostart', AUTOSTART_FILE);
    expect(await readFile(path, 'utf8')).toBe(
      [
        '[Desktop Entry]',
        'Type=Application',
        'Version=1.0',
        'Name=SingleFile Monitor',
        'Comment=Desktop notifications and a searchable history for SingleFile webhooks',
        'Exec="/opt/SingleFile Monitor/singlefile-monitor"',
        'Terminal=false',
        'X-GNOME-Autostart-enabled=true',
        '',
      ].join('\n'),
    );
    expect(await item.get()).toBe(true);
    await item.set(false);
    expect(await item.get()).toBe(false);
    await item.set(false);
  });

  it('lives in ~/.config/autostart when XDG_CONFIG_HOME is unset or empty', () => {
    expect(autostartPath({}, '/home/ana')).toBe('/home/ana/.config/autostart/singlefile-monitor.desktop');
    expect(autostartPath({ XDG_CONFIG_HOME: '' }, '/home/ana')).toBe(
      '/home/ana/.config/autostart/singlefile-monitor.desktop',
    );
  });

  it('starts the AppImage file, not its temporary mount', () => {
    expect(
      loginCommand({ APPIMAGE: '/home/ana/Apps/SingleFile.AppImage' }, '/tmp/.mount_x/singlefile-monitor'),
    ).toEqual(['/home/ana/Apps/SingleFile.AppImage']);
    expect(loginCommand({}, '/usr/bin/singlefile-monitor')).toEqual(['/usr/bin/singlefile-monitor']);
  });

  it.each([
    ['/usr/bin/singlefile-monitor', '/usr/bin/singlefile-monitor'],
    ['/opt/My Apps/app', '"/opt/My Apps/app"'],
    ['/opt/a"b', '"/opt/a\\\\"b"'],
    ['/opt/$HOME/app', '"/opt/\\\\$HOME/app"'],
    ['/opt/back\\slash', '"/opt/back\\\\\\\\slash"'],
    ['/opt/100%/app', '/opt/100%%/app'],
  ])('Exec argument %s is written as %s', (argument, written) => {
    expect(execArgument(argument)).toBe(written);
  });

  it('refuses what an Exec line cannot hold', () => {
    expect(() => execArgument('/opt/new\nline')).toThrow();
    expect(() => autostartDesktopEntry([])).toThrow();
  });
});

describe('macOS and Windows', () => {
  it.each(['darwin', 'win32'] as const)('%s uses the system login items', async (platform) => {
    const calls: unknown[] = [];
    let openAtLogin = false;
    const item = createLoginItem({
      platform,
      app: {
        setLoginItemSettings: (settings: { openAtLogin?: boolean }) => {
          calls.push(settings);
          openAtLogin = settings.openAtLogin === true;
        },
        getLoginItemSettings: () => ({ openAtLogin }) as never,
      },
      fs: {
        writeFile: () => Promise.reject(new Error('no files here')),
        mkdir: () => Promise.reject(new Error('no files here')),
        rm: () => Promise.reject(new Error('no files here')),
        access: () => Promise.reject(new Error('no files here')),
      },
      env: {},
      home: '/Users/ana',
      execPath: '/Applications/SingleFile Monitor.app/Contents/MacOS/SingleFile Monitor',
    });
    await item.set(true);
    expect(await item.get()).toBe(true);
    await item.set(false);
    expect(calls).toEqual([{ openAtLogin: true }, { openAtLogin: false }]);
  });
});
