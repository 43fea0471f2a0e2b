import { randomBytes } from 'node:crypto';
import type { Notice, SelfTestResult, TunnelStatus } from '../../shared/api.ts';
import type { ProbeRequest } from './http-probe.ts';
import type { Logger } from './log.ts';

/**
 * The tunnel supervisor: keeps one public HTTPS URL in front of the receiver, the same one for
 * as long as the provider allows, and owns liveness itself — a state machine, a timeout on every
 * step, reconnects with backoff and jitter, and a self-test through the public URL.
 */

export type TunnelProviderKind = TunnelStatus['provider'];

/** One open tunnel. `onFailure` fires at most once, when the tunnel stops working. */
export interface TunnelSession {
  readonly url: string;
  onFailure(listener: (error: Error) => void): void;
  close(): void;
}

/**
 * A way to get a public URL. The supervisor knows providers only through this interface: a new
 * one (ngrok, Cloudflare) is a file that implements it, registered where the monitor picks one.
 */
export interface TunnelProvider {
  readonly kind: TunnelProviderKind;
  /** What messages call the far end of the tunnel: "the tunnel server", "the public URL". */
  readonly label: string;
  /** Set by a provider that can be asked for a name, so that the URL stays the same across runs. */
  readonly names?: TunnelNames;
  /**
   * `subdomain` is the name to ask for: always set when the provider has `names`, else null.
   * `signal` aborts when the supervisor gives up on the attempt (a stop, a reconnect): close what
   * is open so far, so that nothing outlives it (a stop during start must not wait for a timeout).
   */
  open(request: {
    localPort: number;
    subdomain: string | null;
    timeoutMs: number;
    signal: AbortSignal;
  }): Promise<TunnelSession>;
}

/** The names of a provider that can be asked for one (localtunnel's subdomains). */
export interface TunnelNames {
  /** A new name the provider accepts. */
  make(): string;
  /** The name a URL it granted carries. */
  of(url: string): string;
}

/** The user's own public URL in front of the receiver: nothing to open, only to self-test. */
export function customUrlProvider(url: string): TunnelProvider {
  return {
    kind: 'custom',
    label: 'the public URL',
    async open() {
      return { url: url.replace(/\/+$/, ''), onFailure() {}, close() {} };
    },
  };
}

/** How often our own refused name is asked for again before a new URL is accepted. */
const NAME_RETRIES = 3;

export interface TunnelTiming {
  openTimeoutMs: number;
  selfTestIntervalMs: number;
  selfTestTimeoutMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Offline this long → a notice; back online after one → another. */
  offlineNoticeAfterMs: number;
}

export const DEFAULT_TIMING: TunnelTiming = {
  openTimeoutMs: 10_000,
  selfTestIntervalMs: 60_000,
  selfTestTimeoutMs: 10_000,
  backoffBaseMs: 1_000,
  backoffMaxMs: 60_000,
  offlineNoticeAfterMs: 120_000,
};

/** What the supervisor keeps across restarts (in the settings table). */
export interface TunnelMemory {
  load(): { subdomain: string | null; publicUrl: string | null };
  saveSubdomain(name: string): void;
  /** null: forget it (a new URL was asked for). */
  savePublicUrl(url: string | null): void;
}

export interface TunnelSupervisorOptions {
  provider: TunnelProvider;
  localPort: number;
  /** The subdomain to ask for and the last public URL, kept across restarts. */
  memory: TunnelMemory;
  probe: ProbeRequest;
  log: Logger;
  onStatus(status: TunnelStatus): void;
  onNotice(notice: Notice): void;
  timing?: Partial<TunnelTiming>;
  now?: () => number;
}

export interface TunnelSupervisor {
  start(): void;
  stop(): void;
  status(): TunnelStatus;
  /** Runs a self-test now (also used by "Send a test event"); resolves with its result. */
  selfTest(): Promise<SelfTestResult>;
  /** The receiver calls this for every probe nonce it sees. */
  probeSeen(nonce: string): void;
  /** Drops the current tunnel and opens a fresh one at once, asking for the same name. */
  reconnect(): void;
  /**
   * The person asked for a new webhook URL: a provider with names gets a new one (the old URL
   * must stop leading here), and the tunnel is reopened with it.
   */
  renewUrl(): void;
}

