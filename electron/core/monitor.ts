import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  type ApiParsedRequest,
  type ApiRequest,
  type ApiResponse,
  type MonitorApi,
  type MonitorMethod,
  monitorApiContract,
  type PushChannel,
  type PushPayload,
  type Stats,
  type Status,
  type TestEventResult,
} from '../../shared/api.ts';
import {
  applySettingsPatch,
  InvalidSettingsError,
  loadSettings,
  type Settings,
  withSigningSecretFlag,
} from '../../shared/settings.ts';
import { exportContentType, exportFilename, exportText } from './export-format.ts';
import { type ProbeRequest, probeRequest, sendRequest } from './http-probe.ts';
import { type Logger, silentLogger } from './log.ts';
import { createRateLimiter } from './rate-limit.ts';
import { createReceiver, type IngestInput } from './receiver.ts';
import { createSignatureVerifier, signatureProblem, signDelivery } from './signature.ts';
import { openStore, type Store } from './store.ts';
import {
  createTunnelSupervisor,
  customUrlProvider,
  type TunnelMemory,
  type TunnelProvider,
  type TunnelSupervisor,
  type TunnelTiming,
} from './tunnel.ts';
import { localtunnelProvider } from './tunnel-localtunnel.ts';

export const HISTORY_FILE = 'history.sqlite';
/** The type of the events "Send a test event" sends; stored like any other, under "Other". */
export const TEST_EVENT_TYPE = 'monitor.test';
/**
 * Carries a test event's id, so that the monitor knows whether the receiver itself answered it:
 * a refusal before anything is read (429, 401) must not be taken for the tunnel's.
 */
const TEST_EVENT_HEADER = 'x-singlefile-monitor-test';
const RETENTION_INTERVAL_MS = 60 * 60 * 1000;

const SETTING = {
  settings: 'settings',
  token: 'receiver.token',
  /** Kept apart from the settings, which the UI reads: the secret is write-only. */
  signingSecret: 'receiver.signingSecret',
  /** The webhook URLs of the latest run, which `url` prints: what that run's provider gave. */
  lastLocalUrl: 'runtime.localUrl',
  lastPublicUrl: 'runtime.publicUrl',
  /**
   * The last public URL a tunnel gave, kept across runs without one: the URL the person pasted
   * into SingleFile, which the next tunnel compares its URL with (urlChanged).
   */
  tunnelPublicUrl: 'tunnel.publicUrl',
} as const;

export interface MonitorOptions {
  dataDir: string;
  /** The receiver's port on 127.0.0.1; 0 picks a free one. */
  port?: number;
  log?: Logger;
  now?: () => number;
  /** Overrides for the receiver's timeouts (tests use short ones). */
  receiver?: { headersTimeoutMs?: number; requestTimeoutMs?: number };
  /** The tunnel for this run (the CLI's flags); by default the saved settings decide. */
  tunnel?: TunnelChoice;
  tunnelTiming?: Partial<TunnelTiming>;
  /** How the self-test reaches the public URL; replaced only in tests. */
  probe?: ProbeRequest;
}

export interface TunnelChoice {
  provider: 'localtunnel' | 'none' | 'custom';
  host?: string;
  subdomain?: string;
  customUrl?: string;
}

export interface Monitor extends MonitorApi {
  /**
   * Opens the receiver, then the tunnel; resolves once the receiver listens and the tunnel's
   * first attempt has an outcome (online or not), with the URLs known by then.
   */
  start(): Promise<{ localUrl: string; publicUrl: string | null }>;
  /**
   * Stops accepting, finishes the writes in flight, closes the history. Called during start(),
   * it ends that start at its next step (the wait for the tunnel included) and waits for it.
   */
  stop(): Promise<void>;
}

