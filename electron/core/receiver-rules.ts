import { createHash, timingSafeEqual } from 'node:crypto';
import { EventSchema, type SingleFileEvent } from '../../shared/events.ts';
import { jsonDepth } from './event-json.ts';

/**
 * The receiver's decisions as pure functions, in the order ARCHITECTURE.md gives them:
 * token → method → content type → size → JSON.parse → schema. Each returns what to answer.
 * Two optional checks sit between them (receiver.ts): flood control right after the method
 * (rate-limit.ts, 429) and the signature on the raw body right before JSON.parse (signature.ts, 401).
 */

export const MAX_BODY_BYTES = 1024 * 1024;
/** SingleFile's payloads are flat; anything deeper than this is not an event, and walking it costs. */
export const MAX_JSON_DEPTH = 64;

export type Route =
  | { kind: 'webhook' }
  | { kind: 'healthz'; probe: string | null }
  | { kind: 'not-found' }
  | { kind: 'method-not-allowed' };

/**
 * Matches the raw request target against `/webhooks/<token>`. The path is compared as sent,
 * without decoding or resolving `..`, so no spelling of another path can reach the webhook.
 */
export function routeRequest(method: string, target: string, token: string): Route {
  const [path = '', query = ''] = target.split('?', 2);
  if (path === '/healthz') {
    if (method !== 'GET' && method !== 'HEAD') return { kind: 'not-found' };
    // The tunnel's self-test sends a nonce through the public URL; seeing it proves the way in.
    const probe = new URLSearchParams(query).get('probe');
    return { kind: 'healthz', probe: probe && /^[\w-]{1,64}$/.test(probe) ? probe : null };
  }
  // An empty token would turn `/webhooks/` into an open door: no token, no webhook.
  if (token === '' || !path.startsWith('/webhooks/') || !tokensEqual(path.slice('/webhooks/'.length), token)) {
    return { kind: 'not-found' };
  }
  return method === 'POST' ? { kind: 'webhook' } : { kind: 'method-not-allowed' };
}

/** Constant-time comparison, so the token cannot be guessed one character at a time. */
export function tokensEqual(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected)) && given.length === expected.length;
}

/** null when the content type is JSON (`application/json` or `application/*+json`, UTF-8). */
export function contentTypeProblem(header: string | undefined): string | null {
  if (!header) return 'Content-Type must be application/json';
  const [mediaType = '', ...params] = header.split(';').map((part) => part.trim().toLowerCase());
  if (mediaType !== 'application/json' && !/^application\/[a-z0-9.+-]+\+json$/.test(mediaType)) {
    return 'Content-Type must be application/json';
  }
  const charset = params
    .find((p) => p.startsWith('charset='))
    ?.slice('charset='.length)
    .replaceAll('"', '');
  if (charset && charset !== 'utf-8' && charset !== 'utf8') return 'charset must be utf-8';
  return null;
}

/** A declared Content-Length over the limit is refused before a byte of the body is read. */
export function declaredLengthTooLarge(header: string | undefined, limit = MAX_BODY_BYTES): boolean {
  return header !== undefined && Number(header) > limit;
}

export type ParsedBody = { ok: true; event: SingleFileEvent; rawJson: string } | { ok: false; reason: string };

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Decodes, parses and validates a body; the reason of a refusal is one short line. */
export function parseEventBody(body: Uint8Array): ParsedBody {
  let text: string;
  try {
    text = utf8.decode(body); // also drops a leading byte order mark
  } catch {
    return { ok: false, reason: 'body is not valid UTF-8' };
  }
  if (text.trim() === '') return { ok: false, reason: 'body is empty' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'body is not valid JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'body must be a JSON object' };
  }
  if (jsonDepth(value, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    return { ok: false, reason: `JSON is nested more than ${MAX_JSON_DEPTH} levels deep` };
  }
  const checked = EventSchema.safeParse(value);
  if (!checked.success) return { ok: false, reason: checked.error.issues[0]?.message ?? 'not a SingleFile event' };
  // The payload kept is the object as parsed, not zod's copy: zod drops keys such as
  // `__proto__`, and every field must be kept as sent.
  return { ok: true, event: value as SingleFileEvent, rawJson: text };
}