/** Exponential backoff with jitter: attempt n waits between half and all of base·2^(n-1), capped. */
export function backoffDelay(
  attempt: number,
  timing: Pick<TunnelTiming, 'backoffBaseMs' | 'backoffMaxMs'>,
  random = Math.random,
): number {
  const ceiling = Math.min(timing.backoffMaxMs, timing.backoffBaseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export function createTunnelSupervisor(options: TunnelSupervisorOptions): TunnelSupervisor {
  const timing = { ...DEFAULT_TIMING, ...options.timing };
  const now = options.now ?? Date.now;
  const { provider, log } = options;
  const server = provider.label;
  const names = provider.names ?? null;

  let status: TunnelStatus = {
    provider: provider.kind,
    state: 'stopped',
    publicUrl: options.memory.load().publicUrl,
    since: iso(now()),
    attempts: 0,
    lastError: null,
    urlChanged: null,
    selfTest: null,
  };
  let session: TunnelSession | null = null;
  // The attempt whose provider.open() is still running, to call off.
  let opening: AbortController | null = null;
  // Bumped on every stop and every failure: a late answer from an older attempt is ignored.
  let generation = 0;
  let reconnectTimer: NodeJS.Timeout | null = null;
  let selfTestTimer: NodeJS.Timeout | null = null;
  let offlineTimer: NodeJS.Timeout | null = null;
  let offlineNoticeSent = false;
  let selfTestMisses = 0;
  let nameRetries = 0;
  const waitingProbes = new Map<string, () => void>();

  function update(change: Partial<TunnelStatus>): void {
    const stateChanged = change.state !== undefined && change.state !== status.state;
    status = { ...status, ...change, ...(stateChanged ? { since: iso(now()) } : {}) };
    tell('status', () => options.onStatus(status));
  }

  /**
   * A listener that throws (the window, the NDJSON output) has a bug of its own, not the tunnel's:
   * it is logged, and the state machine carries on. Letting it through would leave the machine
   * half-way through a step, or end the process as an unhandled rejection.
   */
  function tell(what: string, listener: () => void): void {
    try {
      listener();
    } catch (error) {
      log.error('tunnel', `a ${what} listener failed: ${errorText(error)}`);
    }
  }

  /** The name and the URL live in the history: a synchronous SQLite call, which throws on a full disk. */
  function kept<T>(what: string, action: () => T): T {
    try {
      return action();
    } catch (error) {
      throw new Error(`could not ${what} (${errorText(error)})`);
    }
  }

  function connect(): void {
    const mine = ++generation;
    // Whatever goes wrong in an attempt — the provider, or saving the name or the URL on a full
    // disk — is that attempt's failure: offline with the reason, backoff, retry.
    attempt(mine).catch((error: unknown) => {
      if (mine === generation) failed(errorText(error));
    });
  }

  async function attempt(mine: number): Promise<void> {
    const attempts = status.attempts + 1;
    update({ state: status.state === 'stopped' ? 'connecting' : 'reconnecting', attempts });
    const memory = kept("read the tunnel's name and URL", () => options.memory.load());
    let asked: string | null = null;
    if (names) {
      const name = memory.subdomain ?? names.make();
      // Made once, asked for every time.
      if (memory.subdomain === null) kept("save the tunnel's name", () => options.memory.saveSubdomain(name));
      asked = name;
    }
    opening = new AbortController();
    const opened = await provider
      .open({ localPort: options.localPort, subdomain: asked, timeoutMs: timing.openTimeoutMs, signal: opening.signal })
      .finally(() => {
        if (mine === generation) opening = null;
      });
    if (mine !== generation) {
      opened.close(); // stopped, or failed over, while this one was opening
      return;
    }
    session = opened; // from here on, a failure closes it
    const previous = memory.publicUrl;
    const granted = names && asked !== null ? names.of(opened.url) : null;
    // Our own name, refused: most likely the server still holds our previous connection (it
    // forgets a client about a second after its sockets close). Ask again a few times before
    // giving the user a new URL to paste.
    if (names && granted !== asked && previous !== null && names.of(previous) === asked) {
      if (nameRetries < NAME_RETRIES) {
        nameRetries++;
        failed(`${server} still holds ${asked}; asking for it again`);
        return;
      }
    }
    nameRetries = 0;
    opened.onFailure((error) => {
      if (mine === generation) failed(errorText(error));
    });
    const urlChanged = previous !== null && previous !== opened.url ? { from: previous, to: opened.url } : null;
    // A name the server gave instead of ours becomes ours: the URL stays what the user pasted last.
    if (granted !== null && granted !== asked)
      kept("save the tunnel's name", () => options.memory.saveSubdomain(granted));
    kept('save the public URL', () => options.memory.savePublicUrl(opened.url));
    if (offlineTimer) clearTimeout(offlineTimer);
    offlineTimer = null;
    update({ state: 'online', publicUrl: opened.url, lastError: null, ...(urlChanged ? { urlChanged } : {}) });
    log.info('tunnel', `online at ${opened.url}`);
    if (urlChanged) {
      log.warn('tunnel', `the public URL changed from ${urlChanged.from} to ${urlChanged.to}`);
      // The notice names the new address but not the secret path: notices reach logs and NDJSON.
      notice(
        'url-changed',
        'Your webhook URL changed',
        `It now starts with ${opened.url}. Copy the new webhook URL from the app (or run ` +
          "'singlefile-monitor url') and paste it into SingleFile's endpoint settings.",
      );
    }
    if (offlineNoticeSent) {
      offlineNoticeSent = false;
      notice('tunnel-online', 'Back online', 'SingleFile can reach this computer again.');
    }
    scheduleSelfTest(0);
  }

  /** Ends the current attempt or tunnel: its late news is ignored from now on. */
  function drop(): void {
    generation++;
    opening?.abort();
    opening = null;
    session?.close();
    session = null;
    for (const timer of [selfTestTimer, reconnectTimer]) if (timer) clearTimeout(timer);
    selfTestTimer = reconnectTimer = null;
    selfTestMisses = 0;
  }

  /** A deliberate fresh tunnel: straight to "reconnecting", since nothing has failed. */
  function reopen(): void {
    drop();
    connect();
  }

  function failed(reason: string, delay = backoffDelay(status.attempts + 1, timing)): void {
    drop();
    log.warn('tunnel', `offline: ${reason}; retrying in ${Math.round(delay / 100) / 10} s`);
    update({ state: 'offline', lastError: reason });
    offlineTimer ??= setTimeout(() => {
      offlineNoticeSent = true;
      // The reason of now: after two minutes of retries it may no longer be the first one.
      const why = status.lastError ?? reason;
      notice('tunnel-offline', 'SingleFile cannot reach this computer', `The tunnel is offline: ${why}. Retrying.`);
    }, timing.offlineNoticeAfterMs);
    reconnectTimer = setTimeout(() => {
      reconnectTimer = null;
      connect();
    }, delay);
  }

  function scheduleSelfTest(delay: number): void {
    if (selfTestTimer) clearTimeout(selfTestTimer);
    selfTestTimer = setTimeout(async () => {
      selfTestTimer = null;
      const mine = generation;
      const result = await selfTest().catch(
        (error: unknown): SelfTestResult => ({ ok: false, at: iso(now()), rttMs: null, error: errorText(error) }),
      );
      if (mine !== generation || status.state !== 'online') return;
      if (result.ok) {
        selfTestMisses = 0;
        // Proven to work end to end: the next failure starts the backoff from the beginning.
        if (status.attempts !== 0) update({ attempts: 0 });
      } else if (++selfTestMisses >= 2) {
        failed(`self-test failed twice: ${result.error}`);
        return;
      }
      scheduleSelfTest(timing.selfTestIntervalMs);
    }, delay);
  }

  async function selfTest(): Promise<SelfTestResult> {
    const url = status.state === 'online' ? status.publicUrl : null;
    const started = now();
    const finish = (ok: boolean, error: string | null): SelfTestResult => {
      const result = { ok, at: iso(now()), rttMs: ok ? now() - started : null, error };
      if (status.state !== 'stopped') update({ selfTest: result }); // a late answer after stop() tells nobody
      return result;
    };
    if (!url) return finish(false, 'the tunnel is not online');
    const nonce = randomBytes(16).toString('base64url');
    let seen!: () => void;
    const arrived = new Promise<void>((resolve) => {
      seen = resolve;
    });
    waitingProbes.set(nonce, seen);
    const timeout = new Promise<'timeout'>((resolve) => {
      const timer = setTimeout(() => resolve('timeout'), timing.selfTestTimeoutMs);
      void arrived.then(() => clearTimeout(timer));
    });
    try {
      const answer = options
        .probe(`${url}/healthz?probe=${nonce}`, { 'bypass-tunnel-reminder': '1' }, timing.selfTestTimeoutMs)
        .then((code) => code);
      const outcome = await Promise.race([Promise.all([arrived, answer]), timeout]);
      if (outcome === 'timeout')
        return finish(false, `no answer through ${server} in ${timing.selfTestTimeoutMs / 1000} s`);
      const [, code] = outcome;
      return code === 200 ? finish(true, null) : finish(false, `${server} answered ${code}`);
    } catch (error) {
      return finish(false, errorText(error));
    } finally {
      waitingProbes.get(nonce)?.();
      waitingProbes.delete(nonce);
    }
  }

  function notice(kind: string, title: string, body: string): void {
    tell('notice', () => options.onNotice({ kind, title, body, at: iso(now()) }));
  }

  return {
    start() {
      if (status.state !== 'stopped') return;
      connect();
    },
    stop() {
      drop();
      if (offlineTimer) clearTimeout(offlineTimer);
      offlineTimer = null;
      offlineNoticeSent = false;
      for (const resolve of waitingProbes.values()) resolve();
      waitingProbes.clear();
      // A "URL changed" warning belongs to the run that saw it; the next start compares afresh.
      update({ state: 'stopped', attempts: 0, urlChanged: null });
    },
    status: () => status,
    selfTest,
    probeSeen(nonce) {
      waitingProbes.get(nonce)?.();
    },
    reconnect() {
      if (status.state !== 'stopped') reopen();
    },
    renewUrl() {
      // The person takes a new URL to paste now, so an earlier "URL changed" warning is settled.
      if (!names) {
        update({ urlChanged: null }); // the URL is not ours to change (a custom URL): only the token changes
        return;
      }
      options.memory.saveSubdomain(names.make());
      options.memory.savePublicUrl(null);
      update({ publicUrl: null, urlChanged: null });
      if (status.state !== 'stopped') reopen();
    },
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
