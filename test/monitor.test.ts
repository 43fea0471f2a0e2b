import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { createMonitor, type Monitor } from '../electron/core/monitor.ts';
import type { StoredEvent } from '../shared/events.ts';
import { loadFixtures, tempDir } from './helpers/fixtures.ts';

const fixtures = loadFixtures();
const dirs: string[] = [];
const running: Monitor[] = [];

function newDataDir(): string {
  const dir = tempDir();
  dirs.push(dir);
  return dir;
}

async function startMonitor(dataDir: string): Promise<{ monitor: Monitor; localUrl: string }> {
  const monitor = createMonitor({ dataDir, tunnel: { provider: 'none' } });
  running.push(monitor);
  const { localUrl } = await monitor.start();
  return { monitor, localUrl };
}

async function stopMonitor(monitor: Monitor): Promise<void> {
  running.splice(running.indexOf(monitor), 1);
  await monitor.stop();
}

function post(url: string, body: string): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((m) => m.stop()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('monitor: receiver → store → 200 → event', () => {
  it('acknowledges each fixture after storing it and pushes one event per new delivery', async () => {
    const { monitor, localUrl } = await startMonitor(newDataDir());
    const pushed: StoredEvent[] = [];
    monitor.subscribe('event', (event) => pushed.push(event));

    for (const fixture of fixtures) {
      const res = await post(localUrl, fixture.raw);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ok' });
      // Acknowledged means stored: the event is in the history by the time the 200 arrives.
      const page = await monitor.listEvents({ types: [fixture.event.event_type] });
      expect(page.events.map((e) => e.payload)).toEqual([fixture.event]);
    }
    const again = await post(localUrl, fixtures[0]?.raw ?? '');
    expect(await again.json()).toEqual({ status: 'duplicate' });

    expect(pushed.map((e) => e.event_type).sort()).toEqual(fixtures.map((f) => f.event.event_type).sort());
    const status = await monitor.getStatus({});
    expect(status.events.total).toBe(fixtures.length);
    expect(status.events.unread).toBe(fixtures.length);
    expect(status.receiver).toEqual({ listening: true, localUrl, throttled: false, throttledDeliveries: 0 });
  });

  it('stops pushing to a listener once it unsubscribes', async () => {
    const { monitor, localUrl } = await startMonitor(newDataDir());
    const seen: number[] = [];
    const unsubscribe = monitor.subscribe('event', (event) => seen.push(event.id));
    await post(localUrl, JSON.stringify({ event_type: 'order.completed', order_id: 'ord_1' }));
    unsubscribe();
    await post(localUrl, JSON.stringify({ event_type: 'order.completed', order_id: 'ord_2' }));
    expect(seen).toHaveLength(1);
  });

  it('keeps acknowledging when a listener throws', async () => {
    const { monitor, localUrl } = await startMonitor(newDataDir());
    monitor.subscribe('event', () => {
      throw new Error('listener bug');
    });
    const res = await post(localUrl, JSON.stringify({ event_type: 'task.created', task_id: 'tsk_1' }));
    expect(res.status).toBe(200);
  });
});

describe('monitor: Monitor API', () => {
  it('gets one event and marks it read', async () => {
    const { monitor, localUrl } = await startMonitor(newDataDir());
    await post(localUrl, JSON.stringify({ event_type: 'document.created', document_name: 'Bylaws.pdf' }));
    const [listed] = (await monitor.listEvents({ text: 'bylaws' })).events;
    expect(listed?.read).toBe(false);
    const id = listed?.id ?? 0;
    expect(await monitor.markRead({ ids: [id] })).toEqual({ updated: 1 });
    expect((await monitor.getEvent({ id }))?.read).toBe(true);
    expect((await monitor.getStatus({})).events.unread).toBe(0);
    expect(await monitor.getEvent({ id: id + 1000 })).toBeNull();
  });

  it('refuses requests that break the contract', async () => {
    const { monitor } = await startMonitor(newDataDir());
    await expect(monitor.listEvents({ limit: 0 })).rejects.toThrow();
    await expect(monitor.getEvent({ id: -1 })).rejects.toThrow();
    await expect(monitor.updateSettings({ bogus: true } as never)).rejects.toThrow();
    await expect(monitor.updateSettings({ tunnel: { customUrl: 'http://plain.example' } })).rejects.toThrow();
  });

  it('applies a lower retention limit as soon as it is saved', async () => {
    const { monitor, localUrl } = await startMonitor(newDataDir());
    for (const fixture of fixtures.slice(0, 5)) await post(localUrl, fixture.raw);
    await monitor.updateSettings({ retention: { maxEvents: 2 } });
    const { events } = await monitor.listEvents({});
    expect(events.map((e) => e.event_type)).toEqual(
      fixtures
        .slice(3, 5)
        .map((f) => f.event.event_type)
        .reverse(),
    );
  });
});

describe('monitor: restart', () => {
  it('keeps the history, the settings and the webhook URL', async () => {
    const dataDir = newDataDir();
    const first = await startMonitor(dataDir);
    for (const fixture of fixtures) await post(first.localUrl, fixture.raw);
    const saved = await first.monitor.updateSettings({
      notifications: { types: { 'task.created': true } },
      retention: { maxAgeDays: 30 },
    });
    await stopMonitor(first.monitor);

    const second = await startMonitor(dataDir);
    expect(new URL(second.localUrl).pathname).toBe(new URL(first.localUrl).pathname);
    expect(await second.monitor.getSettings({})).toEqual(saved);
    const { events } = await second.monitor.listEvents({ limit: 100 });
    expect(events).toHaveLength(fixtures.length);
    const res = await post(second.localUrl, fixtures[0]?.raw ?? '');
    expect(await res.json()).toEqual({ status: 'duplicate' });
  });

  it('has every acknowledged event stored when it stops in the middle of a burst', async () => {
    const dataDir = newDataDir();
    const { monitor, localUrl } = await startMonitor(dataDir);
    let firstAcknowledged!: () => void;
    const someAcknowledged = new Promise<void>((resolve) => {
      firstAcknowledged = resolve;
    });
    const sends = Array.from({ length: 100 }, (_, i) =>
      post(localUrl, JSON.stringify({ event_type: 'order.submitted', order_id: `ord_burst_${i}` }))
        .then((res) => {
          if (res.status !== 200) return null;
          firstAcknowledged();
          return i;
        })
        .catch(() => null),
    );
    // Stopped once the burst is under way (something acknowledged), with the rest still in flight.
    await someAcknowledged;
    await stopMonitor(monitor);
    const acknowledged = (await Promise.all(sends)).filter((i): i is number => i !== null);
    expect(acknowledged.length).toBeGreaterThan(0);

    const reopened = await startMonitor(dataDir);
    const { events } = await reopened.monitor.listEvents({ text: 'ord_burst', limit: 1000 });
    const stored = new Set(events.map((e) => e.payload.order_id));
    for (const i of acknowledged) expect(stored.has(`ord_burst_${i}`)).toBe(true);
  });
});

describe('monitor: stats, export, test event, new URL', () => {
  it('counts events per day and category, duplicates and rejected deliveries', async () => {
    const { monitor, localUrl } = await startMonitor(newDataDir());
    for (const fixture of fixtures) await post(localUrl, fixture.raw);
    await post(localUrl, fixtures[0]?.raw ?? '');
    await post(localUrl, '{"not an event": true}');
    await fetch(localUrl, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' });
    await post(`${new URL(localUrl).origin}/webhooks/wrong-token`, '{}'); // a 404 is not a delivery

    const stats = await monitor.getStats({ days: 7 });
    expect(stats.total).toBe(fixtures.length);
    expect(stats.duplicates).toBe(1);
    expect(stats.rejected).toBe(2);
    expect(stats.failed).toBe(0);
    expect(stats.byCategory).toEqual({ Documents: 3, Entities: 2, Jurisdictions: 2, Orders: 3, Tasks: 1 });
    const today = new Date().toISOString().slice(0, 10);
    expect(stats.days).toEqual([{ day: today, byCategory: stats.byCategory }]);
    expect(stats.lastEventAt).not.toBeNull();
    expect(stats.tunnel.onlineMs).toBe(0);
  });

  it('exports the current search as CSV or JSON', async () => {
    const { monitor, localUrl } = await startMonitor(newDataDir());
    for (const fixture of fixtures) await post(localUrl, fixture.raw);
    const json = await monitor.exportEvents({ format: 'json', query: { categories: ['Orders'] } });
    expect(json.count).toBe(3);
    expect(json.filename).toMatch(/^singlefile-events-\d{4}-\d{2}-\d{2}\.json$/);
    expect((JSON.parse(json.content) as Array<{ category: string }>).map((e) => e.category)).toEqual([
      'Orders',
      'Orders',
      'Orders',
    ]);
    const csv = await monitor.exportEvents({ format: 'csv', query: { text: 'Acme' } });
    expect(csv.count).toBe(1);
    expect(csv.contentType).toBe('text/csv; charset=utf-8');
    expect(csv.content.split('\r\n')[1]).toContain('entity.created');
  });

  it('sends a test event to itself and finds it stored (no tunnel: through the local URL)', async () => {
    const { monitor } = await startMonitor(newDataDir());
    const result = await monitor.sendTestEvent({});
    expect(result).toMatchObject({ ok: true, via: 'local', failedAt: null, status: 200 });
    const stored = await monitor.getEvent({ id: result.eventId ?? 0 });
    expect(stored?.event_type).toBe('monitor.test');
    expect(stored?.category).toBe('Other');
  });

  it('a test event the receiver refuses (flood control) fails at the receiver, with its status and reason; no tunnel stage', async () => {
    const { monitor, localUrl } = await startMonitor(newDataDir());
    await monitor.updateSettings({ security: { rateLimit: { perMinute: 1 } } });
    expect((await post(localUrl, JSON.stringify({ event_type: 'order.completed', order_id: 'ord_1' }))).status).toBe(
      200,
    );
    expect(await monitor.sendTestEvent({})).toEqual({
      ok: false,
      via: 'local',
      failedAt: 'receiver',
      status: 429,
      message: 'The receiver refused it (429: too many deliveries, retry later).',
      eventId: null,
    });
  });

  it('a test event the history cannot store (another writer holds the lock) fails at the history', async () => {
    const dataDir = newDataDir();
    const { monitor } = await startMonitor(dataDir);
    const other = new DatabaseSync(join(dataDir, 'history.sqlite'));
    try {
      other.exec('BEGIN IMMEDIATE');
      const result = await monitor.sendTestEvent({});
      other.exec('COMMIT');
      expect(result).toEqual({
        ok: false,
        via: 'local',
        failedAt: 'history',
        status: 503,
        message: 'The receiver got it but could not store it (503: could not store the event, retry later).',
        eventId: null,
      });
    } finally {
      other.close();
    }
  });

  it('checking the tunnel without one says so', async () => {
    const { monitor } = await startMonitor(newDataDir());
    expect(await monitor.checkTunnel({})).toMatchObject({ ok: false, rttMs: null, error: 'no tunnel is in use' });
  });

  it('regenerates the webhook URL: the old one stops working at once', async () => {
    const dataDir = newDataDir();
    const { monitor, localUrl } = await startMonitor(dataDir);
    const status = await monitor.regenerateWebhookUrl({});
    const newUrl = status.receiver.localUrl ?? '';
    expect(newUrl).not.toBe(localUrl);
    expect(new URL(newUrl).origin).toBe(new URL(localUrl).origin);
    expect((await post(localUrl, fixtures[0]?.raw ?? '')).status).toBe(404);
    expect((await post(newUrl, fixtures[0]?.raw ?? '')).status).toBe(200);
    await stopMonitor(monitor);
    const again = await startMonitor(dataDir);
    expect(new URL(again.localUrl).pathname).toBe(new URL(newUrl).pathname);
  });
});
