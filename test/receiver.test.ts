import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger, silentLogger } from '../electron/core/log.ts';
import { createReceiver, type IngestInput, type Receiver, type ReceiverOptions } from '../electron/core/receiver.ts';
import { MAX_BODY_BYTES } from '../electron/core/receiver-rules.ts';
import { openStore, type Store, StoreUnavailableError } from '../electron/core/store.ts';
import { canConnect, post, rawRequest, rawStatus, requestHead, send, sleep } from './helpers/http.ts';

const FIXTURES = new URL('../../shared/fixtures/events/', import.meta.url);
const fixtureNames = readdirSync(FIXTURES)
  .filter((name) => name.endsWith('.json'))
  .sort();
const fixture = (name: string) => readFileSync(new URL(name, FIXTURES), 'utf8');

/** A token like the real one: 128 random bits, base64url. */
const newToken = () => randomBytes(16).toString('base64url');

/** An in-memory stand-in for the store: records every call; can be told to fail or to wait. */
function fakeIngest() {
  const calls: IngestInput[] = [];
  let failure: Error | null = null;
  let gate: Promise<void> | null = null;
  return {
    calls,
    failWith(error: Error | null) {
      failure = error;
    },
    holdUntil(promise: Promise<void> | null) {
      gate = promise;
    },
    ingest: async (input: IngestInput): Promise<'ok' | 'duplicate'> => {
      calls.push(input);
      if (gate) await gate;
      if (failure) throw failure;
      return 'ok';
    },
  };
}

async function startReceiver(options: Partial<ReceiverOptions> & Pick<ReceiverOptions, 'ingest'>) {
  const fixedToken = newToken();
  const token = options.token ?? (() => fixedToken);
  const receiver = createReceiver({ log: silentLogger, ...options, token });
  const port = await receiver.listen(0);
  const base = `http://127.0.0.1:${port}`;
  return { receiver, port, base, token: token(), url: `${base}/webhooks/${token()}` };
}

/** A JSON event body of exactly `size` bytes. */
function eventOfSize(size: number): string {
  const head = '{"event_type":"order.completed","pad":"';
  const tail = '"}';
  return head + 'x'.repeat(size - head.length - tail.length) + tail;
}

/** One chunk of chunked transfer coding. */
const chunk = (data: string | Buffer) =>
  Buffer.concat([Buffer.from(`${Buffer.byteLength(data).toString(16)}\r\n`), Buffer.from(data), Buffer.from('\r\n')]);

/** An endless chunked upload of `size`-byte chunks, capped so that a broken server fails the test instead of hanging it. */
function* endlessChunks(size: number, capBytes: number) {
  const piece = chunk(Buffer.alloc(size, 'a'));
  for (let sent = 0; sent < capBytes; sent += size) yield piece;
}

const NOT_FOUND_BODY = '{"error":"not found"}';

