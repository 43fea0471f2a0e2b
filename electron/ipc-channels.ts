import type { MonitorMethod, PushChannel } from '../shared/api.ts';

/**
 * The IPC channel names of the Monitor API, shared by the main process and the preload. Only
 * types come from shared/api.ts, so the sandboxed preload bundles no zod.
 */

// `satisfies Record<…, true>` fails to compile when shared/api.ts gains a method that has no
// channel here, or keeps one that no longer exists.
const METHOD_SET = {
  getStatus: true,
  listEvents: true,
  getEvent: true,
  markRead: true,
  markAllRead: true,
  getSettings: true,
  updateSettings: true,
  getStats: true,
  exportEvents: true,
  regenerateWebhookUrl: true,
  sendTestEvent: true,
  checkTunnel: true,
} as const satisfies Record<MonitorMethod, true>;

const PUSH_SET = { event: true, status: true, notice: true } as const satisfies Record<PushChannel, true>;

export const MONITOR_METHODS = Object.keys(METHOD_SET) as MonitorMethod[];
export const PUSH_CHANNELS = Object.keys(PUSH_SET) as PushChannel[];

/** One prefix for everything of ours, so a stray channel name can never reach a handler. */
const PREFIX = 'monitor:';

export function invokeChannel(method: MonitorMethod): string {
  return `${PREFIX}call:${method}`;
}

export function pushChannelName(channel: PushChannel): string {
  return `${PREFIX}push:${channel}`;
}

export function isPushChannel(value: unknown): value is PushChannel {
  return typeof value === 'string' && Object.hasOwn(PUSH_SET, value);
}
