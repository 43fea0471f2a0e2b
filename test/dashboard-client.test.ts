import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboard, type Dashboard } from '../electron/core/dashboard.ts';
import { createMonitor, type Monitor } from '../electron/core/monitor.ts';
import {
  ApiError,
  type ConnectionState,
  createDashboardClient,
  type DownloadFile,
  type EventSourceLike,
} from '../renderer/dashboard-client.ts';
import { tempDir } from './helpers/fixtures.ts';
import { post } from './helpers/http.ts';

// The window's HTTP client against the real dashboard and a real Monitor. The event stream's
// browser side (EventSource) is stood in for by a recording fake here; the real one is driven in
// Chromium by the end-to-end test.

const silent = { info() {}, warn() {}, error() {} };

class FakeEventSource implements EventSourceLike {
  static opened: FakeEventSource[] = [];
  readyState = 0;
  closed = false;
  onopen: ((event: unknown) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  readonly handlers = new Map<string, (message: { data: string }) => void>();
  readonly url: string;
  constructor(url: string) {
    this.url = url;
    FakeEventSource.opened.push(this);
  }
  addEventListener(type: string, handler: (message: { data: string }) => void) {
    this.handlers.set(type, handler);
  }
  close() {
    this.closed = true;
    this.readyState = 2;
  }
  deliver(type: string, data: unknown) {
    this.handlers.get(type)?.({ data: JSON.stringify(data) });
  }
}

describe('dashboard client', () => {
  let dataDir: string;
  let monitor: Monitor;
  let dashboard: Dashboard;
  let baseUrl: string;
  let webhookUrl: string;

  beforeAll(async () => {
    dataDir = tempDir();
    monitor = createMonitor({ dataDir, tunnel: { provider: 'none' } });
    webhookUrl = (await monitor.start()).localUrl;
    dashboard = createDashboard({ api: monitor, staticDir: join(dataDir, 'www'), log: silent });
    baseUrl = `http://127.0.0.1:${await dashboard.listen(0)}`;
  });
  afterAll(async () => {
    await dashboard?.close();
    await monitor?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const client = (token = dashboard.token) =>
    createDashboardClient({
      baseUrl,
      token,
      createEventSource: (url) => new FakeEventSource(url),
      retryMs: 10,
    });

  it("calls every Monitor API method with the token and gets the contract's answers", async () => {
    const { api } = client();
    await post(webhookUrl, JSON.stringify({ event_type: 'order.completed', order_id: 'ord_7' }));
    const status = await api.getStatus({});
    expect(status.events.total).toBe(1);
    const page = await api.listEvents({ text: 'ord_7' });
    expect(page.events.map((e) => e.payload.order_id)).toEqual(['ord_7']);
    expect(await api.getEvent({ id: page.events[0]?.id ?? 0 })).toMatchObject({ event_type: 'order.completed' });
    expect(await api.getEvent({ id: 999 })).toBeNull();
    expect(await api.markRead({ ids: [page.events[0]?.id ?? 0] })).toEqual({ updated: 1 });
    const settings = await api.updateSettings({ notifications: { digest: false } });
    expect(settings.notifications.digest).toBe(false);
    expect((await api.getSettings({})).notifications.digest).toBe(false);
    const exported = await api.exportEvents({ format: 'json', query: { types: ['order.completed'] } });
    expect(exported.count).toBe(1);
    expect((await api.getStats({})).total).toBe(1);
    expect((await api.sendTestEvent({})).ok).toBe(true);
  });

  it("turns a refusal into an ApiError with the server's reason", async () => {
    const { api } = client();
    const failure = await api.listEvents({ limit: 0 }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApiError);
    expect((failure as ApiError).status).toBe(400);
    expect((failure as ApiError).message).toMatch(/^limit: /);
  });

  it('with a token that is not (or no longer) valid: fails and says the link expired', async () => {
    const { api, connection } = client('x'.repeat(43));
    const states: ConnectionState[] = [];
    connection.subscribe((state) => states.push(state));
    const failure = await api.getStatus({}).catch((error: unknown) => error);
    expect((failure as ApiError).status).toBe(403);
    expect(connection.get()).toBe('unauthorized');
    expect(states).toEqual(['unauthorized']);
  });

  it('opens one event stream for all subscriptions, with the token, and closes it with the last', () => {
    FakeEventSource.opened = [];
    const { api } = client();
    const events: unknown[] = [];
    const offEvent = api.subscribe('event', (e) => events.push(e));
    const offStatus = api.subscribe('status', () => {});
    expect(FakeEventSource.opened).toHaveLength(1);
    const source = FakeEventSource.opened[0] as FakeEventSource;
    expect(source.url).toBe(`${baseUrl}/api/stream?token=${dashboard.token}`);
    offEvent();
    expect(source.closed).toBe(false);
    offStatus();
    expect(source.closed).toBe(true);
  });

  it('passes on pushes that match the contract and drops those that do not', () => {
    FakeEventSource.opened = [];
    const { api } = client();
    const notices: unknown[] = [];
    api.subscribe('notice', (n) => notices.push(n));
    const source = FakeEventSource.opened[0] as FakeEventSource;
    const notice = { kind: 'url-changed', title: 'URL changed', body: 'Update SingleFile', at: '2024-01-15T10:00:00Z' };
    source.deliver('notice', notice);
    source.deliver('notice', { title: 42 });
    expect(notices).toEqual([notice]);
  });

  it("follows the stream's state: live when open, reconnecting when it breaks", () => {
    FakeEventSource.opened = [];
    const { api, connection } = client();
    api.subscribe('event', () => {});
    const source = FakeEventSource.opened[0] as FakeEventSource;
    expect(connection.get()).toBe('connecting');
    source.readyState = 1;
    source.onopen?.({});
    expect(connection.get()).toBe('live');
    source.readyState = 0;
    source.onerror?.({});
    expect(connection.get()).toBe('reconnecting');
  });

  it('when the server refuses the stream, asks why: a dead token means the link expired', async () => {
    FakeEventSource.opened = [];
    const { api, connection } = client('y'.repeat(43));
    api.subscribe('event', () => {});
    const source = FakeEventSource.opened[0] as FakeEventSource;
    source.readyState = 2;
    source.onerror?.({});
    await expect.poll(() => connection.get()).toBe('unauthorized');
    expect(FakeEventSource.opened).toHaveLength(1);
  });

  it('when the server refuses the stream for another reason, opens a new one', async () => {
    FakeEventSource.opened = [];
    const { api } = client();
    api.subscribe('event', () => {});
    const first = FakeEventSource.opened[0] as FakeEventSource;
    first.readyState = 2;
    first.onerror?.({});
    await expect.poll(() => FakeEventSource.opened.length).toBe(2);
  });

  describe("the window's export", () => {
    const saving = (token = dashboard.token, fetcher?: typeof fetch) => {
      const files: DownloadFile[] = [];
      const transport = createDashboardClient({
        baseUrl,
        token,
        createEventSource: (url) => new FakeEventSource(url),
        saveFile: (file) => files.push(file),
        ...(fetcher ? { fetch: fetcher } : {}),
      });
      return { transport, files };
    };

    it('reads the streamed file, counts its events as they come and hands it over as a download', async () => {
      for (let i = 0; i < 3; i++) {
        const body = { event_type: 'entity.created', entity_name: `Acme "${i}", Inc.\nBranch`, entity_id: `ent_x${i}` };
        await post(webhookUrl, JSON.stringify(body));
      }
      for (const format of ['csv', 'json'] as const) {
        const { transport, files } = saving();
        const progress: number[] = [];
        const saved = await transport.saveExport({ format, query: { types: ['entity.created'] } }, (count) =>
          progress.push(count),
        );
        expect(saved).toEqual({
          filename: expect.stringMatching(new RegExp(`^singlefile-events-.*\\.${format}$`)),
          count: 3,
        });
        expect(progress.at(-1)).toBe(3);
        expect(files).toHaveLength(1);
        const text = Buffer.concat(files[0]?.parts ?? []).toString('utf8');
        expect(text).toBe((await monitor.exportEvents({ format, query: { types: ['entity.created'] } })).content);
        expect(files[0]?.contentType).toBe(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json');
      }
    });

    it('with a token that is no longer valid: fails, saves nothing, and says the link expired', async () => {
      const { transport, files } = saving('x'.repeat(43));
      await expect(transport.saveExport({ format: 'csv' })).rejects.toThrow(ApiError);
      expect(files).toEqual([]);
      expect(transport.connection.get()).toBe('unauthorized');
    });

    it('an answer cut off half way is an error, not a smaller file', async () => {
      const cut: typeof fetch = async () =>
        new Response(
          new ReadableStream({
            start(controller) {
              controller.enqueue(new TextEncoder().encode('[\n{"id":1}'));
              controller.error(new TypeError('terminated'));
            },
          }),
          { status: 200, headers: { 'Content-Type': 'application/json' } },
        );
      const { transport, files } = saving(dashboard.token, cut);
      await expect(transport.saveExport({ format: 'json' })).rejects.toThrow('broke off');
      expect(files).toEqual([]);
    });
  });
});
