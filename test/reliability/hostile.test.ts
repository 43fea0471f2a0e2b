/**
 * Hostile input to the receiver, and what it does downstream: each delivery gets the right 4xx or
 * is stored whole; nothing crashes, hangs or stores half an event, and a hostile payload that is
 * stored reaches the history, search, export, the API and the command line without polluting
 * prototypes or breaking an output format.
 *
 * Covered elsewhere, not repeated here (test/receiver.test.ts, test/receiver-rules.test.ts):
 * malformed JSON and non-objects (400), 100,000 nested arrays and 100,000 unclosed brackets (400),
 * invalid UTF-8 (400), a UTF-8 byte order mark (dropped, 200), bodies over 1 MiB with and without
 * Content-Length and chunked, endless uploads (413, without buffering), slow headers and slow bodies
 * while others are served (cut off / 408), wrong methods (405), wrong paths and tokens, dot
 * segments, percent-encoding, absolute-form targets (404), query strings (ignored), request
 * smuggling (Content-Length with Transfer-Encoding, two Content-Lengths: 400), clients that vanish
 * mid-body or mid-store, and a burst of 200.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Monitor } from '../../electron/core/monitor.ts';
import { parseCsvObjects, runCli, type ServeProcess, startServe } from '../helpers/cli.ts';
import { tempDir } from '../helpers/fixtures.ts';
import { post, rawRequest, rawStatus, requestHead, send } from '../helpers/http.ts';
import { auditHistory, startMonitor } from './support.ts';

/** Keys whose assignment or merge would reach Object.prototype in careless code. */
const POLLUTING = JSON.stringify({ polluted: 'yes', toString: 'no' });
const PROTO_PAYLOAD =
  `{"event_type":"entity.created","entity_name":"pollutionprobe","__proto__":${POLLUTING},` +
  `"constructor":{"prototype":${POLLUTING}},"nested":{"__proto__":${POLLUTING}},` +
  `"list":[{"__proto__":${POLLUTING}}]}`;
const CONTROL = 'nul\u0000 bell\u0007 esc\u001b[31mred\u001b[0m osc\u001b]0;title\u0007 cr\r lf\n ls\u2028 rlo\u202e';
/** The same without U+2028/U+2029, which break NDJSON lines for Node's readline (see the last test). */
const CONTROL_NO_LS = CONTROL.replace('\u2028', '');
const MARKUP = '<script>alert(1)</script><img src=x onerror=alert(2)>"\'&';

function assertNoPollution(): void {
  const probe = {} as Record<string, unknown>;
  expect(probe.polluted).toBeUndefined();
  expect(Object.prototype).not.toHaveProperty('polluted');
  expect(typeof probe.toString).toBe('function');
  expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain('polluted');
}

/** Base36 keys keep 100,000 of them under 1 MiB. */
function hundredThousandKeys(): string {
  const parts = ['"event_type":"entity.updated"'];
  for (let i = 0; i < 100_000; i++) parts.push(`"${i.toString(36)}":${i % 10}`);
  return `{${parts.join(',')}}`;
}

