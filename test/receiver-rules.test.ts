import { describe, expect, it } from 'vitest';
import {
  contentTypeProblem,
  declaredLengthTooLarge,
  MAX_BODY_BYTES,
  MAX_JSON_DEPTH,
  parseEventBody,
  routeRequest,
  tokensEqual,
} from '../electron/core/receiver-rules.ts';

const TOKEN = 'q3J2bV9yZWNlaXZlcl90b2s'; // 22 base64url characters, like a real 128-bit token
const bytes = (text: string) => new TextEncoder().encode(text);

describe('tokensEqual', () => {
  it('is true only for the same string', () => {
    expect(tokensEqual(TOKEN, TOKEN)).toBe(true);
    expect(tokensEqual(`${TOKEN}`, TOKEN.slice(0))).toBe(true);
    expect(tokensEqual('', '')).toBe(true);
  });

  it('is false for a different token of the same length', () => {
    const last = TOKEN.at(-1) === 'A' ? 'B' : 'A';
    expect(tokensEqual(TOKEN.slice(0, -1) + last, TOKEN)).toBe(false);
    expect(tokensEqual(TOKEN.toUpperCase(), TOKEN)).toBe(false);
  });

  it('is false for different lengths, either way round', () => {
    expect(tokensEqual(TOKEN.slice(0, -1), TOKEN)).toBe(false);
    expect(tokensEqual(`${TOKEN}x`, TOKEN)).toBe(false);
    expect(tokensEqual(TOKEN, `${TOKEN}x`)).toBe(false);
    expect(tokensEqual('', TOKEN)).toBe(false);
    expect(tokensEqual(TOKEN, '')).toBe(false);
    expect(tokensEqual(`${TOKEN}/`, TOKEN)).toBe(false);
  });

  it('does not treat non-ASCII look-alikes as equal', () => {
    expect(tokensEqual('\u00e9', 'e\u0301')).toBe(false); // precomposed vs combining
    expect(tokensEqual('\uff41bc', 'abc')).toBe(false); // fullwidth a
  });
});