/** The webhook URL's secret: 128 random bits, base64url. */
export function newToken(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * The composition root of the core: the history, the receiver in front of it, and the Monitor
 * API over both. An event is acknowledged only after the store has committed it; the `event`
 * push follows, for notifications, the window and the NDJSON output.
 */
export function createMonitor(options: MonitorOptions): Monitor {
  const log = options.log ?? silentLogger;
  const store: Store = openStore(join(options.dataDir, HISTORY_FILE), options.now ? { now: options.now } : {});
  const savedSecret = store.getSetting(SETTING.signingSecret);
  let signingSecret = typeof savedSecret === 'string' && savedSecret !== '' ? savedSecret : null;
  let settings: Settings = withSigningSecretFlag(
    loadSettings(store.getSetting(SETTING.settings)),
    signingSecret !== null,
  );
  const savedToken = store.getSetting(SETTING.token);
  let webhookToken = typeof savedToken === 'string' && savedToken.length >= 22 ? savedToken : newToken();
  if (webhookToken !== savedToken) store.setSetting(SETTING.token, webhookToken);
  const now = options.now ?? Date.now;
  const startedMs = now();
  const startedAt = new Date(startedMs).toISOString();
  const counters = { rejected: 0, failed: 0 };
  // Tunnel uptime since start: time spent online, accumulated at every state change.
  const uptime = { onlineMs: 0, onlineSince: null as number | null };
  // Test events on their way, by id: what the receiver answered (null: it never saw the request)
  // and whether it got as far as the history, so that a failure names the stage it stopped at.
  const testEvents = new Map<string, { answered: number | null; storing: boolean }>();
  const listeners = new Map<PushChannel, Set<(payload: never) => void>>();
  let localUrl: string | null = null;
  let retentionTimer: NodeJS.Timeout | null = null;

  function emit<C extends PushChannel>(channel: C, payload: PushPayload<C>): void {
    for (const listener of listeners.get(channel) ?? []) {
      try {
        (listener as (p: PushPayload<C>) => void)(payload);
      } catch (error) {
        log.error('monitor', `a ${channel} listener failed: ${String(error)}`);
      }
    }
  }

  async function ingest(input: IngestInput): Promise<'ok' | 'duplicate'> {
    const test = typeof input.event.id === 'string' ? testEvents.get(input.event.id) : undefined;
    if (test) test.storing = true;
    const result = await store.append(input);
    if (result.status === 'ok') emit('event', result.event);
    return result.status;
  }

  const limiter = createRateLimiter({
    perMinute: settings.security.rateLimit.perMinute,
    onThrottleChange: (throttled) => {
      if (throttled) {
        const limit = settings.security.rateLimit.perMinute;
        log.warn('receiver', `flood control: more than ${limit} deliveries a minute; answering 429 for now`);
        if (!stopped) {
          emit('notice', {
            kind: 'receiver-throttled',
            title: 'Too many deliveries',
            body: `More than ${limit} webhook deliveries a minute arrived; the excess is refused (429) until the rate falls.`,
            at: new Date(now()).toISOString(),
          });
        }
      } else log.info('receiver', 'flood control: the rate is back to normal');
      if (!stopped) emit('status', status());
    },
  });
  // Rebuilt whenever the mode, the header or the secret changes; read by the receiver per request.
  const verifierFor = () => createSignatureVerifier({ ...settings.security.signature, secret: signingSecret });
  let verifier = verifierFor();

  const receiver = createReceiver({
    token: () => webhookToken,
    ingest,
    admit: () => limiter.take(),
    signature: () => verifier,
    onProbe: (nonce) => tunnel?.probeSeen(nonce),
    onAnswer: (code, headers) => {
      if (code === 503) counters.failed++;
      else if (code >= 400 && code < 500 && code !== 404) counters.rejected++;
      const testId = headers[TEST_EVENT_HEADER];
      const test = typeof testId === 'string' ? testEvents.get(testId) : undefined;
      if (test) test.answered = code;
    },
    log,
    ...options.receiver,
  });

  const tunnelChoice: TunnelChoice = options.tunnel ?? {
    provider: settings.tunnel.provider,
    host: settings.tunnel.host,
    ...(settings.tunnel.customUrl ? { customUrl: settings.tunnel.customUrl } : {}),
  };
  let tunnel: TunnelSupervisor | null = null;
  // Set by stop(): late tunnel news must not reach for the closed history.
  let stopped = false;
  // The start in flight, which a stop waits for before it closes what that start uses.
  let startup: Promise<unknown> | null = null;

  const tunnelMemory: TunnelMemory = {
    load() {
      const publicUrl = store.getSetting(SETTING.tunnelPublicUrl);
      return { subdomain: settings.tunnel.subdomain, publicUrl: typeof publicUrl === 'string' ? publicUrl : null };
    },
    saveSubdomain(name) {
      saveSettings(applySettingsPatch(settings, { tunnel: { subdomain: name } }));
    },
    savePublicUrl(url) {
      store.setSetting(SETTING.tunnelPublicUrl, url);
      store.setSetting(SETTING.lastPublicUrl, url);
    },
  };

  function tunnelProvider(choice: TunnelChoice): TunnelProvider | null {
    if (choice.provider === 'localtunnel') return localtunnelProvider(choice.host ?? settings.tunnel.host);
    if (choice.provider === 'custom') {
      if (!choice.customUrl) throw new Error('the custom tunnel needs your public URL (settings: tunnel.customUrl)');
      return customUrlProvider(choice.customUrl);
    }
    return null;
  }

  function trackUptime(online: boolean): void {
    const at = now();
    if (online && uptime.onlineSince === null) uptime.onlineSince = at;
    if (!online && uptime.onlineSince !== null) {
      uptime.onlineMs += at - uptime.onlineSince;
      uptime.onlineSince = null;
    }
  }

  function saveSettings(next: Settings): void {
    store.setSetting(SETTING.settings, next);
    settings = next;
  }

  function webhookUrlOf(publicUrl: string | null): string | null {
    return publicUrl ? `${publicUrl}/webhooks/${webhookToken}` : null;
  }

  function runRetention(): void {
    try {
      const deleted = store.applyRetention(settings.retention);
      if (deleted > 0) log.info('store', `retention removed ${deleted} old events`);
    } catch (error) {
      log.warn('store', `retention failed, will retry: ${String(error)}`);
    }
  }

  function status(): Status {
    const counts = store.counts();
    const tunnelStatus = tunnel?.status() ?? {
      provider: 'none' as const,
      state: 'stopped' as const,
      publicUrl: null,
      since: startedAt,
      attempts: 0,
      lastError: null,
      urlChanged: null,
      selfTest: null,
    };
    return {
      receiver: {
        listening: localUrl !== null,
        localUrl,
        throttled: limiter.throttled,
        throttledDeliveries: limiter.refused,
      },
      tunnel: tunnelStatus,
      webhookUrl: webhookUrlOf(tunnelStatus.publicUrl),
      events: { total: counts.total, unread: counts.unread, lastReceivedAt: counts.lastReceivedAt },
    };
  }

  function stats(days: number, tzOffsetMinutes: number): Stats {
    const counts = store.counts();
    const dayMs = 86_400_000;
    const today = Math.floor((now() + tzOffsetMinutes * 60_000) / dayMs) * dayMs - tzOffsetMinutes * 60_000;
    const daily = store.dailyStats(today - (days - 1) * dayMs, tzOffsetMinutes);
    const onlineMs = uptime.onlineMs + (uptime.onlineSince === null ? 0 : now() - uptime.onlineSince);
    return {
      days: daily.days,
      total: counts.total,
      byCategory: counts.byCategory,
      duplicates: daily.duplicates,
      rejected: counters.rejected,
      failed: counters.failed,
      lastEventAt: counts.lastReceivedAt,
      tunnel: { onlineMs, runningMs: now() - startedMs },
    };
  }

  function regenerateWebhookUrl(): Status {
    webhookToken = newToken();
    store.setSetting(SETTING.token, webhookToken);
    if (localUrl) {
      localUrl = `${new URL(localUrl).origin}/webhooks/${webhookToken}`;
      store.setSetting(SETTING.lastLocalUrl, localUrl);
    }
    // A new tunnel name too where the provider has names, and no "URL changed" alarm: the person asked for it.
    tunnel?.renewUrl();
    log.info('receiver', 'the webhook URL was regenerated; the old one no longer works');
    const current = status();
    emit('status', current);
    return current;
  }

  async function sendTestEvent(): Promise<TestEventResult> {
    const current = status();
    const tunnelWanted = tunnelChoice.provider !== 'none';
    const via = tunnelWanted ? 'public' : 'local';
    const fail = (failedAt: TestEventStage, message: string, code: number | null = null): TestEventResult => ({
      ok: false,
      via,
      failedAt,
      status: code,
      message,
      eventId: null,
    });
    if (!localUrl) return fail('receiver', 'The receiver is not running.');
    if (tunnelWanted && current.tunnel.state !== 'online') {
      return fail(
        'tunnel',
        `The tunnel is ${current.tunnel.state}${current.tunnel.lastError ? `: ${current.tunnel.lastError}` : ''}.`,
      );
    }
    const url = tunnelWanted ? (current.webhookUrl ?? '') : localUrl;
    const id = `test_${randomBytes(8).toString('hex')}`;
    const event = {
      event_type: TEST_EVENT_TYPE,
      id,
      message: 'Test event from SingleFile Monitor',
      timestamp: new Date(now()).toISOString(),
    };
    const seen = { answered: null as number | null, storing: false };
    testEvents.set(id, seen);
    // Through the tunnel, the self-test makes the same trip: run it alongside, so that the tunnel's
    // status (its self-test result and round trip) tells what this test found out as well.
    const check = tunnelWanted ? tunnel?.selfTest() : undefined;
    try {
      const body = JSON.stringify(event);
      // Signed as the sender is expected to sign, so that the test passes the receiver's check too.
      const signature = signDelivery({ ...settings.security.signature, secret: signingSecret }, body, id, now());
      const answer = await sendRequest(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'bypass-tunnel-reminder': '1',
          [TEST_EVENT_HEADER]: id,
          ...signature,
        },
        body,
        timeoutMs: 10_000,
      });
      if (answer.status === 200) {
        const stored = store.search({ text: id, limit: 1 }).events[0];
        return {
          ok: true,
          via,
          failedAt: null,
          status: 200,
          message: 'The test event arrived and was stored.',
          eventId: stored?.id ?? null,
        };
      }
      const reason = answerReason(answer.body);
      if (seen.storing) {
        return fail(
          'history',
          `The receiver got it but could not store it (${answer.status}${reason}).`,
          answer.status,
        );
      }
      if (seen.answered !== null) {
        return fail('receiver', `The receiver refused it (${answer.status}${reason}).`, answer.status);
      }
      return fail('tunnel', `The tunnel answered ${answer.status} without reaching this computer.`, answer.status);
    } catch (error) {
      return fail(
        tunnelWanted ? 'tunnel' : 'receiver',
        `No answer: ${error instanceof Error ? error.message : String(error)}.`,
      );
    } finally {
      testEvents.delete(id);
      await check;
    }
  }

  /** The unread count changed: every window and the tray badge follow. */
  function withStatusPush<T extends { updated: number }>(result: T): T {
    if (result.updated > 0) emit('status', status());
    return result;
  }

  // Each method validates its request with the contract, so a transport can hand over anything.
  const handlers: {
    [M in MonitorMethod]: (request: ApiParsedRequest<M>) => ApiResponse<M> | Promise<ApiResponse<M>>;
  } = {
    getStatus: () => status(),
    listEvents: (query) => store.search(query),
    getEvent: ({ id }) => store.get(id),
    markRead: ({ ids, read }) => withStatusPush({ updated: store.markRead(ids, read) }),
    markAllRead: () => withStatusPush({ updated: store.markAllRead() }),
    getSettings: () => settings,
    getStats: ({ days, tzOffsetMinutes }) => stats(days, tzOffsetMinutes),
    // The whole export in one string: for scripts and small exports. The window streams its
    // export a page at a time instead (export-format.ts streamExport; SaveExport in the API).
    exportEvents: ({ format, query }) => {
      const { content, count } = exportText(store, format, query ?? {});
      return { filename: exportFilename(format, now()), contentType: exportContentType(format), content, count };
    },
    regenerateWebhookUrl: () => regenerateWebhookUrl(),
    sendTestEvent: () => sendTestEvent(),
    checkTunnel: () =>
      tunnel?.selfTest() ?? { ok: false, at: new Date(now()).toISOString(), rttMs: null, error: 'no tunnel is in use' },
    updateSettings: (patch) => {
      const next = applySettingsPatch(settings, patch);
      const secret = patch.security?.signature?.secret;
      const problem = signatureProblem(next.security.signature.mode, secret === undefined ? signingSecret : secret);
      if (problem) throw new InvalidSettingsError(problem);
      const retentionChanged = JSON.stringify(next.retention) !== JSON.stringify(settings.retention);
      if (secret !== undefined) {
        store.setSetting(SETTING.signingSecret, secret);
        signingSecret = secret;
      }
      saveSettings(next);
      limiter.configure(next.security.rateLimit.perMinute);
      verifier = verifierFor();
      if (retentionChanged) runRetention();
      emit('status', status());
      return settings;
    },
  };

  function call<M extends MonitorMethod>(method: M) {
    return async (request: ApiRequest<M>): Promise<ApiResponse<M>> => {
      const parsed = monitorApiContract[method].request.parse(request ?? {}) as ApiParsedRequest<M>;
      return handlers[method](parsed);
    };
  }

  return {
    getStatus: call('getStatus'),
    listEvents: call('listEvents'),
    getEvent: call('getEvent'),
    markRead: call('markRead'),
    markAllRead: call('markAllRead'),
    getSettings: call('getSettings'),
    updateSettings: call('updateSettings'),
    getStats: call('getStats'),
    exportEvents: call('exportEvents'),
    regenerateWebhookUrl: call('regenerateWebhookUrl'),
    sendTestEvent: call('sendTestEvent'),
    checkTunnel: call('checkTunnel'),
    subscribe(channel, listener) {
      const set = listeners.get(channel) ?? new Set();
      listeners.set(channel, set);
      set.add(listener as (payload: never) => void);
      return () => set.delete(listener as (payload: never) => void);
    },
    start() {
      const starting = startUp();
      startup = starting;
      return starting;
    },
    async stop() {
      tunnel?.stop(); // also ends a start's wait for the tunnel's first outcome
      stopped = true;
      await startup?.catch(() => {});
      if (retentionTimer) clearInterval(retentionTimer);
      limiter.stop();
      await receiver.close();
      localUrl = null;
      await store.close();
    },
  };

  async function startUp(): Promise<{ localUrl: string; publicUrl: string | null }> {
    const provider = tunnelProvider(tunnelChoice);
    if (tunnelChoice.subdomain) tunnelMemory.saveSubdomain(tunnelChoice.subdomain);
    const port = await receiver.listen(options.port ?? 0);
    localUrl = `http://127.0.0.1:${port}/webhooks/${webhookToken}`;
    store.setSetting(SETTING.lastLocalUrl, localUrl);
    // This run has no public URL until its provider gives one (none never does): an earlier
    // run's would have `url` print an address that no longer leads here.
    store.setSetting(SETTING.lastPublicUrl, null);
    runRetention();
    retentionTimer = setInterval(runRetention, RETENTION_INTERVAL_MS);
    retentionTimer.unref();
    log.info('receiver', `listening on 127.0.0.1:${port}`);
    // Stopped while the receiver was opening: no tunnel to open for a monitor that is closing.
    if (stopped) return { localUrl, publicUrl: null };
    if (provider) {
      let firstOutcome!: () => void;
      const settled = new Promise<void>((resolve) => {
        firstOutcome = resolve;
      });
      tunnel = createTunnelSupervisor({
        provider,
        localPort: port,
        memory: tunnelMemory,
        probe: options.probe ?? probeRequest,
        log,
        timing: options.tunnelTiming ?? {},
        onStatus: (tunnelStatus) => {
          if (tunnelStatus.state !== 'connecting') firstOutcome(); // online, offline, or stopped by stop()
          trackUptime(tunnelStatus.state === 'online');
          if (!stopped) emit('status', status());
        },
        onNotice: (notice) => {
          if (!stopped) emit('notice', notice);
        },
      });
      tunnel.start();
      await settled;
    }
    if (!stopped) emit('status', status());
    const current = tunnel?.status();
    return { localUrl, publicUrl: current?.state === 'online' ? webhookUrlOf(current.publicUrl) : null };
  }
}

type TestEventStage = NonNullable<TestEventResult['failedAt']>;

/** The receiver's reason from its JSON answer (`{"error": …}`), as ": reason", or nothing. */
function answerReason(body: string): string {
  try {
    const error = (JSON.parse(body) as { error?: unknown } | null)?.error;
    return typeof error === 'string' ? `: ${error}` : '';
  } catch {
    return '';
  }
}

/** What `url` prints: the webhook URLs of the latest `serve` (or tray app) on this history. */
export function lastKnownUrls(dataDir: string): { localUrl: string | null; publicUrl: string | null } {
  const store = openStore(join(dataDir, HISTORY_FILE));
  try {
    const read = (key: string) => {
      const value = store.getSetting(key);
      return typeof value === 'string' ? value : null;
    };
    const publicBase = read(SETTING.lastPublicUrl);
    const token = read(SETTING.token);
    return {
      localUrl: read(SETTING.lastLocalUrl),
      publicUrl: publicBase && token ? `${publicBase}/webhooks/${token}` : null,
    };
  } finally {
    void store.close();
  }
}
