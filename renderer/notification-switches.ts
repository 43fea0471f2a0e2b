import { type Category, describeEventType, EVENT_CATALOG } from '../shared/events.ts';
import type { Settings } from '../shared/settings.ts';

/**
 * The notification switches as the core's policy reads them (electron/core/notify.ts:
 * typeNotifies, withCategory, categoryState, pauseUntil), for the Settings view. The window
 * reaches the core only through the Monitor API, so this is a copy of those few rules;
 * test/notify.test.ts checks that the two agree.
 */

type NotificationSettings = Settings['notifications'];

/** `pausedUntil` for "until I resume" (a finite number: settings travel as JSON). */
export const PAUSED_UNTIL_RESUMED = Number.MAX_SAFE_INTEGER;

/** `types` key for a whole category: the switch for event types the catalog does not know yet. */
export function categoryKey(category: Category): string {
  return `category:${category}`;
}

/** Whether an event type notifies: its own switch, else its category's, else the defaults. */
export function typeNotifies(settings: NotificationSettings, type: string): boolean {
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

/** All of a category's known types on, all off, or some of each. */
export function categoryState(settings: NotificationSettings, category: Category): 'on' | 'off' | 'mixed' {
  const types = EVENT_CATALOG.filter((info) => info.category === category).map((info) => info.type);
  // "Other" has no known types: its key alone decides.
  if (types.length === 0) return settings.types[categoryKey(category)] === true ? 'on' : 'off';
  const on = types.filter((type) => typeNotifies(settings, type)).length;
  return on === types.length ? 'on' : on === 0 ? 'off' : 'mixed';
}

export type PauseChoice = 'hour' | 'tomorrow' | 'resume';

/** `pausedUntil` for a pause choice, in local time: "tomorrow" is 08:00 (this morning before 04:00). */
export function pauseUntil(choice: PauseChoice, nowMs: number): number {
  if (choice === 'hour') return nowMs + 60 * 60 * 1000;
  if (choice === 'resume') return PAUSED_UNTIL_RESUMED;
  const end = new Date(nowMs);
  if (end.getHours() >= 4) end.setDate(end.getDate() + 1);
  end.setHours(8, 0, 0, 0);
  return end.getTime();
}
