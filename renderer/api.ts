import type { MonitorBridge } from '../shared/api.ts';
import { type Connection, createDashboardClient, type Transport } from './dashboard-client.ts';
import { downloadFile } from './download.ts';

/**
 * Picks the way to the core: `window.monitor` when the tray app's preload has put it there (IPC),
 * else the dashboard's loopback HTTP with the access token `serve` printed. Returns null when
 * neither is at hand: the page was opened without its token.
 */

const TOKEN_KEY = 'sfm.dashboardToken';
const TOKEN_IN_HASH = /^#token=([A-Za-z0-9_-]{16,200})$/;

/** Always live: IPC to the main process has no connection to lose. */
const ALWAYS_LIVE: Connection = { get: () => 'live', subscribe: () => () => {} };

/** What picking needs of the page: given, not reached for, so that it is testable anywhere. */
export interface PickEnv {
  window: { monitor?: MonitorBridge; location: { hash: string; origin: string; pathname: string; search: string } };
  history: { replaceState(state: unknown, unused: string, url: string): void };
  storage: { getItem(key: string): string | null; setItem(key: string, value: string): void };
  createDashboardClient?: typeof createDashboardClient;
}

/** Whether the address holds a dashboard link's token (a new one, when the page is already open). */
export function hasTokenInHash(hash: string): boolean {
  return TOKEN_IN_HASH.test(hash);
}

export function pickTransport(env: PickEnv): Transport | null {
  const bridge = env.window.monitor;
  if (bridge && typeof bridge.getStatus === 'function') {
    // The main process asks where to save and writes the file: progress cannot cross IPC.
    return { api: bridge, connection: ALWAYS_LIVE, saveExport: (request) => bridge.saveExport(request) };
  }
  const token = takeToken(env);
  if (!token) return null;
  const create = env.createDashboardClient ?? createDashboardClient;
  return create({ baseUrl: env.window.location.origin, token, saveFile: downloadFile });
}

/**
 * The token from the link `serve` printed (`#token=…`), moved into session storage and out of the
 * address bar at once, so that it is not left in view, in bookmarks or in the back/forward list.
 * A reload finds it in session storage.
 */
function takeToken(env: PickEnv): string | null {
  const { location } = env.window;
  const fromHash = TOKEN_IN_HASH.exec(location.hash)?.[1];
  if (fromHash) {
    env.storage.setItem(TOKEN_KEY, fromHash);
    env.history.replaceState(null, '', `${location.pathname}${location.search}#/`);
    return fromHash;
  }
  return env.storage.getItem(TOKEN_KEY);
}
