import { homedir } from 'node:os';
import { join } from 'node:path';

/** The app's name as Electron derives its userData folder from it (package.json productName). */
export const APP_NAME = 'SingleFile Monitor';

export interface DataDirSources {
  flag?: string | undefined;
  env: Record<string, string | undefined>;
  platform: NodeJS.Platform;
  home: string;
}

/**
 * Where the history lives: `--data-dir`, else SINGLEFILE_MONITOR_DATA_DIR, else the folder the
 * tray app uses (Electron's userData), so that the CLI and the app share one history.
 */
export function resolveDataDir({ flag, env, platform, home }: DataDirSources): string {
  if (flag) return flag;
  if (env.SINGLEFILE_MONITOR_DATA_DIR) return env.SINGLEFILE_MONITOR_DATA_DIR;
  return join(appDataDir(env, platform, home), APP_NAME);
}

/**
 * Electron's `app.getPath('appData')` for each platform. A variable set to the empty string
 * counts as unset, as Chromium reads XDG_CONFIG_HOME, rather than making a relative path.
 */
function appDataDir(env: Record<string, string | undefined>, platform: NodeJS.Platform, home: string): string {
  if (platform === 'win32') return env.APPDATA || join(home, 'AppData', 'Roaming');
  if (platform === 'darwin') return join(home, 'Library', 'Application Support');
  return env.XDG_CONFIG_HOME || join(home, '.config');
}

export function defaultDataDir(flag?: string): string {
  return resolveDataDir({ flag, env: process.env, platform: process.platform, home: homedir() });
}