describe('hostile payloads through the monitor: stored whole, and harmless downstream', () => {
  let dataDir: string;
  let monitor: Monitor;
  let localUrl: string;
  let base: string;

  beforeAll(async () => {
    dataDir = tempDir();
    ({ monitor, localUrl, base } = await startMonitor(dataDir));
  });
  afterAll(async () => {
    await monitor.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const find = async (text: string) => (await monitor.listEvents({ text, limit: 10 })).events;

  it('stores a string of a million characters whole, and finds it by a word at its end', async () => {
    const huge = `${'lorem '.repeat(166_000)}needleword`;
    const res = await post(localUrl, JSON.stringify({ event_type: 'document.created', document_name: huge }));
    expect(res.status).toBe(200);
    const [event] = await find('needleword');
    const stored = String(event?.payload.document_name);
    expect(stored.length).toBe(huge.length);
    expect(stored).toBe(huge);
  });

  it('stores an event with 100,000 keys, every one of them', async () => {
    const body = hundredThousandKeys();
    expect(Buffer.byteLength(body)).toBeLessThan(1024 * 1024);
    const res = await post(localUrl, body);
    expect(res.status).toBe(200);
    const { events } = await monitor.listEvents({ types: ['entity.updated'] });
    expect(Object.keys(events[0]?.payload ?? {})).toHaveLength(100_001);
    expect(events[0]?.payload[(99_999).toString(36)]).toBe(9);
  });

  it('takes 1e999 (Infinity once parsed): stored, listed and exported as valid JSON', async () => {
    const res = await post(localUrl, '{"event_type":"task.created","task_id":"tsk_inf","big":1e999,"small":-1e999}');
    expect(res.status).toBe(200);
    const [event] = await find('tsk_inf');
    expect(event?.payload.task_id).toBe('tsk_inf');
    const exported = await monitor.exportEvents({ format: 'json', query: { text: 'tsk_inf' } });
    const [row] = JSON.parse(exported.content) as Array<{ payload: Record<string, unknown> }>;
    expect(row?.payload).toMatchObject({ task_id: 'tsk_inf', big: null, small: null });
  });

  it('takes duplicate keys as JSON.parse does (the last one wins), consistently everywhere', async () => {
    const body =
      '{"event_type":"order.completed","event_type":"order.cancelled","order_id":"ord_a","order_id":"ord_dupkey"}';
    expect((await post(localUrl, body)).status).toBe(200);
    const [event] = await find('ord_dupkey');
    expect(event?.event_type).toBe('order.cancelled');
    expect(event?.category).toBe('Orders');
    expect(event?.payload.order_id).toBe('ord_dupkey');
  });

  it('keeps __proto__ and constructor keys as plain data: no prototype is polluted anywhere', async () => {
    expect((await post(localUrl, PROTO_PAYLOAD)).status).toBe(200);
    for (const type of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'prototype']) {
      const res = await post(localUrl, JSON.stringify({ event_type: type, entity_name: `type_${type}` }));
      expect(res.status, type).toBe(200);
    }
    assertNoPollution();

    const [event] = await find('pollutionprobe');
    expect(event).toBeDefined();
    const payload = event?.payload as Record<string, unknown>;
    expect(Object.getPrototypeOf(payload)).toBe(Object.prototype);
    expect(Object.hasOwn(payload, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(payload, '__proto__')?.value).toEqual(JSON.parse(POLLUTING));
    expect(await find('polluted')).toHaveLength(0); // "polluted" is a key, not a value: not indexed

    // Odd event types are stored under Other with their own name, never mistaken for a catalog entry.
    const { events: odd } = await monitor.listEvents({ categories: ['Other'], limit: 50 });
    expect(odd.map((e) => e.event_type).sort()).toEqual(
      ['__proto__', 'constructor', 'hasOwnProperty', 'prototype', 'toString'].sort(),
    );
    for (const id of [event?.id ?? 0, ...odd.map((e) => e.id)]) expect((await monitor.getEvent({ id }))?.id).toBe(id);
    await monitor.markRead({ ids: odd.map((e) => e.id) });

    const json = await monitor.exportEvents({ format: 'json' });
    expect(JSON.parse(json.content)).toEqual(expect.any(Array));
    const csv = parseCsvObjects((await monitor.exportEvents({ format: 'csv' })).content);
    expect(csv.rows.some((row) => row.payload?.includes('"__proto__":{"polluted":"yes"'))).toBe(true);
    const stats = await monitor.getStats({});
    expect(stats.byCategory.Other).toBe(5);
    expect(Object.getPrototypeOf(stats.byCategory)).not.toHaveProperty('polluted');
    assertNoPollution();
  });

  it('keeps control characters and markup verbatim in the history and the API', async () => {
    const body = JSON.stringify({
      event_type: 'document.created',
      document_name: CONTROL,
      reason: MARKUP,
      id: 'doc_ctl',
    });
    expect((await post(localUrl, body)).status).toBe(200);
    const [event] = await find('doc_ctl');
    expect(event?.payload.document_name).toBe(CONTROL);
    expect(event?.payload.reason).toBe(MARKUP);
  });

  it('takes a lone surrogate escape (valid JSON, not valid Unicode) without failing', async () => {
    const res = await post(localUrl, '{"event_type":"task.created","task_id":"tsk_surrogate","name":"\\ud800x"}');
    expect(res.status).toBe(200);
    expect((await find('tsk_surrogate'))[0]?.payload.name).toBe('\ud800x');
  });

  it.each([
    ['an overlong encoding of "/"', [0xc0, 0xaf]],
    ['a UTF-8-encoded surrogate half', [0xed, 0xa0, 0x80]],
    ['a multi-byte character cut short', [0xe2, 0x82]],
    ['a UTF-16 byte order mark', [0xff, 0xfe]],
  ])('refuses %s with 400', async (_name, bytes) => {
    const body = Buffer.concat([Buffer.from('{"event_type":"x","s":"'), Buffer.from(bytes), Buffer.from('"}')]);
    const res = await post(localUrl, body);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).error).toMatch(/UTF-8/);
  });

  it('refuses two byte order marks (the second is not JSON whitespace) with 400', async () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const res = await post(localUrl, Buffer.concat([bom, bom, Buffer.from('{"event_type":"x"}')]));
    expect(res.status).toBe(400);
  });

  it('ignores a webhook-id header of 8 KB (too long to be a delivery id) and dedupes by content', async () => {
    const body = '{"event_type":"task.created","task_id":"tsk_longid"}';
    const headers = { 'webhook-id': 'w'.repeat(8 * 1024) };
    expect(JSON.parse((await post(localUrl, body, headers)).body)).toEqual({ status: 'ok' });
    expect(JSON.parse((await post(localUrl, body, headers)).body)).toEqual({ status: 'duplicate' });
  });

  it.each([
    ['a backslash for the slash', 404, (t: string) => `/webhooks\\${t}`],
    ['a NUL after the token', 404, (t: string) => `/webhooks/${t}%00`],
    ['an encoded ? after the token', 404, (t: string) => `/webhooks/${t}%3F`],
    ['a ;parameter after the token', 404, (t: string) => `/webhooks/${t};x=1`],
    ['a fragment after the token', 404, (t: string) => `/webhooks/${t}#x`],
    ['a /./ segment in front', 404, (t: string) => `/./webhooks/${t}`],
    ['/healthz/.. in front', 404, (t: string) => `/healthz/../webhooks/${t}`],
    ['the token in the query', 404, (t: string) => `/webhooks/?token=${t}`],
    ['a percent-encoded full-width slash', 404, (t: string) => `/webhooks%EF%BC%8F${t}`],
    // Raw non-ASCII bytes are not a path at all: a request target is ASCII (RFC 9112, 3.2), and
    // Node's parser refuses the request line (HPE_INVALID_URL) before any routing, so it is
    // malformed HTTP, answered 400 like any other, whatever the token — it tells nothing about it.
    ['a full-width slash in raw UTF-8', 400, (t: string) => `/webhooks\uff0f${t}`],
  ])('%s, sent raw: answers exactly %i and stores nothing', async (_name, status, target) => {
    const token = new URL(localUrl).pathname.slice('/webhooks/'.length);
    const body = '{"event_type":"task.created","task_id":"tsk_path"}';
    const head = requestHead('POST', target(token), {
      'Content-Type': 'application/json',
      'Content-Length': String(body.length),
      Connection: 'close',
    });
    const res = await rawRequest(Number(new URL(localUrl).port), Buffer.from(head + body, 'utf8'));
    expect(rawStatus(res.text)).toBe(status);
    expect(await find('tsk_path')).toHaveLength(0);
  });

  it('answers 431 to a request target of 100 KB and to 20,000 headers, then keeps serving', async () => {
    const port = Number(new URL(localUrl).port);
    const longTarget = await rawRequest(port, requestHead('GET', `/${'a'.repeat(100_000)}`, {}));
    expect(rawStatus(longTarget.text)).toBe(431);
    const headers = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`x-h${i}`, '1']));
    const many = await rawRequest(port, requestHead('POST', new URL(localUrl).pathname, headers));
    expect(rawStatus(many.text)).toBe(431);
    expect((await send(`${base}/healthz`)).status).toBe(200);
  });

  it('answers two pipelined requests in order on one connection, and stores both', async () => {
    const path = new URL(localUrl).pathname;
    const one = '{"event_type":"task.created","task_id":"tsk_pipe1"}';
    const two = '{"event_type":"task.created","task_id":"tsk_pipe2"}';
    const head = (body: string, last: boolean) =>
      requestHead('POST', path, {
        'Content-Type': 'application/json',
        'Content-Length': String(body.length),
        ...(last ? { Connection: 'close' } : {}),
      });
    const res = await rawRequest(Number(new URL(localUrl).port), head(one, false) + one + head(two, true) + two);
    expect(res.text.match(/HTTP\/1\.1 200/g)).toHaveLength(2);
    expect(await find('tsk_pipe1')).toHaveLength(1);
    expect(await find('tsk_pipe2')).toHaveLength(1);
  });

  it('invites the body of an Expect: 100-continue delivery only once it passed the checks', async () => {
    const body = '{"event_type":"task.created","task_id":"tsk_continue"}';
    const head = requestHead('POST', new URL(localUrl).pathname, {
      'Content-Type': 'application/json',
      'Content-Length': String(body.length),
      Expect: '100-continue',
      Connection: 'close',
    });
    const res = await rawRequest(Number(new URL(localUrl).port), [head, body], { delayMs: 100 });
    expect(res.text).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
    expect(await find('tsk_continue')).toHaveLength(1);
  });

  it('answers 413 to Expect: 100-continue with a declared body over 1 MiB, before any of it is sent', async () => {
    const head = requestHead('POST', new URL(localUrl).pathname, {
      'Content-Type': 'application/json',
      'Content-Length': String(2 * 1024 * 1024),
      Expect: '100-continue',
    });
    const res = await rawRequest(Number(new URL(localUrl).port), head, { timeoutMs: 5_000 });
    expect(rawStatus(res.text)).toBe(413);
    expect(res.text).not.toContain('100 Continue');
  });

  it('has stored no half event: integrity check passes and every event has its index entry', () => {
    const audit = auditHistory(dataDir);
    expect(audit.integrity).toBe('ok');
    expect(audit.indexed).toBe(audit.rows.length);
    for (const row of audit.rows) expect(() => JSON.parse(row.payload)).not.toThrow();
  });
});

