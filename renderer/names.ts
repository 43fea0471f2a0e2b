import { describeEventType } from '../shared/events.ts';

/**
 * The type of the events "Send a test event" sends (TEST_EVENT_TYPE in electron/core/monitor.ts,
 * which the window cannot import): named for people instead of shown as an unknown type.
 */
const TEST_EVENT_TYPE = 'monitor.test';

export function isTestEvent(type: string): boolean {
  return type === TEST_EVENT_TYPE;
}

/** SingleFile's name for a type, our own for test events, else the type as it came. */
export function eventName(type: string): string {
  return isTestEvent(type) ? 'Test event' : describeEventType(type).name;
}
