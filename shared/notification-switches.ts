import { type Category, describeEventType, EVENT_CATALOG } from './events.ts';
import type { Settings } from './settings.ts';

/**
 * The notification switches as the settings hold them: which event types are on, a category at
 * once, and the pause choices. Pure rules over the settings, used both by the core's policy
 * (electron/core/notify.ts) and by the window's Settings view, so that the two can never read the
 * same settings differently.
 */

type NotificationSettings = Settings['notifications'];

/**
 * `pausedUntil` for "Pause until I resume". A finite number because settings travel as JSON,
 * where Infinity turns into null (= not paused); year 287396 is far enough.
 */
export const PAUSED_UNTIL_RESUMED = Number.MAX_SAFE_INTEGER;

/** `types` key for a whole category: the switch for event types the catalog does not know yet. */
export function categoryKey(category: Category): string {
  return `category:${category}`;
}

/** Whether an event type's switch is on: its own switch, else its category's, else the defaults. */
export function typeSwitchedOn(settings: NotificationSettings, type: string): boolean {
  if (Object.hasOwn(settings.types, type)) return settings.types[type] === true;
  const byCategory = categoryKey(describeEventType(type).category);
  if (Object.hasOwn(settings.types, byCategory)) return settings.types[byCategory] === true;
  return settings.defaultOn.includes(type);
}

/** A category switch sets every type of the category, and the category's key for new types. */
export function withCategory(types: Record<string, boolean>, category: Category, on: boolean): Record<string, boolean> {
  const next = { ...types, [categoryKey(category)]: on };
  for (const info of EVENT_CATALOG) if (info.category === category) next[info.type] = on;
  return next;
}

/** For a category's switch: all of its known types on, all off, or some of each. */
export function categoryState(settings: NotificationSettings, category: Category): 'on' | 'off' | 'mixed' {
  const types = EVENT_CATALOG.filter((info) => info.category === category).map((info) => info.type);
  // "Other" has no known types: its key alone decides.
  if (types.length === 0) return settings.types[categoryKey(category)] === true ? 'on' : 'off';
  const on = types.filter((type) => typeSwitchedOn(settings, type)).length;
  return on === types.length ? 'on' : on === 0 ? 'off' : 'mixed';
}

export type PauseChoice = 'hour' | 'tomorrow' | 'resume';

/** The hour of "until tomorrow": the start of a working day. */
const TOMORROW_HOUR = 8;
/** Before this hour a pause "until tomorrow" ends this morning: it is still the night before. */
const NIGHT_ENDS_HOUR = 4;

/** `pausedUntil` for a pause choice (tray menu or Settings), in local time. */
export function pauseUntil(choice: PauseChoice, nowMs: number): number {
  if (choice === 'hour') return nowMs + 60 * 60 * 1000;
  if (choice === 'resume') return PAUSED_UNTIL_RESUMED;
  const end = new Date(nowMs);
  // Date arithmetic in local time keeps 08:00 right across a daylight-saving change.
  if (end.getHours() >= NIGHT_ENDS_HOUR) end.setDate(end.getDate() + 1);
  end.setHours(TOMORROW_HOUR, 0, 0, 0);
  return end.getTime();
}
