import { dirname, join } from 'node:path';
import type { App } from 'electron';

/**
 * "Start at login": the system's login items on macOS and Windows, an XDG autostart entry on
 * Linux (Electron has no API there). The file's text is built by pure functions below.
 */

export const AUTOSTART_FILE = 'singlefile-monitor.desktop';

/** $XDG_CONFIG_HOME/autostart, or ~/.config/autostart when the variable is unset or empty. */
export function autostartPath(env: Record<string, string | undefined>, home: string): string {
  return join(env.XDG_CONFIG_HOME || join(home, '.config'), 'autostart', AUTOSTART_FILE);
}

// Characters after which the Desktop Entry spec requires an argument to be quoted.
const RESERVED = /[\s"'\\><~|&;$*?#()`]/;

/**
 * One argument of an Exec line, per the Desktop Entry spec: quoted when it has a reserved
 * character, with " ` $ \ escaped inside the quotes; then every backslash doubled again by the
 * string-value escaping that is applied first; and % doubled, since %f and friends are codes.
 */
export function execArgument(argument: string): string {
  if (argument === '' || /[\p{Cc}]/u.test(argument)) {
    throw new Error(`cannot write this argument to an autostart entry: ${JSON.stringify(argument)}`);
  }
  const quoted = RESERVED.test(argument) ? `"${argument.replace(/["`$\\]/g, (c) => `\\${c}`)}"` : argument;
  return quoted.replace(/\\/g, '\\\\').replace(/%/g, '%%');
}

export function autostartDesktopEntry(command: readonly string[]): string {
  if (command.length === 0) throw new Error('the autostart entry needs a command');
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Version=1.0',
    'Name=SingleFile Monitor',
    'Comment=Desktop notifications and a searchable history for SingleFile webhooks',
    `Exec=${command.map(execArgument).join(' ')}`,
    'Terminal=false',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n');
}

/**
 * The program to start at login. An AppImage runs from a temporary mount whose path changes at
 * every start, so the AppImage file itself ($APPIMAGE) is what must be started.
 */
export function loginCommand(env: Record<string, string | undefined>, execPath: string): string[] {
  return [env.APPIMAGE || execPath];
}

export interface LoginItemFs {
  writeFile(path: string, text: string): Promise<void>;
  mkdir(path: string, options: { recursive: true }): Promise<unknown>;
  rm(path: string, options: { force: true }): Promise<void>;
  access(path: string): Promise<void>;
}

export interface LoginItemDeps {
  platform: NodeJS.Platform;
  app: Pick<App, 'setLoginItemSettings' | 'getLoginItemSettings'>;
  fs: LoginItemFs;
  env: Record<string, string | undefined>;
  home: string;
  execPath: string;
}

export interface LoginItem {
  set(enabled: boolean): Promise<void>;
  get(): Promise<boolean>;
}

export function createLoginItem(deps: LoginItemDeps): LoginItem {
  if (deps.platform !== 'linux') {
    return {
      async set(enabled) {
        deps.app.setLoginItemSettings({ openAtLogin: enabled });
      },
      async get() {
        return deps.app.getLoginItemSettings().openAtLogin;
      },
    };
  }
  const path = autostartPath(deps.env, deps.home);
  return {
    async set(enabled) {
      if (!enabled) return deps.fs.rm(path, { force: true });
      await deps.fs.mkdir(dirname(path), { recursive: true });
      await deps.fs.writeFile(path, autostartDesktopEntry(loginCommand(deps.env, deps.execPath)));
    },
    async get() {
      return deps.fs.access(path).then(
        () => true,
        () => false,
      );
    },
  };
}