describe('routeRequest', () => {
  const webhook = `/webhooks/${TOKEN}`;

  it('routes POST with the right token to the webhook, with or without a query string', () => {
    expect(routeRequest('POST', webhook, TOKEN)).toEqual({ kind: 'webhook' });
    expect(routeRequest('POST', `${webhook}?source=singlefile`, TOKEN)).toEqual({ kind: 'webhook' });
    expect(routeRequest('POST', `${webhook}?`, TOKEN)).toEqual({ kind: 'webhook' });
  });

  it('answers other methods on the webhook path with method-not-allowed', () => {
    for (const method of ['GET', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      expect(routeRequest(method, webhook, TOKEN)).toEqual({ kind: 'method-not-allowed' });
    }
  });

  it.each([
    ['wrong token', `/webhooks/${TOKEN.slice(0, -1)}x`],
    ['missing token', '/webhooks'],
    ['empty token', '/webhooks/'],
    ['token prefix', `/webhooks/${TOKEN.slice(0, 10)}`],
    ['token plus extra', `/webhooks/${TOKEN}x`],
    ['trailing slash', `${webhook}/`],
    ['dot segments', `${webhook}/../x`],
    ['dot segment before', `/webhooks/x/../${TOKEN}`],
    ['double slash', `/webhooks//${TOKEN}`],
    ['percent-encoded token', `/webhooks/${[...TOKEN].map((c) => `%${c.charCodeAt(0).toString(16)}`).join('')}`],
    ['percent-encoded slash', `/webhooks%2F${TOKEN}`],
    ['different case', `/Webhooks/${TOKEN}`],
    ['token elsewhere', `/${TOKEN}`],
    ['root', '/'],
    ['absolute form', `http://127.0.0.1${webhook}`],
    ['asterisk', '*'],
    ['empty', ''],
  ])('is not-found for %s', (_name, target) => {
    expect(routeRequest('POST', target, TOKEN)).toEqual({ kind: 'not-found' });
    expect(routeRequest('GET', target, TOKEN)).toEqual({ kind: 'not-found' });
  });

  it('reads the self-test nonce from /healthz?probe= and ignores malformed ones', () => {
    expect(routeRequest('GET', '/healthz?probe=abc_DEF-123', TOKEN)).toEqual({ kind: 'healthz', probe: 'abc_DEF-123' });
    expect(routeRequest('GET', '/healthz?probe=a%20b', TOKEN)).toEqual({ kind: 'healthz', probe: null });
    expect(routeRequest('GET', `/healthz?probe=${'x'.repeat(65)}`, TOKEN)).toEqual({ kind: 'healthz', probe: null });
  });

  it('serves /healthz to GET and HEAD only', () => {
    expect(routeRequest('GET', '/healthz', TOKEN)).toEqual({ kind: 'healthz', probe: null });
    expect(routeRequest('HEAD', '/healthz', TOKEN)).toEqual({ kind: 'healthz', probe: null });
    expect(routeRequest('GET', '/healthz?x=1', TOKEN)).toEqual({ kind: 'healthz', probe: null });
    expect(routeRequest('POST', '/healthz', TOKEN)).toEqual({ kind: 'not-found' });
    expect(routeRequest('GET', '/healthz/', TOKEN)).toEqual({ kind: 'not-found' });
  });

  it('never routes anything to the webhook when no token is set', () => {
    expect(routeRequest('POST', '/webhooks/', '')).toEqual({ kind: 'not-found' });
    expect(routeRequest('POST', '/webhooks', '')).toEqual({ kind: 'not-found' });
  });
});

describe('contentTypeProblem', () => {
  it.each([
    'application/json',
    'application/json; charset=utf-8',
    'application/json;charset=UTF-8',
    'Application/JSON; Charset="utf-8"',
    'application/json; charset=utf8',
    'application/cloudevents+json',
    'application/vnd.api+json; charset=utf-8',
  ])('accepts %s', (header) => {
    expect(contentTypeProblem(header)).toBeNull();
  });

  it.each([
    undefined,
    '',
    'text/plain',
    'text/json',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/jsonp',
    'application/json-patch',
    'application/+json',
    'json',
    'application/json; charset=latin1',
    'application/json; charset=iso-8859-1',
    'application/json; charset=utf-16',
  ])('refuses %s with a one-line reason', (header) => {
    const problem = contentTypeProblem(header);
    expect(problem).toBeTypeOf('string');
    expect(problem).not.toContain('\n');
  });
});

describe('declaredLengthTooLarge', () => {
  it('is over the limit only past MAX_BODY_BYTES', () => {
    expect(MAX_BODY_BYTES).toBe(1024 * 1024);
    expect(declaredLengthTooLarge(undefined)).toBe(false);
    expect(declaredLengthTooLarge('0')).toBe(false);
    expect(declaredLengthTooLarge(String(MAX_BODY_BYTES))).toBe(false);
    expect(declaredLengthTooLarge(String(MAX_BODY_BYTES + 1))).toBe(true);
    expect(declaredLengthTooLarge('99999999999999999999999')).toBe(true);
    expect(declaredLengthTooLarge('11', 10)).toBe(true);
    expect(declaredLengthTooLarge('10', 10)).toBe(false);
  });
});

describe('parseEventBody', () => {
  it('accepts an object with a string event_type and keeps every field as sent', () => {
    const text = '{"event_type":"order.completed","order_id":"ord_1","nested":{"a":[1,2]},"__proto__":{"x":1}}';
    const parsed = parseEventBody(bytes(text));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.rawJson).toBe(text);
    expect(parsed.event.event_type).toBe('order.completed');
    expect(parsed.event.nested).toEqual({ a: [1, 2] });
    expect(Object.hasOwn(parsed.event, '__proto__')).toBe(true);
  });

  it('accepts unknown event types and invalid timestamps', () => {
    expect(parseEventBody(bytes('{"event_type":"something.new"}')).ok).toBe(true);
    expect(parseEventBody(bytes('{"event_type":"x","timestamp":"yesterday"}')).ok).toBe(true);
    expect(parseEventBody(bytes(`{"event_type":"${'t'.repeat(200)}"}`)).ok).toBe(true);
  });

  it('drops a leading UTF-8 byte order mark', () => {
    const parsed = parseEventBody(new Uint8Array([0xef, 0xbb, 0xbf, ...bytes('{"event_type":"x"}')]));
    expect(parsed).toMatchObject({ ok: true, rawJson: '{"event_type":"x"}' });
  });

  it.each([
    ['empty', ''],
    ['whitespace', ' \r\n\t '],
    ['malformed', '{"event_type":'],
    ['trailing garbage', '{"event_type":"x"} x'],
    ['single quotes', "{'event_type':'x'}"],
    ['array', '[{"event_type":"x"}]'],
    ['null', 'null'],
    ['number', '42'],
    ['string', '"order.completed"'],
    ['boolean', 'true'],
    ['missing event_type', '{"type":"order.completed"}'],
    ['empty event_type', '{"event_type":""}'],
    ['event_type too long', `{"event_type":"${'t'.repeat(201)}"}`],
    ['numeric event_type', '{"event_type":5}'],
    ['null event_type', '{"event_type":null}'],
    ['object event_type', '{"event_type":{"name":"x"}}'],
  ])('refuses %s with a one-line reason', (_name, text) => {
    const parsed = parseEventBody(bytes(text));
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.reason.length).toBeGreaterThan(0);
    expect(parsed.reason.length).toBeLessThan(200);
    expect(parsed.reason).not.toMatch(/[\r\n]/);
  });

  it('names the problem with event_type', () => {
    const reason = (text: string) => {
      const parsed = parseEventBody(bytes(text));
      return parsed.ok ? null : parsed.reason;
    };
    expect(reason('{}')).toMatch(/event_type/);
    expect(reason('{"event_type":""}')).toMatch(/event_type/);
    expect(reason(`{"event_type":"${'t'.repeat(201)}"}`)).toMatch(/event_type/);
    expect(reason('{"event_type":1}')).toMatch(/event_type/);
    expect(reason('[]')).toMatch(/object/);
  });

  it('refuses bytes that are not UTF-8', () => {
    for (const bad of [
      [0xff],
      [0xc3, 0x28],
      [0xed, 0xa0, 0x80], // an encoded surrogate
      [0xc0, 0xaf], // an overlong "/"
    ]) {
      const body = new Uint8Array([...bytes('{"event_type":"x","v":"'), ...bad, ...bytes('"}')]);
      expect(parseEventBody(body)).toEqual({ ok: false, reason: 'body is not valid UTF-8' });
    }
  });

  it('refuses deep nesting without overflowing the stack', () => {
    const depth = 100_000;
    const text = `{"event_type":"x","a":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    const parsed = parseEventBody(bytes(text));
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toMatch(/nested/);
  });

  it('allows nesting up to MAX_JSON_DEPTH', () => {
    const inner = MAX_JSON_DEPTH - 1; // the outer object is level 1
    const ok = `{"event_type":"x","a":${'['.repeat(inner)}${']'.repeat(inner)}}`;
    expect(parseEventBody(bytes(ok)).ok).toBe(true);
    const tooDeep = `{"event_type":"x","a":${'['.repeat(inner + 1)}${']'.repeat(inner + 1)}}`;
    expect(parseEventBody(bytes(tooDeep)).ok).toBe(false);
  });
});
