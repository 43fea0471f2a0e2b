/**
 * Flood control: past the configured rate the receiver answers 429 with Retry-After before it reads
 * the body or touches the store, keeps answering everyone else, and the status says so.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../electron/core/log.ts';
import type { Monitor } from '../../electron/core/monitor.ts';
import { createRateLimiter } from '../../electron/core/rate-limit.ts';
import { createReceiver, type IngestInput, type Receiver } from '../../electron/core/receiver.ts';
import type { Notice, Status } from '../../shared/api.ts';
import { DEFAULT_SETTINGS, SettingsPatchSchema } from '../../shared/settings.ts';
import { tempDir } from '../helpers/fixtures.ts';
import { post, rawRequest, rawStatus, requestHead, send } from '../helpers/http.ts';
import { auditHistory, captureLogger, startMonitor } from './support.ts';

const event = (n: number) => JSON.stringify({ event_type: 'task.created', task_id: `tsk_${n}` });

describe('the rate limiter on its own (a fake clock)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('admits a whole minute of deliveries at once, then refuses with the wait until the next one', () => {
    let now = 0;
    const limiter = createRateLimiter({ perMinute: 6, now: () => now });
    for (let i = 0; i < 6; i++) expect(limiter.take()).toEqual({ ok: true });
    expect(limiter.take()).toEqual({ ok: false, retryAfterSeconds: 10 });
    now += 4_000;
    expect(limiter.take()).toEqual({ ok: false, retryAfterSeconds: 6 });
    now += 6_000;
    expect(limiter.take()).toEqual({ ok: true });
    expect(limiter.take().ok).toBe(false);
    expect(limiter.refused).toBe(3);
    limiter.stop();
  });

  it('never refuses without a limit, and a new limit applies at once', () => {
    let now = 0;
    const limiter = createRateLimiter({ perMinute: null, now: () => now });
    for (let i = 0; i < 10_000; i++) expect(limiter.take().ok).toBe(true);
    limiter.configure(2); // turned on: a full bucket
    expect([limiter.take().ok, limiter.take().ok, limiter.take().ok]).toEqual([true, true, false]);
    limiter.configure(1_000); // raised: refills at the new rate
    now += 60;
    expect(limiter.take().ok).toBe(true);
    limiter.configure(null);
    expect(limiter.take().ok).toBe(true);
    expect(limiter.refused).toBe(1);
    limiter.stop();
  });

  it('is throttled from the first refusal until it has been quiet for a while, and says so twice', () => {
    vi.useFakeTimers();
    const changes: boolean[] = [];
    const limiter = createRateLimiter({
      perMinute: 1,
      now: () => Date.now(),
      quietMs: 1_000,
      onThrottleChange: (on) => changes.push(on),
    });
    expect(limiter.take().ok).toBe(true);
    expect(limiter.throttled).toBe(false);
    expect(limiter.take().ok).toBe(false);
    expect(limiter.throttled).toBe(true);
    vi.advanceTimersByTime(800);
    expect(limiter.take().ok).toBe(false); // still flooding: the quiet period starts again
    vi.advanceTimersByTime(800);
    expect(limiter.throttled).toBe(true);
    vi.advanceTimersByTime(300);
    expect(limiter.throttled).toBe(false);
    expect(changes).toEqual([true, false]);
    limiter.stop();
  });
});

/** A receiver with a limiter and an ingest that counts: the count is "the store was touched". */
async function limitedReceiver(perMinute: number) {
  const ingested: IngestInput[] = [];
  // A clock that stands still: the bucket never refills during the test, whatever the machine's speed.
  const limiter = createRateLimiter({ perMinute, now: () => 0 });
  const token = randomBytes(16).toString('base64url');
  const receiver: Receiver = createReceiver({
    token: () => token,
    ingest: async (input) => {
      ingested.push(input);
      return 'ok';
    },
    admit: () => limiter.take(),
    log: silentLogger,
  });
  const port = await receiver.listen(0);
  const base = `http://127.0.0.1:${port}`;
  return { receiver, limiter, ingested, port, base, token, url: `${base}/webhooks/${token}` };
}