describe('1,000 concurrent connections', () => {
  it('answers all 1,000 with 200, stores each once, and health checks pass meanwhile', async () => {
    const dataDir = tempDir();
    const { monitor, localUrl, base } = await startMonitor(dataDir);
    const agent = new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
    try {
      const n = 1_000;
      const run = randomBytes(4).toString('hex');
      const deliveries = Array.from({ length: n }, (_, i) =>
        post(localUrl, JSON.stringify({ event_type: 'document.created', document_id: `doc_${run}_${i}` }), {}, agent),
      );
      const health = await send(`${base}/healthz`);
      const answers = await Promise.all(deliveries);
      expect(health.status).toBe(200);
      expect(answers.filter((a) => a.status !== 200).map((a) => a.status)).toEqual([]);
      const audit = auditHistory(dataDir);
      expect(audit.rows).toHaveLength(n);
      expect(new Set(audit.rows.map((r) => JSON.parse(r.payload).document_id)).size).toBe(n);
      expect((await monitor.getStatus({})).receiver.throttled).toBe(false);
    } finally {
      agent.destroy();
      await monitor.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('hostile payloads through the command line', () => {
  let dataDir: string;
  let serve: ServeProcess;

  beforeAll(async () => {
    dataDir = tempDir();
    serve = await startServe(dataDir, ['--no-dashboard']);
  });
  afterAll(async () => {
    await serve.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints each stored event as one valid NDJSON line, and search, export and url stay well-formed', async () => {
    const url = serve.ready.localUrl;
    const bodies = [
      PROTO_PAYLOAD,
      JSON.stringify({ event_type: 'document.created', document_name: CONTROL_NO_LS, reason: MARKUP }),
      JSON.stringify({ event_type: CONTROL_NO_LS, entity_name: 'odd type' }),
      JSON.stringify({ event_type: '__proto__', entity_name: MARKUP }),
      '{"event_type":"task.created","task_id":"tsk_cli_inf","n":1e999}',
    ];
    for (const body of bodies) expect((await post(url, body)).status).toBe(200);
    const lines = await serve.waitForLines(bodies.length);
    for (const line of lines) {
      expect(line.type).toBe('event');
    }

    const search = await runCli(['search', '--json', '--limit', '100', '--data-dir', dataDir]);
    expect(search.code).toBe(0);
    const found = JSON.parse(search.stdout) as Array<{ event_type: string; payload: Record<string, unknown> }>;
    expect(found).toHaveLength(bodies.length);
    const proto = found.find((e) => e.payload.entity_name === 'pollutionprobe');
    expect(Object.hasOwn(proto?.payload ?? {}, '__proto__')).toBe(true);
    expect(found.map((e) => e.event_type)).toContain(CONTROL_NO_LS);

    // For people: one line per event, with no control character that could move the cursor or recolour.
    const human = await runCli(['search', '--limit', '100', '--data-dir', dataDir]);
    const humanLines = human.stdout.split('\n').filter((l) => l !== '');
    expect(humanLines).toHaveLength(bodies.length);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
    const controls = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202e]/;
    for (const line of humanLines) expect(line).not.toMatch(controls);

    const csv = await runCli(['export', '--format', 'csv', '--data-dir', dataDir]);
    expect(parseCsvObjects(csv.stdout).rows).toHaveLength(bodies.length);
    const json = await runCli(['export', '--format', 'json', '--data-dir', dataDir]);
    expect(JSON.parse(json.stdout)).toHaveLength(bodies.length);

    // Still up and answering after all of it.
    expect((await post(url, '{"event_type":"task.created","task_id":"tsk_after"}')).status).toBe(200);
    await serve.waitForLines(bodies.length + 1);
    expect(serve.lines.filter((l) => l.type === 'not-json')).toEqual([]);
  });

  // JSON.stringify leaves U+2028 and U+2029 as they are (valid JSON), but Node's readline — how
  // most Node scripts, and this repository's own helpers, read NDJSON — ends a line at them, so
  // serve escapes both in its NDJSON output.
  it('keeps an event with U+2028 or U+2029 in its payload on one NDJSON line for readline', async () => {
    const before = serve.lines.length;
    const body = JSON.stringify({ event_type: 'task.created', task_id: 'tsk_ls', name: 'line\u2028sep\u2029para' });
    expect((await post(serve.ready.localUrl, body)).status).toBe(200);
    await serve.waitForLines(before + 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(serve.lines.slice(before).map((l) => l.type)).toEqual(['event']);
  });
});
