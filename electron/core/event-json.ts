import { hash } from 'node:crypto';
import type { SingleFileEvent } from '../../shared/events.ts';

/**
 * Pure helpers over a parsed JSON payload. `jsonDepth` and `searchableValues` walk iteratively,
 * so a hostile payload nested 100,000 levels deep can be measured and refused without
 * overflowing the stack; `canonicalJson` recurses and relies on the receiver's depth limit.
 */

/** How deeply arrays and objects nest; a flat object is 1. Stops counting past `limit`. */
export function jsonDepth(value: unknown, limit = Number.POSITIVE_INFINITY): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (typeof node !== 'object' || node === null) continue;
    deepest = Math.max(deepest, depth);
    if (deepest > limit) return deepest;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** Every string and number in the payload, in document order: what full-text search indexes. */
export function searchableValues(value: unknown): string[] {
  const found: string[] = [];
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const node = stack.pop();
    if (typeof node === 'string') found.push(node);
    else if (typeof node === 'number' && Number.isFinite(node)) found.push(String(node));
    else if (typeof node === 'object' && node !== null) {
      // Pushed last-first so that values come out in document order; a loop, not a spread,
      // because a payload with 100,000 keys would exceed the argument limit of a call.
      const children = Object.values(node);
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
    }
  }
  return found;
}

/**
 * JSON with object keys sorted at every level, so equal payloads give equal text. A number too
 * big for a double (`1e999` parses to Infinity) is written `Infinity`, not JSON's `null`: the
 * text is only hashed, and a payload with `null` there is a different event, not a retry.
 */
export function canonicalJson(value: unknown): string {
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The identity of a delivery, so that a retry is stored once: the sender's delivery id when it
 * gives one (`webhook-id` header, else an `id` or `event_id` field), else a hash of the content.
 * A body's `id` may name the resource rather than the delivery (`entity.created` and then
 * `entity.updated` of `ent_1`), so body ids count only within their event type: an update is
 * never taken for a retry of the creation. Returned as 16 bytes of sha256: short enough to index
 * a million events cheaply.
 *
 * Keys of body ids stored before event types were part of them are left as they are (rewriting
 * them would mean re-reading every payload at start): only a retry of a delivery made before the
 * upgrade, whose 200 was lost, is then stored a second time; nothing is lost.
 */
export function dedupeKey(payload: SingleFileEvent, deliveryId?: string | null): Buffer {
  const bodyId = idField(payload, 'id') ?? idField(payload, 'event_id');
  const source = deliveryId
    ? `webhook-id:${deliveryId}`
    : // The type as a JSON string: self-delimiting, so no type and id can pose as another pair.
      bodyId
      ? `${bodyId.field}:${JSON.stringify(payload.event_type)}:${bodyId.value}`
      : `sha256:${canonicalJson(payload)}`;
  // The one-shot hash: about a third cheaper than createHash().update().digest() per event.
  return hash('sha256', source, 'buffer').subarray(0, 16);
}

function idField(payload: Record<string, unknown>, field: string): { field: string; value: string } | null {
  const value = Object.hasOwn(payload, field) ? payload[field] : undefined;
  if (typeof value === 'string' && value.length > 0) return { field, value };
  if (typeof value === 'number' && Number.isFinite(value)) return { field, value: String(value) };
  return null;
}