describe('flood control in the receiver', () => {
  const open: Receiver[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((r) => r.close()));
  });

  it('answers 429 with Retry-After past the rate, and the store never sees those deliveries', async () => {
    const r = await limitedReceiver(5);
    open.push(r.receiver);
    for (let i = 0; i < 5; i++) expect((await post(r.url, event(i))).status).toBe(200);
    const refused = await post(r.url, event(5));
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toMatch(/^[1-9]\d*$/);
    expect(JSON.parse(refused.body).error).toMatch(/too many/);
    expect(r.ingested).toHaveLength(5);
    expect(r.limiter.throttled).toBe(true);
  });

  it('refuses before reading the body: an endless upload gets its 429 at once', async () => {
    const r = await limitedReceiver(1);
    open.push(r.receiver);
    expect((await post(r.url, event(0))).status).toBe(200);
    const head = requestHead('POST', `/webhooks/${r.token}`, {
      'Content-Type': 'application/json',
      'Transfer-Encoding': 'chunked',
    });
    const piece = Buffer.from(`10000\r\n${'a'.repeat(0x10000)}\r\n`);
    const pieces = (function* () {
      yield head;
      for (let i = 0; i < 2_000; i++) yield piece; // at most 128 MiB, should the server read it all
    })();
    const res = await rawRequest(r.port, pieces, { stopWhenAnswered: true, timeoutMs: 10_000 });
    expect(rawStatus(res.text)).toBe(429);
    expect(res.bytesWritten).toBeLessThan(16 * 1024 * 1024);
    expect(r.ingested).toHaveLength(1);
  });

  it('keeps answering everyone during a flood of 400 concurrent deliveries, and health checks pass', async () => {
    const r = await limitedReceiver(20);
    open.push(r.receiver);
    const flood = Array.from({ length: 400 }, (_, i) => post(r.url, event(i)));
    const health = await Promise.all(Array.from({ length: 5 }, () => send(`${r.base}/healthz`)));
    const answers = await Promise.all(flood);
    expect(health.map((h) => h.status)).toEqual([200, 200, 200, 200, 200]);
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(20);
    expect(statuses.filter((s) => s === 429)).toHaveLength(380);
    expect(r.ingested).toHaveLength(20);
  });

  it('counts only deliveries with the right token: a flood of wrong URLs cannot throttle SingleFile', async () => {
    const r = await limitedReceiver(5);
    open.push(r.receiver);
    const wrong = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        post(`${r.base}/webhooks/${randomBytes(16).toString('base64url')}`, event(i)),
      ),
    );
    expect(new Set(wrong.map((w) => w.status))).toEqual(new Set([404]));
    for (let i = 0; i < 5; i++) expect((await post(r.url, event(i))).status).toBe(200);
    expect(r.limiter.refused).toBe(0);
  });
});

describe('flood control in the monitor', () => {
  const dirs: string[] = [];
  const running: Monitor[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((m) => m.stop()));
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('has a default far above real traffic, and refuses nonsense limits', () => {
    expect(DEFAULT_SETTINGS.security.rateLimit.perMinute).toBeGreaterThanOrEqual(3 * 2_000);
    for (const perMinute of [0, -1, 2.5, '10']) {
      expect(SettingsPatchSchema.safeParse({ security: { rateLimit: { perMinute } } }).success).toBe(false);
    }
    expect(SettingsPatchSchema.safeParse({ security: { rateLimit: { perMinute: null } } }).success).toBe(true);
  });

  it('applies a saved limit: 429 past it, nothing more stored, and the status, a notice and the log say so', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const log = captureLogger();
    const { monitor, localUrl } = await startMonitor(dataDir, { log });
    running.push(monitor);
    const statuses: Status[] = [];
    const notices: Notice[] = [];
    monitor.subscribe('status', (s) => statuses.push(s));
    monitor.subscribe('notice', (n) => notices.push(n));
    expect((await monitor.getStatus({})).receiver).toMatchObject({ throttled: false, throttledDeliveries: 0 });

    await monitor.updateSettings({ security: { rateLimit: { perMinute: 3 } } });
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push((await post(localUrl, event(i))).status);
    expect(answers).toEqual([200, 200, 200, 429, 429]);

    expect(auditHistory(dataDir).rows).toHaveLength(3);
    expect((await monitor.getStatus({})).receiver).toMatchObject({ throttled: true, throttledDeliveries: 2 });
    expect(statuses.some((s) => s.receiver.throttled)).toBe(true);
    expect(notices.map((n) => n.kind)).toEqual(['receiver-throttled']);
    expect(log.text()).toMatch(/flood control/);
    // Health checks and the API keep working while deliveries are refused.
    expect((await send(`${new URL(localUrl).origin}/healthz`)).status).toBe(200);
    expect((await monitor.getStats({})).rejected).toBe(2);

    // Lifting the limit lets deliveries in again at once.
    await monitor.updateSettings({ security: { rateLimit: { perMinute: null } } });
    expect((await post(localUrl, event(9))).status).toBe(200);
  });
});
