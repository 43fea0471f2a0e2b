import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { type IncomingMessage, request } from 'node:http';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDashboard, type Dashboard } from '../electron/core/dashboard.ts';
import { createMonitor, type Monitor } from '../electron/core/monitor.ts';
import { EventPageSchema, type MonitorApi, StatusSchema } from '../shared/api.ts';
import { loadFixtures, tempDir } from './helpers/fixtures.ts';
import { canConnect, post, rawRequest, rawStatus, send } from './helpers/http.ts';

// The dashboard over a real socket, in front of a real Monitor on a temporary history.

const SECRET = 'the-secret-that-must-not-leak';

interface Stream {
  status: number;
  headers: IncomingMessage['headers'];
  /** Every frame so far: comments as `{ comment }`, messages as `{ event, data }`. */
  frames: Array<{ comment?: string; event?: string; data?: string }>;
  waitFor(predicate: (frame: Stream['frames'][number]) => boolean): Promise<Stream['frames'][number]>;
  ended: Promise<void>;
  close(): void;
}

/** Opens an event stream and parses it frame by frame as a browser would. */
function openStream(url: string, headers: Record<string, string> = {}): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false }, (res) => {
      const frames: Stream['frames'] = [];
      const waiters: Array<{ predicate: (f: Stream['frames'][number]) => boolean; done: (f: never) => void }> = [];
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        for (let at = buffer.indexOf('\n\n'); at !== -1; at = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, at);
          buffer = buffer.slice(at + 2);
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) frames.push({ comment: line.slice(1).trim() });
          }
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event !== undefined || data !== undefined) frames.push({ event, data });
          for (const waiter of [...waiters]) {
            const found = frames.find(waiter.predicate);
            if (found) {
              waiters.splice(waiters.indexOf(waiter), 1);
              waiter.done(found as never);
            }
          }
        }
      });
      const ended = new Promise<void>((done) => res.once('close', () => done()));
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        frames,
        ended,
        waitFor: (predicate) =>
          new Promise((done) => {
            const found = frames.find(predicate);
            if (found) done(found);
            else waiters.push({ predicate, done });
          }),
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
    req.end();
  });
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('dashboard transport', () => {
  let dataDir: string;
  let staticDir: string;
  let monitor: Monitor;
  let dashboard: Dashboard;
  let base: string;
  let port: number;
  let webhookUrl: string;
  let activeSubscriptions = 0;
  const auth = () => ({ Authorization: `Bearer ${dashboard.token}` });
  const call = (method: string, body: unknown = {}, headers: Record<string, string | undefined> = auth()) =>
    post(`${base}/api/${method}`, typeof body === 'string' ? body : JSON.stringify(body), headers);

  beforeAll(async () => {
    dataDir = tempDir();
    // The built renderer, and beside it a file that must never be served.
    staticDir = join(dataDir, 'www');
    mkdirSync(join(staticDir, 'assets'), { recursive: true });
    writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>window</title>');
    writeFileSync(join(staticDir, 'assets', 'app.js'), 'console.log(1)');
    writeFileSync(join(dataDir, 'secret.js'), SECRET);
    writeFileSync(join(staticDir, '.env.js'), SECRET);
    monitor = createMonitor({ dataDir, tunnel: { provider: 'none' } });
    webhookUrl = (await monitor.start()).localUrl;
    // The Monitor, counting live subscriptions, so that a leak after a disconnect shows.
    const api: MonitorApi = {
      ...monitor,
      subscribe(channel, listener) {
        activeSubscriptions++;
        const off = monitor.subscribe(channel, listener);
        return () => {
          activeSubscriptions--;
          off();
        };
      },
    };
    dashboard = createDashboard({ api, staticDir, log: silent, heartbeatMs: 50 });
    port = await dashboard.listen(0);
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await dashboard?.close();
    await monitor?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('gives a loopback URL with a long random token in the fragment, on a port of its own', () => {
    expect(dashboard.url).toBe(`http://127.0.0.1:${port}/#token=${dashboard.token}`);
    expect(dashboard.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(createDashboard({ api: monitor, staticDir, log: silent }).token).not.toBe(dashboard.token);
    expect(new URL(webhookUrl).port).not.toBe(String(port));
  });

  it('carries a Monitor API call and answers what the contract says', async () => {
    const answer = await call('getStatus');
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    expect(StatusSchema.parse(JSON.parse(answer.body)).receiver.listening).toBe(true);
  });

  it('lists events stored through the receiver, newest first, with the request validated and defaults filled', async () => {
    const [first, second] = loadFixtures();
    await post(webhookUrl, first?.raw ?? '');
    await post(webhookUrl, second?.raw ?? '');
    const answer = await call('listEvents', { limit: 2 });
    expect(answer.status).toBe(200);
    const page = EventPageSchema.parse(JSON.parse(answer.body));
    expect(page.events.map((e) => e.event_type)).toEqual([second?.event.event_type, first?.event.event_type]);
    // An empty body is an empty request.
    expect((await call('listEvents', '')).status).toBe(200);
  });

  it('answers 400 with a one-line reason for a request the contract refuses', async () => {
    for (const body of [{ limit: 0 }, { limit: 'ten' }, { unknownField: true }, { categories: ['Nope'] }]) {
      const answer = await call('listEvents', body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      const reason = JSON.parse(answer.body).error as string;
      expect(reason).toMatch(/\S/);
      expect(reason).not.toMatch(/\n/);
    }
    expect(JSON.parse((await call('listEvents', { limit: 0 })).body).error).toMatch(/^limit: /);
    expect((await call('getEvent', { id: -1 })).status).toBe(400);
    expect((await call('markRead', [1, 2])).status).toBe(400);
  });

  it('answers 400 for a body that is not JSON and for a cursor that is not ours', async () => {
    const notJson = await call('getStatus', '{nope');
    expect(notJson.status).toBe(400);
    expect(JSON.parse(notJson.body).error).toBe('body is not valid JSON');
    const cursor = await call('listEvents', { cursor: 'not-a-cursor' });
    expect(cursor.status).toBe(400);
  });

  it('answers 404 for a method the contract does not have, including inherited names', async () => {
    for (const name of ['nope', 'constructor', '__proto__', 'toString', 'hasOwnProperty', 'subscribe']) {
      expect((await call(name)).status, name).toBe(404);
    }
  });

  it('answers 405 for a GET on a method and 415 for a body that is not JSON typed', async () => {
    const get = await send(`${base}/api/getStatus`, { headers: auth() });
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('POST');
    expect((await call('getStatus', '{}', { ...auth(), 'Content-Type': 'text/plain' })).status).toBe(415);
    expect((await call('getStatus', '{}', { ...auth(), 'Content-Type': undefined })).status).toBe(415);
  });

  it('answers 413 for a body over the limit', async () => {
    const answer = await call('listEvents', JSON.stringify({ text: 'x'.repeat(1024 * 1024 + 10) }));
    expect(answer.status).toBe(413);
  });

  describe('refuses each attack', () => {
    it('a request without the token: 401', async () => {
      const answer = await call('getSettings', {}, {});
      expect(answer.status).toBe(401);
      expect(answer.body).not.toContain('notifications');
    });

    it('a request with a wrong token: 403', async () => {
      const answer = await call('getSettings', {}, { Authorization: `Bearer ${'x'.repeat(43)}` });
      expect(answer.status).toBe(403);
      expect(answer.body).not.toContain('notifications');
    });

    it('the token in the query string of an ordinary call (only the event stream takes it there): 401', async () => {
      const answer = await post(`${base}/api/getSettings?token=${dashboard.token}`, '{}');
      expect(answer.status).toBe(401);
    });

    it('a rebound Host (DNS rebinding), even with the right token: 403', async () => {
      for (const host of [`evil.example:${port}`, 'evil.example', `127.0.0.1:${port + 1}`]) {
        const answer = await call('getSettings', {}, { ...auth(), Host: host });
        expect(answer.status, host).toBe(403);
        expect(answer.body).not.toContain('notifications');
      }
      const page = await send(`${base}/`, { headers: { Host: `evil.example:${port}` } });
      expect(page.status).toBe(403);
    });

    it('a request from a foreign Origin (cross-site), even with the right token: 403', async () => {
      for (const origin of ['https://evil.example', 'null', `http://127.0.0.1:${port + 1}`]) {
        const answer = await call('updateSettings', { startAtLogin: true }, { ...auth(), Origin: origin });
        expect(answer.status, origin).toBe(403);
      }
      expect((await monitor.getSettings({})).startAtLogin).toBe(false);
    });

    it('a request the browser marks as cross-site without an Origin: 403', async () => {
      const answer = await call('getSettings', {}, { ...auth(), 'Sec-Fetch-Site': 'cross-site' });
      expect(answer.status).toBe(403);
    });

    it('our own page (Origin and Host our loopback name) is let through', async () => {
      const answer = await call('getSettings', {}, { ...auth(), Origin: base, 'Sec-Fetch-Site': 'same-origin' });
      expect(answer.status).toBe(200);
      const viaLocalhost = await call(
        'getSettings',
        {},
        {
          ...auth(),
          Host: `localhost:${port}`,
          Origin: `http://localhost:${port}`,
        },
      );
      expect(viaLocalhost.status).toBe(200);
    });

    it('an event stream without the token, or with a wrong one', async () => {
      const none = await send(`${base}/api/stream`);
      expect(none.status).toBe(401);
      const wrong = await send(`${base}/api/stream?token=${'x'.repeat(43)}`);
      expect(wrong.status).toBe(403);
      expect(activeSubscriptions).toBe(0);
    });
  });

  describe('event stream', () => {
    let stream: Stream | null = null;
    afterEach(() => stream?.close());

    it('pushes a new event as it is stored, and keeps the line alive with heartbeats', async () => {
      stream = await openStream(`${base}/api/stream?token=${dashboard.token}`);
      expect(stream.status).toBe(200);
      expect(stream.headers['content-type']).toMatch(/^text\/event-stream/);
      await stream.waitFor((f) => f.comment === 'connected');
      const sent = { event_type: 'document.created', document_name: 'Line\nbreak <b>report</b>.pdf' };
      expect((await post(webhookUrl, JSON.stringify(sent))).status).toBe(200);
      const frame = await stream.waitFor((f) => f.event === 'event');
      expect(JSON.parse(frame.data ?? '').payload).toEqual(sent);
      // Settings changes push the status (the window shows what changed).
      await monitor.updateSettings({ startAtLogin: false });
      await stream.waitFor((f) => f.event === 'status');
      await stream.waitFor((f) => f.comment === 'ping');
    });

    it('takes the token from the Authorization header too', async () => {
      stream = await openStream(`${base}/api/stream`, auth());
      expect(stream.status).toBe(200);
    });

    it('drops its subscriptions when the client goes away', async () => {
      // The streams of the tests before have gone (each closed by the afterEach).
      await until(() => activeSubscriptions === 0 && dashboard.streams === 0);
      stream = await openStream(`${base}/api/stream?token=${dashboard.token}`);
      await stream.waitFor((f) => f.comment === 'connected');
      expect(activeSubscriptions).toBe(3);
      expect(dashboard.streams).toBe(1);
      stream.close();
      await until(() => activeSubscriptions === 0 && dashboard.streams === 0);
    });
  });

  describe('static files', () => {
    it('serves the built renderer with a strict Content-Security-Policy', async () => {
      const page = await send(`${base}/`);
      expect(page.status).toBe(200);
      expect(page.body).toContain('<title>window</title>');
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/);
      expect(page.headers['content-security-policy']).not.toMatch(/unsafe/);
      expect(page.headers['x-frame-options']).toBe('DENY');
      const script = await send(`${base}/assets/app.js`);
      expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
      expect((await send(`${base}/missing.js`)).status).toBe(404);
      expect((await send(`${base}/`, { method: 'POST' })).status).toBe(405);
    });

    it('never serves a file outside the build, however the path is spelled', async () => {
      for (const target of [
        '/../secret.js',
        '/assets/../../secret.js',
        '/%2e%2e/secret.js',
        '/assets%2f..%2f..%2fsecret.js',
        '/..%5csecret.js',
        '/.env.js',
      ]) {
        const answer = await rawRequest(
          port,
          `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`,
        );
        expect(rawStatus(answer.text), target).toBe(404);
        expect(answer.text).not.toContain(SECRET);
      }
    });

    it('says how to build the window when it has not been built', async () => {
      const bare = createDashboard({ api: monitor, staticDir: join(dataDir, 'not-built'), log: silent });
      const barePort = await bare.listen(0);
      try {
        const page = await send(`http://127.0.0.1:${barePort}/`);
        expect(page.status).toBe(200);
        expect(page.body).toContain('npm run build:renderer');
      } finally {
        await bare.close();
      }
    });
  });

  it('close() ends open event streams and stops listening', async () => {
    const own = createDashboard({ api: monitor, staticDir, log: silent });
    const ownPort = await own.listen(0);
    const stream = await openStream(`http://127.0.0.1:${ownPort}/api/stream?token=${own.token}`);
    await stream.waitFor((f) => f.comment === 'connected');
    await own.close();
    await stream.ended;
    expect(own.streams).toBe(0);
    expect(await canConnect('127.0.0.1', ownPort)).toBe(false);
  });
});

const silent = { info() {}, warn() {}, error() {} };
