import { rmSync } from 'node:fs';
import { type IncomingMessage, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboard, type Dashboard } from '../electron/core/dashboard.ts';
import { createMonitor, type Monitor } from '../electron/core/monitor.ts';
import { EXPORT_PATH, type MonitorApi } from '../shared/api.ts';
import { parseCsvObjects } from './helpers/cli.ts';
import { tempDir } from './helpers/fixtures.ts';
import { post, send } from './helpers/http.ts';

// The window's export over the real dashboard, in front of a real Monitor whose receiver shares
// the event loop with it: the export is streamed a page at a time, and the receiver keeps
// answering while it runs.

const EVENTS = 6_000;
// 4 KB each, 24 MB in all: far more than the sockets between the two ends can hold while the
// reader waits, so the export cannot be over before the reader takes the rest.
const PADDING = 'x'.repeat(4_096);
const PAGES = EVENTS / 500;

const silent = { info() {}, warn() {}, error() {} };

describe("the window's export over the dashboard", () => {
  let dataDir: string;
  let monitor: Monitor;
  let dashboard: Dashboard;
  let base: string;
  let webhookUrl: string;
  let pagesRead = 0;
  const errors: string[] = [];
  const auth = () => ({ Authorization: `Bearer ${dashboard.token}` });

  beforeAll(async () => {
    dataDir = tempDir();
    monitor = createMonitor({ dataDir, tunnel: { provider: 'none' } });
    webhookUrl = (await monitor.start()).localUrl;
    await monitor.updateSettings({ security: { rateLimit: { perMinute: null } } });
    let next = 0;
    const sender = async () => {
      while (next < EVENTS) {
        const n = next++;
        const body = JSON.stringify({ event_type: 'order.completed', order_id: `ord_${n}`, note: PADDING });
        expect((await post(webhookUrl, body)).status).toBe(200);
      }
    };
    await Promise.all(Array.from({ length: 16 }, sender));
    // The Monitor, counting the pages the export reads.
    const api: MonitorApi = {
      ...monitor,
      listEvents: (query) => {
        pagesRead++;
        return monitor.listEvents(query);
      },
    };
    dashboard = createDashboard({ api, staticDir: dataDir, log: { ...silent, error: (_s, m) => errors.push(m) } });
    base = `http://127.0.0.1:${await dashboard.listen(0)}`;
  }, 120_000);
  afterAll(async () => {
    await dashboard?.close();
    await monitor?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Starts an export; after its first piece, the rest is read only once `whole` is called. */
  function startExport(body: unknown) {
    let reading = false;
    let firstChunk!: () => void;
    const started = new Promise<void>((resolve) => {
      firstChunk = resolve;
    });
    const chunks: Buffer[] = [];
    let ended = false;
    let done!: Promise<void>;
    const answer = new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(
        `${base}${EXPORT_PATH}`,
        { method: 'POST', headers: { ...auth(), 'Content-Type': 'application/json' }, agent: false },
        (res) => {
          res.once('data', () => {
            if (!reading) res.pause();
            firstChunk();
          });
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          done = new Promise<void>((end, fail) => {
            res.once('end', () => {
              ended = true;
              end();
            });
            res.once('error', fail);
          });
          resolve(res);
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
    return {
      answer,
      started,
      ended: () => ended,
      async whole(): Promise<string> {
        reading = true;
        (await answer).resume();
        await done;
        return Buffer.concat(chunks).toString('utf8');
      },
    };
  }

  it('arrives whole, and the receiver answers /healthz while the reader holds it up', async () => {
    pagesRead = 0;
    const exported = startExport({ format: 'csv' });
    const res = await exported.answer;
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toMatch(
      /^attachment; filename="singlefile-events-\d{4}-\d{2}-\d{2}\.csv"$/,
    );
    await exported.started;
    // The export has begun and its reader takes nothing more for now: the receiver still answers,
    // before the export has read all its pages.
    const health = await send(`${new URL(webhookUrl).origin}/healthz`);
    expect(health.status).toBe(200);
    expect(pagesRead).toBeLessThan(PAGES);
    expect(exported.ended()).toBe(false);
    // Deliveries are stored and acknowledged meanwhile too.
    expect((await post(webhookUrl, JSON.stringify({ event_type: 'task.created', task_id: 'during' }))).status).toBe(
      200,
    );
    const csv = parseCsvObjects(await exported.whole());
    expect(pagesRead).toBe(PAGES);
    expect(csv.rows).toHaveLength(EVENTS);
    const orders = new Set(csv.rows.map((row) => JSON.parse(row.payload ?? '{}').order_id));
    expect(orders.size).toBe(EVENTS);
    expect(orders.has('ord_0') && orders.has(`ord_${EVENTS - 1}`)).toBe(true);
    // The event that arrived during the export is newer than its first page: not in it.
    expect(csv.rows.some((row) => row.event_type === 'task.created')).toBe(false);
    expect(errors).toEqual([]);
  });

  it('writes the same file as the one-answer export, for JSON and for CSV, with the filters applied', async () => {
    for (const format of ['json', 'csv'] as const) {
      const query = { types: ['task.created'] };
      const streamed = await startExport({ format, query }).whole();
      expect(streamed).toBe((await monitor.exportEvents({ format, query })).content);
    }
    // (Words match as prefixes: the last order's id is a prefix of no other.)
    const last = `ord_${EVENTS - 1}`;
    const json = JSON.parse(await startExport({ format: 'json', query: { text: last } }).whole());
    expect(json.map((event: { payload: { order_id: string } }) => event.payload.order_id)).toEqual([last]);
  });

  it('keeps every guard of the API: token, Host, Origin, Sec-Fetch-Site, method, request', async () => {
    const body = JSON.stringify({ format: 'csv' });
    const url = `${base}${EXPORT_PATH}`;
    const port = new URL(base).port;
    const refused = [
      [{}, 401],
      [{ Authorization: `Bearer ${'x'.repeat(43)}` }, 403],
      [{ ...auth(), Host: `evil.example:${port}` }, 403],
      [{ ...auth(), Origin: 'https://evil.example' }, 403],
      [{ ...auth(), 'Sec-Fetch-Site': 'cross-site' }, 403],
    ] as const;
    for (const [headers, status] of refused) {
      const answer = await post(url, body, headers);
      expect(answer.status, JSON.stringify(headers)).toBe(status);
      expect(answer.body).not.toContain('order.completed');
    }
    expect((await send(`${url}?token=${dashboard.token}`)).status).toBe(401);
    expect((await send(url, { headers: auth() })).status).toBe(405);
    expect((await post(url, JSON.stringify({ format: 'xml' }), auth())).status).toBe(400);
    expect((await post(url, body, { ...auth(), 'Content-Type': 'text/plain' })).status).toBe(415);
  });

  it('cuts the connection when it cannot finish, so that the reader never takes half a file for the whole', async () => {
    let pages = 0;
    const failing: MonitorApi = {
      ...monitor,
      listEvents: async (query) => {
        if (++pages === 3) throw new Error('the history is closed');
        return monitor.listEvents(query);
      },
    };
    const logged: string[] = [];
    const broken = createDashboard({
      api: failing,
      staticDir: dataDir,
      log: { ...silent, error: (_s, m) => logged.push(m) },
    });
    const port = await broken.listen(0);
    try {
      const outcome = await new Promise<string>((resolve) => {
        const req = request(
          `http://127.0.0.1:${port}${EXPORT_PATH}`,
          { method: 'POST', headers: { Authorization: `Bearer ${broken.token}`, 'Content-Type': 'application/json' } },
          (res) => {
            res.resume();
            res.once('end', () => resolve('ended'));
            res.once('aborted', () => resolve('aborted'));
            res.once('error', () => resolve('aborted'));
          },
        );
        req.on('error', () => resolve('aborted'));
        req.end(JSON.stringify({ format: 'csv' }));
      });
      expect(outcome).toBe('aborted');
      expect(logged).toEqual(['export failed: Error: the history is closed']);
    } finally {
      await broken.close();
    }
  });
});