describe('receiver (fake ingest)', () => {
  const fake = fakeIngest();
  let r: Awaited<ReturnType<typeof startReceiver>>;

  beforeAll(async () => {
    r = await startReceiver({ ingest: fake.ingest });
  });
  afterAll(async () => {
    await r.receiver.close();
  });
  beforeEach(() => {
    fake.calls.length = 0;
    fake.failWith(null);
    fake.holdUntil(null);
  });

  describe('listening', () => {
    it('reports its port and accepts connections on 127.0.0.1', async () => {
      expect(r.receiver.port).toBe(r.port);
      expect(await canConnect('127.0.0.1', r.port)).toBe(true);
    });

    it('listens on 127.0.0.1 only', async () => {
      // Bound to 0.0.0.0 or ::, these would all be accepted.
      expect(await canConnect('::1', r.port)).toBe(false);
      if (process.platform === 'linux') expect(await canConnect('127.0.0.2', r.port)).toBe(false);
      const external = Object.values(networkInterfaces())
        .flat()
        .filter((info) => info && !info.internal)
        .map((info) => info?.address as string);
      for (const address of external) expect(await canConnect(address, r.port), address).toBe(false);
      // Where the kernel lists listening sockets, ours is bound to 127.0.0.1 exactly.
      if (existsSync('/proc/net/tcp')) {
        const portHex = r.port.toString(16).toUpperCase().padStart(4, '0');
        const listening = readFileSync('/proc/net/tcp', 'utf8')
          .split('\n')
          .map((line) => line.trim().split(/\s+/))
          .filter((cols) => cols[1]?.endsWith(`:${portHex}`) && cols[3] === '0A')
          .map((cols) => cols[1]);
        expect(listening).toEqual([`0100007F:${portHex}`]);
        if (existsSync('/proc/net/tcp6')) {
          const v6 = readFileSync('/proc/net/tcp6', 'utf8')
            .split('\n')
            .map((line) => line.trim().split(/\s+/))
            .filter((cols) => cols[1]?.endsWith(`:${portHex}`) && cols[3] === '0A');
          expect(v6).toEqual([]);
        }
      }
    });
  });

  describe('POST /webhooks/<token>', () => {
    it('answers 200 ok to every fixture and passes the event to ingest as sent', async () => {
      expect(fixtureNames.length).toBeGreaterThanOrEqual(11);
      for (const name of fixtureNames) {
        const body = fixture(name);
        const res = await post(r.url, body);
        expect(res.status, name).toBe(200);
        expect(JSON.parse(res.body)).toEqual({ status: 'ok' });
        expect(res.headers['content-type']).toMatch(/^application\/json/);
        const call = fake.calls.at(-1);
        expect(call?.event).toEqual(JSON.parse(body));
        expect(call?.rawJson).toBe(body);
        expect(call?.deliveryId).toBeNull();
      }
      expect(fake.calls).toHaveLength(fixtureNames.length);
    });

    it('accepts a query string on the webhook path', async () => {
      const res = await post(`${r.url}?source=singlefile&x=1`, fixture('order.completed.json'));
      expect(res.status).toBe(200);
      expect(fake.calls).toHaveLength(1);
    });

    it('passes the webhook-id header on as the delivery id, when it is sane', async () => {
      await post(r.url, '{"event_type":"a"}', { 'webhook-id': 'msg_2Lx' });
      await post(r.url, '{"event_type":"a"}', { 'webhook-id': 'x'.repeat(257) });
      await post(r.url, '{"event_type":"a"}', { 'webhook-id': '' });
      expect(fake.calls.map((call) => call.deliveryId)).toEqual(['msg_2Lx', null, null]);
    });

    it('stores an unknown event type instead of refusing it', async () => {
      const res = await post(r.url, '{"event_type":"invoice.paid","amount":12}');
      expect(res.status).toBe(200);
      expect(fake.calls[0]?.event).toEqual({ event_type: 'invoice.paid', amount: 12 });
    });
  });

  describe('404: wrong or missing token, other paths', () => {
    const targets = (token: string) => ({
      'wrong token': `/webhooks/${newToken()}`,
      'token with one character changed': `/webhooks/${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`,
      'token prefix': `/webhooks/${token.slice(0, -1)}`,
      'missing token': '/webhooks',
      'empty token': '/webhooks/',
      'other path': '/',
      'other path with the token': `/api/${token}`,
      'token alone': `/${token}`,
      'percent-encoded token': `/webhooks/${[...token].map((c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).join('')}`,
      'percent-encoded first character': `/webhooks/%${token.charCodeAt(0).toString(16)}${token.slice(1)}`,
      'dot segments after the token': `/webhooks/${token}/../x`,
      'dot segments before the token': `/webhooks/x/../${token}`,
      'trailing slash': `/webhooks/${token}/`,
      'double slash': `/webhooks//${token}`,
      'upper-case prefix': `/WEBHOOKS/${token}`,
      'healthz with POST': '/healthz',
    });

    it('answers 404 with no detail to a POST of a valid event anywhere else', async () => {
      for (const [name, target] of Object.entries(targets(r.token))) {
        const res = await post(`${r.base}${target}`, fixture('order.completed.json'));
        expect(res.status, name).toBe(404);
        expect(res.body, name).toBe(NOT_FOUND_BODY);
        expect(res.body).not.toContain(r.token);
        expect(res.headers.allow, name).toBeUndefined();
      }
      expect(fake.calls).toHaveLength(0);
    });

    it('answers 404, not 405, to other methods anywhere else', async () => {
      for (const method of ['GET', 'PUT', 'DELETE']) {
        const res = await send(`${r.base}/webhooks/${newToken()}`, { method });
        expect(res.status).toBe(404);
        expect(res.body).toBe(NOT_FOUND_BODY);
      }
    });

    it('looks the same whether the path or the token is wrong', async () => {
      const a = await post(`${r.base}/webhooks/${newToken()}`, '{"event_type":"x"}');
      const b = await post(`${r.base}/nothing-here`, '{"event_type":"x"}');
      expect([a.status, a.body]).toEqual([b.status, b.body]);
    });

    it('answers 404 to an absolute-form request target (raw)', async () => {
      const body = '{"event_type":"x"}';
      const head = requestHead('POST', `http://127.0.0.1:${r.port}/webhooks/${r.token}`, {
        'Content-Type': 'application/json',
        'Content-Length': String(body.length),
        Connection: 'close',
      });
      const res = await rawRequest(r.port, head + body);
      expect(rawStatus(res.text)).toBe(404);
      expect(fake.calls).toHaveLength(0);
    });
  });

  describe('405: other methods on the webhook path', () => {
    it.each(['GET', 'PUT', 'DELETE', 'PATCH'])('answers %s with 405 and Allow: POST', async (method) => {
      const res = await send(r.url, {
        method,
        ...(method === 'GET' || method === 'DELETE'
          ? {}
          : { body: fixture('order.completed.json'), headers: { 'Content-Type': 'application/json' } }),
      });
      expect(res.status).toBe(405);
      expect(res.headers.allow).toBe('POST');
      expect(fake.calls).toHaveLength(0);
    });
  });

  describe('415: content type', () => {
    const body = fixture('order.completed.json');

    it.each([
      ['missing', undefined],
      ['text/plain', 'text/plain'],
      ['a form', 'application/x-www-form-urlencoded'],
      ['multipart', 'multipart/form-data; boundary=xyz'],
      ['charset latin1', 'application/json; charset=latin1'],
      ['charset utf-16', 'application/json; charset=utf-16'],
    ])('refuses %s', async (_name, contentType) => {
      const res = await post(r.url, body, { 'Content-Type': contentType });
      expect(res.status).toBe(415);
      expect(JSON.parse(res.body).error).toBeTypeOf('string');
      expect(fake.calls).toHaveLength(0);
    });

    it.each([
      'application/json',
      'application/json; charset=utf-8',
      'application/json;charset=UTF-8',
      'application/cloudevents+json',
    ])('accepts %s', async (contentType) => {
      const res = await post(r.url, body, { 'Content-Type': contentType });
      expect(res.status).toBe(200);
      expect(fake.calls).toHaveLength(1);
    });
  });

  describe('400: not an event', () => {
    it.each([
      ['malformed JSON', '{"event_type": "order.completed",'],
      ['an empty body', ''],
      ['an array', '[{"event_type":"order.completed"}]'],
      ['null', 'null'],
      ['a number', '42'],
      ['a string', '"order.completed"'],
      ['no event_type', '{"order_id":"ord_1"}'],
      ['an empty event_type', '{"event_type":""}'],
      ['an event_type of 201 characters', `{"event_type":"${'e'.repeat(201)}"}`],
      ['a numeric event_type', '{"event_type":7}'],
      ['a boolean event_type', '{"event_type":true}'],
      ['an array event_type', '{"event_type":["order.completed"]}'],
    ])('refuses %s with a one-line reason', async (_name, body) => {
      const res = await post(r.url, body);
      expect(res.status).toBe(400);
      const answer = JSON.parse(res.body) as { error: unknown };
      expect(Object.keys(answer)).toEqual(['error']);
      expect(answer.error).toBeTypeOf('string');
      expect((answer.error as string).length).toBeGreaterThan(0);
      expect(answer.error).not.toMatch(/[\r\n]/);
      expect(fake.calls).toHaveLength(0);
    });

    it('accepts an event_type of exactly 200 characters', async () => {
      const res = await post(r.url, `{"event_type":"${'e'.repeat(200)}"}`);
      expect(res.status).toBe(200);
    });

    it('refuses bytes that are not UTF-8', async () => {
      const body = Buffer.concat([
        Buffer.from('{"event_type":"order.completed","name":"'),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('"}'),
      ]);
      const res = await post(r.url, body);
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body).error).toMatch(/UTF-8/);
      expect(fake.calls).toHaveLength(0);
    });

    it('accepts a UTF-8 byte order mark in front, and drops it', async () => {
      const json = fixture('order.completed.json');
      const res = await post(r.url, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(json)]));
      expect(res.status).toBe(200);
      expect(fake.calls[0]?.rawJson).toBe(json);
    });

    it('refuses 100,000 levels of nested arrays without crashing', async () => {
      const depth = 100_000;
      const res = await post(r.url, `{"event_type":"x","deep":${'['.repeat(depth)}${']'.repeat(depth)}}`);
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body).error).toMatch(/nested/);
      expect(fake.calls).toHaveLength(0);
      expect((await send(`${r.base}/healthz`)).status).toBe(200);
    });

    it('refuses 100,000 unclosed brackets as malformed JSON', async () => {
      const res = await post(r.url, `{"event_type":"x","deep":${'['.repeat(100_000)}`);
      expect(res.status).toBe(400);
      expect((await send(`${r.base}/healthz`)).status).toBe(200);
    });
  });

  describe('413: body over 1 MiB', () => {
    it('lets a body of exactly 1 MiB through the size check', async () => {
      const body = eventOfSize(MAX_BODY_BYTES);
      expect(Buffer.byteLength(body)).toBe(MAX_BODY_BYTES);
      const res = await post(r.url, body);
      expect(res.status).toBe(200);
      expect(fake.calls[0]?.rawJson).toHaveLength(MAX_BODY_BYTES);
    });

    it('lets exactly 1 MiB sent chunked through the size check', async () => {
      const body = Buffer.from(eventOfSize(MAX_BODY_BYTES));
      const pieces = [
        requestHead('POST', `/webhooks/${r.token}`, {
          'Content-Type': 'application/json',
          'Transfer-Encoding': 'chunked',
          Connection: 'close',
        }),
      ];
      for (let at = 0; at < body.length; at += 64 * 1024)
        pieces.push(chunk(body.subarray(at, at + 64 * 1024)).toString('latin1'));
      pieces.push('0\r\n\r\n');
      const res = await rawRequest(r.port, pieces);
      expect(rawStatus(res.text)).toBe(200);
      expect(res.text).toContain('{"status":"ok"}');
      expect(fake.calls).toHaveLength(1);
    });

    it('answers 413 to a client that sends a body of 1 MiB + 1 with Content-Length', async () => {
      const res = await post(r.url, eventOfSize(MAX_BODY_BYTES + 1));
      expect(res.status).toBe(413);
      expect(JSON.parse(res.body).error).toMatch(/MiB/);
      expect(fake.calls).toHaveLength(0);
    });

    it('answers 413 to a declared Content-Length over the limit before any of the body arrives', async () => {
      const head = requestHead('POST', `/webhooks/${r.token}`, {
        'Content-Type': 'application/json',
        'Content-Length': String(10 * 1024 * 1024 * 1024),
      });
      // Only the head is sent: the answer cannot have waited for the body.
      const res = await rawRequest(r.port, head, { stopWhenAnswered: true, halfClose: true });
      expect(res.timedOut).toBe(false);
      expect(rawStatus(res.text)).toBe(413);
      expect(res.text).toMatch(/connection: close/i);
      expect(fake.calls).toHaveLength(0);
    });

    it('lets a client that writes its whole oversized body before reading finish, then read the 413 (no reset)', async () => {
      const body = Buffer.alloc(4 * MAX_BODY_BYTES, 'a');
      const head = requestHead('POST', `/webhooks/${r.token}`, {
        'Content-Type': 'application/json',
        'Content-Length': String(body.length),
      });
      const pieces = [Buffer.from(head)];
      for (let at = 0; at < body.length; at += 64 * 1024) pieces.push(body.subarray(at, at + 64 * 1024));
      const res = await rawRequest(r.port, pieces, { halfClose: true, writeAfterServerEnd: true });
      expect(res.timedOut).toBe(false);
      expect(rawStatus(res.text)).toBe(413);
      // The rest of the upload was read and thrown away, not refused with a reset.
      expect(res.errorCode).toBeNull();
      expect(res.bytesWritten).toBe(head.length + body.length);
      expect(res.closedByServer).toBe(true);
      expect(fake.calls).toHaveLength(0);
    });

    it('cuts off a client that keeps uploading after its 413', async () => {
      const head = requestHead('POST', `/webhooks/${r.token}`, {
        'Content-Type': 'application/json',
        'Transfer-Encoding': 'chunked',
      });
      const cap = 2 ** 40; // never reached: the server must end it
      const upload = (function* () {
        yield head;
        yield* endlessChunks(64 * 1024, cap);
      })();
      // The server half-closes after its 413 and discards what follows, but not forever.
      const res = await rawRequest(r.port, upload, { timeoutMs: 20_000, writeAfterServerEnd: true });
      expect(res.timedOut).toBe(false);
      expect(rawStatus(res.text)).toBe(413);
      expect(res.closedByServer).toBe(true);
      expect(res.errorCode).toMatch(/^(EPIPE|ECONNRESET)$/);
      expect((await post(r.url, '{"event_type":"after.413"}')).status).toBe(200);
    });

    it('answers 413 to an endless chunked upload without Content-Length, and the client reads it', async () => {
      const cap = 256 * MAX_BODY_BYTES;
      const head = requestHead('POST', `/webhooks/${r.token}`, {
        'Content-Type': 'application/json',
        'Transfer-Encoding': 'chunked',
      });
      const upload = (function* () {
        yield head;
        yield* endlessChunks(64 * 1024, cap);
      })();
      const res = await rawRequest(r.port, upload, { stopWhenAnswered: true, halfClose: true });
      expect(res.timedOut).toBe(false);
      expect(rawStatus(res.text)).toBe(413);
      expect(res.text).toMatch(/connection: close/i);
      // The server answered in the middle of the upload instead of reading (or buffering) all of it.
      expect(res.bytesWritten).toBeLessThan(cap);
      expect(fake.calls).toHaveLength(0);
      expect((await post(r.url, '{"event_type":"after.413"}')).status).toBe(200);
    });

    it('answers 413 when a chunked upload passes the limit, even if the client then stops', async () => {
      const head = requestHead('POST', `/webhooks/${r.token}`, {
        'Content-Type': 'application/json',
        'Transfer-Encoding': 'chunked',
      });
      const piece = chunk(Buffer.alloc(MAX_BODY_BYTES + 1, 'a'));
      const res = await rawRequest(r.port, [head, piece]);
      expect(res.timedOut).toBe(false);
      expect(rawStatus(res.text)).toBe(413);
    });
  });

  describe('503: the store cannot write', () => {
    it('answers 503 with Retry-After when ingest rejects, then 200 once it recovers', async () => {
      fake.failWith(new StoreUnavailableError('database is locked'));
      const res = await post(r.url, fixture('order.completed.json'));
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toMatch(/^\d+$/);
      expect(JSON.parse(res.body).error).toBeTypeOf('string');
      expect(res.body).not.toContain('database is locked');
      expect(fake.calls).toHaveLength(1);

      fake.failWith(null);
      expect((await post(r.url, fixture('order.completed.json'))).status).toBe(200);
    });

    it('answers 503 to any other ingest failure too', async () => {
      fake.failWith(new Error('disk I/O error'));
      const res = await post(r.url, fixture('order.completed.json'));
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBeDefined();
    });
  });

  describe('GET /healthz', () => {
    it('answers 200 and reveals nothing, before and after events arrive', async () => {
      const before = await send(`${r.base}/healthz`);
      expect(before.status).toBe(200);
      for (const name of fixtureNames) await post(r.url, fixture(name));
      const after = await send(`${r.base}/healthz`);
      expect(after.status).toBe(200);
      expect(after.body).toBe(before.body);
      expect(after.headers['content-length']).toBe(before.headers['content-length']);
      const everything = JSON.stringify([after.body, after.headers]);
      expect(everything).not.toContain(r.token);
      expect(after.body).not.toMatch(/\d/);
      expect(after.body.length).toBeLessThan(64);
    });

    it('reports a self-test nonce to onProbe and answers it like any health check', async () => {
      const seen: string[] = [];
      const probed = await startReceiver({ ingest: fakeIngest().ingest, onProbe: (nonce) => seen.push(nonce) });
      try {
        const plain = await send(`${probed.base}/healthz`);
        const withNonce = await send(`${probed.base}/healthz?probe=nonce_123-abc`);
        expect(withNonce.status).toBe(200);
        expect(withNonce.body).toBe(plain.body);
        expect(seen).toEqual(['nonce_123-abc']);
      } finally {
        await probed.receiver.close();
      }
    });

    it('answers HEAD /healthz with 200 and no body', async () => {
      const res = await send(`${r.base}/healthz`, { method: 'HEAD' });
      expect(res.status).toBe(200);
      expect(res.body).toBe('');
    });
  });

  describe('hostile and malformed HTTP', () => {
    it.each([
      ['garbage', 'GARBAGE\r\n\r\n'],
      ['a bad header', 'POST / HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n'],
      [
        'Content-Length and Transfer-Encoding',
        `POST /webhooks/TOKEN HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      ],
      [
        'two Content-Lengths',
        `POST /webhooks/TOKEN HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello`,
      ],
      [
        'a bad chunk size',
        `POST /webhooks/TOKEN HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n`,
      ],
      [
        'a negative Content-Length',
        `POST /webhooks/TOKEN HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: -1\r\n\r\n`,
      ],
    ])('answers 400 to %s and keeps serving', async (_name, request) => {
      const res = await rawRequest(r.port, request.replaceAll('TOKEN', r.token));
      expect(res.timedOut).toBe(false);
      expect(rawStatus(res.text)).toBe(400);
      expect(fake.calls).toHaveLength(0);
      expect((await post(r.url, '{"event_type":"still.up"}')).status).toBe(200);
    });

    it('survives a client that disconnects in the middle of a body', async () => {
      const head = requestHead('POST', `/webhooks/${r.token}`, {
        'Content-Type': 'application/json',
        'Content-Length': '1000',
      });
      await rawRequest(r.port, [head, '{"event_type":"x",'], { halfClose: false, timeoutMs: 200 });
      expect((await post(r.url, '{"event_type":"still.up"}')).status).toBe(200);
      expect(fake.calls.map((call) => call.event.event_type)).toEqual(['still.up']);
    });

    it('survives a client that disconnects while its event is being stored', async () => {
      let release = () => {};
      fake.holdUntil(new Promise<void>((resolve) => (release = resolve)));
      const body = '{"event_type":"x"}';
      const head = requestHead('POST', `/webhooks/${r.token}`, {
        'Content-Type': 'application/json',
        'Content-Length': String(body.length),
      });
      const gone = await rawRequest(r.port, head + body, { timeoutMs: 300 });
      expect(gone.timedOut).toBe(true); // we hung up before the answer
      expect(fake.calls).toHaveLength(1);
      release();
      fake.holdUntil(null);
      expect((await post(r.url, '{"event_type":"still.up"}')).status).toBe(200);
      expect(fake.calls).toHaveLength(2);
    });
  });

  describe('load', () => {
    it('answers a burst of 200 concurrent POSTs with 200, and every one reaches ingest', async () => {
      const n = 200;
      const results = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          post(r.url, JSON.stringify({ event_type: 'order.completed', order_id: `ord_${i}` })),
        ),
      );
      expect(results.map((res) => res.status)).toEqual(Array(n).fill(200));
      const ids = fake.calls.map((call) => call.event.order_id as string).sort();
      expect(ids).toEqual(Array.from({ length: n }, (_, i) => `ord_${i}`).sort());
    });
  });
});

describe('receiver with a real store', () => {
  let dir: string;
  let store: Store;
  let r: Awaited<ReturnType<typeof startReceiver>>;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sfm-receiver-'));
    store = openStore(join(dir, 'history.sqlite'));
    r = await startReceiver({ ingest: async (input) => (await store.append(input)).status });
  });
  afterEach(async () => {
    await r.receiver.close();
    await store.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 200 ok only once the event is stored, and 200 duplicate to a retry', async () => {
    const body = fixture('order.completed.json');
    const first = await post(r.url, body);
    expect(first.status).toBe(200);
    expect(JSON.parse(first.body)).toEqual({ status: 'ok' });

    // Read back right after the 200: it is there.
    const page = store.search({ types: ['order.completed'] });
    expect(page.events).toHaveLength(1);
    expect(page.events[0]?.payload).toEqual(JSON.parse(body));
    expect(page.events[0]?.deliveries).toBe(1);

    const again = await post(r.url, body);
    expect(again.status).toBe(200);
    expect(JSON.parse(again.body)).toEqual({ status: 'duplicate' });
    const after = store.search({});
    expect(after.events).toHaveLength(1);
    expect(after.events[0]?.deliveries).toBe(2);
  });

  it('stores every fixture and an unknown type', async () => {
    for (const name of fixtureNames) expect((await post(r.url, fixture(name))).status, name).toBe(200);
    expect((await post(r.url, '{"event_type":"invoice.paid","invoice":"inv_1"}')).status).toBe(200);
    const { events } = store.search({ limit: 100 });
    expect(events).toHaveLength(fixtureNames.length + 1);
    const unknown = events.find((event) => event.event_type === 'invoice.paid');
    expect(unknown?.category).toBe('Other');
    for (const name of fixtureNames) {
      const sent = JSON.parse(fixture(name)) as { event_type: string };
      expect(
        events.some((event) => JSON.stringify(event.payload) === JSON.stringify(sent)),
        name,
      ).toBe(true);
    }
  });

  it('treats the same webhook-id as the same delivery', async () => {
    const headers = { 'webhook-id': 'msg_1' };
    expect(JSON.parse((await post(r.url, '{"event_type":"a","n":1}', headers)).body)).toEqual({ status: 'ok' });
    expect(JSON.parse((await post(r.url, '{"event_type":"a","n":2}', headers)).body)).toEqual({ status: 'duplicate' });
    expect(store.search({}).events).toHaveLength(1);
  });

  it('answers 503 with Retry-After once the store is closed, and stores nothing', async () => {
    await store.close();
    const res = await post(r.url, fixture('order.completed.json'));
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBeDefined();
  });

  it('logs a forged event type on the 503 path without letting it start a line or steer the terminal', async () => {
    // What a log file or terminal receives: each call of the logger is one line.
    const written: string[] = [];
    const logged = await startReceiver({
      ingest: async (input) => (await store.append(input)).status,
      log: createLogger((line) => written.push(line)),
    });
    try {
      await store.close();
      const forged =
        'order.completed\n2024-05-01T00:00:00.000Z error receiver: token leaked\r\u001b[2K\u001b]0;owned\u0007' +
        '\u009b31m\u2028\u202eevil';
      const res = await post(logged.url, JSON.stringify({ event_type: forged }));
      expect(res.status).toBe(503);
      const output = written.map((line) => `${line}\n`).join('');
      expect(output.split('\n').filter(Boolean)).toHaveLength(written.length);
      expect(written).toHaveLength(1);
      expect(written[0]).toMatch(/^\S+ warn receiver: could not store a "order\.completed\\n2024/);
      // Nothing that ends a line, starts an escape sequence or reorders text is left raw.
      const raw = [...output.slice(0, -1)].filter((c) => {
        const code = c.codePointAt(0) ?? 0;
        return code < 0x20 || (code >= 0x7f && code <= 0x9f) || (code >= 0x2028 && code <= 0x202e);
      });
      expect(raw).toEqual([]);
      // Nothing is dropped, only escaped: the type can still be read in the line.
      expect(written[0]).toContain('\\u001b]0;owned\\u0007\\u009b31m\\u2028\\u202eevil');
    } finally {
      await logged.receiver.close();
    }
  });

  it('answers a burst of 200 concurrent POSTs with 200 and stores every one', async () => {
    const n = 200;
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        post(r.url, JSON.stringify({ event_type: 'task.created', task_id: `tsk_${i}` })),
      ),
    );
    expect(results.map((res) => res.status)).toEqual(Array(n).fill(200));
    expect(store.counts().total).toBe(n);
  });
});

describe('receiver timeouts', () => {
  it('keeps serving others while a client dribbles its headers one byte a second, then cuts it off', async () => {
    const fake = fakeIngest();
    const r = await startReceiver({ ingest: fake.ingest, headersTimeoutMs: 1_000 });
    try {
      const head = requestHead('POST', `/webhooks/${r.token}`, {
        'Content-Type': 'application/json',
        'Content-Length': '2',
        'X-Padding': 'p'.repeat(100),
      });
      // Five clients dribble their headers, one connects and says nothing at all.
      const slow = [...Array(5).fill(head.split('')), []].map((pieces: string[]) => {
        let settled = false;
        const promise = rawRequest(r.port, pieces, { delayMs: 1_000, timeoutMs: 20_000 }).finally(() => {
          settled = true;
        });
        return { promise, isSettled: () => settled };
      });
      await sleep(50); // let the slow clients connect and send their first byte

      const res = await post(r.url, fixture('order.completed.json'));
      expect(res.status).toBe(200);
      // ...while the slow clients were still connected, dribbling.
      expect(slow.map((client) => client.isSettled())).toEqual(slow.map(() => false));

      for (const client of slow) {
        const cut = await client.promise;
        expect(cut.timedOut).toBe(false);
        expect(cut.closedByServer).toBe(true);
        expect(cut.piecesWritten).toBeLessThan(head.length);
        const status = rawStatus(cut.text);
        expect(status === null || status === 408).toBe(true);
      }
      expect(fake.calls).toHaveLength(1);
      expect((await send(`${r.base}/healthz`)).status).toBe(200);
      expect((await post(r.url, fixture('order.completed.json'))).status).toBe(200);
    } finally {
      await r.receiver.close();
    }
  });

  it('answers 408 (or closes) to a body that never finishes, and keeps serving others', async () => {
    const fake = fakeIngest();
    const r = await startReceiver({ ingest: fake.ingest, requestTimeoutMs: 1_000 });
    try {
      const withLength = requestHead('POST', `/webhooks/${r.token}`, {
        'Content-Type': 'application/json',
        'Content-Length': '100',
      });
      const chunked = requestHead('POST', `/webhooks/${r.token}`, {
        'Content-Type': 'application/json',
        'Transfer-Encoding': 'chunked',
      });
      const stuck = [
        rawRequest(r.port, [withLength, '{"event_type"'], { timeoutMs: 20_000 }),
        rawRequest(r.port, [chunked, chunk('{"event_type"')], { timeoutMs: 20_000 }),
      ];
      expect((await post(r.url, fixture('order.completed.json'))).status).toBe(200);
      for (const res of await Promise.all(stuck)) {
        expect(res.timedOut).toBe(false);
        expect(res.closedByServer).toBe(true);
        const status = rawStatus(res.text);
        expect(status === null || status === 408).toBe(true);
      }
      expect(fake.calls).toHaveLength(1);
      expect((await post(r.url, fixture('order.completed.json'))).status).toBe(200);
    } finally {
      await r.receiver.close();
    }
  });

  it('accepts both timeouts set small together', async () => {
    const fake = fakeIngest();
    const r = await startReceiver({ ingest: fake.ingest, headersTimeoutMs: 500, requestTimeoutMs: 1_000 });
    try {
      expect((await post(r.url, fixture('order.completed.json'))).status).toBe(200);
    } finally {
      await r.receiver.close();
    }
  });
});

describe('receiver close()', () => {
  it('resolves with idle keep-alive connections open, and stops accepting', async () => {
    const fake = fakeIngest();
    const r = await startReceiver({ ingest: fake.ingest });
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    try {
      const results = await Promise.all(
        Array.from({ length: 4 }, (_, i) => post(r.url, JSON.stringify({ event_type: 'x', i }), {}, agent)),
      );
      expect(results.map((res) => res.status)).toEqual([200, 200, 200, 200]);
      expect(results[0]?.headers.connection).toBe('keep-alive');
      // The connections stay open in the agent's pool, idle.
      expect(Object.values(agent.freeSockets).flat().length).toBeGreaterThan(0);

      await expect(r.receiver.close()).resolves.toBeUndefined();
      expect(await canConnect('127.0.0.1', r.port)).toBe(false);
      await r.receiver.close(); // twice is harmless
    } finally {
      agent.destroy();
    }
  });

  it('closes a connection that never sent a byte without writing anything into it', async () => {
    // A 408 written there would reach the tunnel and be read as the answer to the next webhook.
    const r = await startReceiver({ ingest: fakeIngest().ingest, headersTimeoutMs: 300, requestTimeoutMs: 600 });
    try {
      const silent = connect(r.port, '127.0.0.1');
      let received = '';
      silent.on('data', (chunk: Buffer) => {
        received += chunk.toString();
      });
      await new Promise((resolve) => silent.once('close', resolve));
      expect(received).toBe('');
      // A client that started a request and stalled still gets its 408.
      const stalled = await rawRequest(r.port, ['POST /webhooks/x HTTP/1.1\r\nHost: x'], { timeoutMs: 5_000 });
      expect(stalled.text).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      await r.receiver.close();
    }
  });

  it('resolves while a connection that never sent a byte is open, and closes that connection', async () => {
    const r = await startReceiver({ ingest: fakeIngest().ingest });
    const silent = connect(r.port, '127.0.0.1');
    await new Promise((resolve) => silent.once('connect', resolve));
    const closedByServer = new Promise((resolve) => silent.once('close', resolve));
    try {
      await r.receiver.close();
      await closedByServer;
      expect(silent.destroyed).toBe(true);
    } finally {
      silent.destroy();
    }
  });

  it('lets a request in flight finish before it resolves', async () => {
    const fake = fakeIngest();
    let release = () => {};
    fake.holdUntil(new Promise<void>((resolve) => (release = resolve)));
    const r = await startReceiver({ ingest: fake.ingest });
    const inFlight = post(r.url, fixture('order.completed.json'));
    while (fake.calls.length === 0) await sleep(5);
    let closed = false;
    const closing = r.receiver.close().then(() => {
      closed = true;
    });
    await sleep(50);
    expect(closed).toBe(false);
    release();
    expect((await inFlight).status).toBe(200);
    await closing;
    expect(closed).toBe(true);
  });

  it('resolves when it never listened', async () => {
    const receiver: Receiver = createReceiver({ token: newToken, ingest: fakeIngest().ingest, log: silentLogger });
    expect(receiver.port).toBeNull();
    await expect(receiver.close()).resolves.toBeUndefined();
  });
});
