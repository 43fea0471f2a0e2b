import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { APP_NAME, defaultDataDir, resolveDataDir } from '../electron/core/data-dir.ts';

const home = '/home/ada';

describe('resolveDataDir', () => {
  it('is named after the app as Electron names its userData folder (package.json productName)', async () => {
    const { default: pkg } = await import('../package.json', { with: { type: 'json' } });
    expect(APP_NAME).toBe('SingleFile Monitor');
    expect(pkg.productName).toBe(APP_NAME);
  });

  it('takes --data-dir first, over the environment', () => {
    const env = { SINGLEFILE_MONITOR_DATA_DIR: '/from/env', XDG_CONFIG_HOME: '/xdg' };
    expect(resolveDataDir({ flag: '/from/flag', env, platform: 'linux', home })).toBe('/from/flag');
  });

  it('takes SINGLEFILE_MONITOR_DATA_DIR when there is no flag', () => {
    const env = { SINGLEFILE_MONITOR_DATA_DIR: '/from/env', XDG_CONFIG_HOME: '/xdg' };
    expect(resolveDataDir({ env, platform: 'linux', home })).toBe('/from/env');
    expect(resolveDataDir({ flag: undefined, env, platform: 'darwin', home })).toBe('/from/env');
  });

  it('ignores an empty SINGLEFILE_MONITOR_DATA_DIR', () => {
    const env = { SINGLEFILE_MONITOR_DATA_DIR: '' };
    expect(resolveDataDir({ env, platform: 'linux', home })).toBe(join(home, '.config', APP_NAME));
  });

  it("uses Electron's userData on Linux: XDG_CONFIG_HOME, else ~/.config", () => {
    expect(resolveDataDir({ env: { XDG_CONFIG_HOME: '/xdg' }, platform: 'linux', home })).toBe(join('/xdg', APP_NAME));
    expect(resolveDataDir({ env: {}, platform: 'linux', home })).toBe(join(home, '.config', APP_NAME));
    // Set but empty counts as unset, as Chromium reads it, never a path relative to the working directory.
    expect(resolveDataDir({ env: { XDG_CONFIG_HOME: '' }, platform: 'linux', home })).toBe(
      join(home, '.config', APP_NAME),
    );
  });

  it("uses Electron's userData on macOS: ~/Library/Application Support", () => {
    expect(resolveDataDir({ env: { XDG_CONFIG_HOME: '/xdg' }, platform: 'darwin', home })).toBe(
      join(home, 'Library', 'Application Support', APP_NAME),
    );
  });

  it("uses Electron's userData on Windows: %APPDATA%, else AppData\\Roaming", () => {
    const appData = 'C:\\Users\\ada\\AppData\\Roaming';
    expect(resolveDataDir({ env: { APPDATA: appData }, platform: 'win32', home })).toBe(join(appData, APP_NAME));
    expect(resolveDataDir({ env: {}, platform: 'win32', home })).toBe(join(home, 'AppData', 'Roaming', APP_NAME));
  });
});

describe('defaultDataDir', () => {
  it('returns the flag as given', () => {
    expect(defaultDataDir('/some/dir')).toBe('/some/dir');
  });

  it("resolves this machine's default the same way as resolveDataDir", () => {
    const expected = resolveDataDir({ env: process.env, platform: process.platform, home: homedir() });
    expect(defaultDataDir()).toBe(expected);
    expect(defaultDataDir(undefined)).toBe(expected);
  });
});
