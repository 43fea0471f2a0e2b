/**
 * Tunnel soak (issue 3): not part of `npm test`. Run it by hand:
 *
 *   node test/soak/tunnel-soak.ts [--minutes 10] [--restart-every 30] [--rate 5]
 *   npm run soak:tunnel -- --minutes 10 --restart-every 30
 *
 * Everything is on loopback: a localtunnel server on 127.0.0.1 (test/helpers/tunnel-server.ts,
 * domain `localhost`), the real CLI `serve --json --tunnel localtunnel` in its own process, and a
 * sender that POSTs unique events through the public URL at `--rate` per second for `--minutes`,
 * retrying anything that is not a 200 with bounded backoff, as SingleFile would. The tunnel server
 * is restarted every `--restart-every` seconds; each reconnect is timed from the restart to serve's
 * next NDJSON `tunnel` line with state online (after one that was not). At the end serve gets
 * SIGTERM, and `export --format json` / `search --json` in other processes count what was stored.
 *
 * Prints one JSON summary on stdout (progress goes to stderr) and exits 0 only if every
 * acknowledged event is stored exactly once, no delivery was given up, the URL never changed and
 * serve exited 0.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { REPO_ROOT, runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/fixtures.ts';
import { startTunnelServer, type TunnelServer } from '../helpers/tunnel-server.ts';

// ---- options -----------------------------------------------------------------------------------

const { values: flags } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    'restart-every': { type: 'string', default: '30' },
    rate: { type: 'string', default: '5' },
  },
  strict: true,
});

function positive(name: string, value: string, max: number): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > max) {
    process.stderr.write(`tunnel-soak: --${name} must be a number above 0 and at most ${max}\n`);
    process.exit(2);
  }
  return n;
}

const MINUTES = positive('minutes', flags.minutes, 24 * 60);
const RESTART_EVERY_S = positive('restart-every', flags['restart-every'], 3600);
const RATE = positive('rate', flags.rate, 200);
const DURATION_MS = Math.round(MINUTES * 60_000);

/** The sender's retry policy: attempts per event and the backoff between them (doubling, capped). */
const MAX_ATTEMPTS = 10;
const RETRY_BASE_MS = 250;
const RETRY_MAX_MS = 5_000;
const REQUEST_TIMEOUT_MS = 15_000;
/** Waits for serve to come back online (after a restart, or at the end). */
const ONLINE_WAIT_MS = 60_000;

const startedAt = Date.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const elapsed = () => `${((Date.now() - startedAt) / 1000).toFixed(1)}s`;
const progress = (text: string) => process.stderr.write(`[soak ${elapsed()}] ${text}\n`);

// Whatever happens, this script ends: a watchdog far beyond the planned run kills serve and exits.
let serveChild: ChildProcess | null = null;
const watchdog = setTimeout(
  () => {
    progress('watchdog: the run took far longer than planned; killing serve');
    serveChild?.kill('SIGKILL');
    process.exit(1);
  },
  DURATION_MS + 5 * 60_000,
);
watchdog.unref();
process.once('exit', () => serveChild?.kill('SIGKILL'));

// ---- serve, and what its NDJSON says ------------------------------------------------------------

type Line = Record<string, unknown>;

interface Serve {
  child: ChildProcess;
  ready: Line;
  exited: Promise<number | null>;
  stderr(): string;
}

const tunnelLines: Array<{ at: number; state: string; publicUrl: string | null; urlChanged: unknown }> = [];
const notices: Line[] = [];
let eventLines = 0;
let notJsonLines = 0;
/** Called on every tunnel line (the reconnect timer listens). */
let onTunnelLine: (line: { at: number; state: string }) => void = () => {};

function spawnServe(server: TunnelServer, dataDir: string): Promise<Serve> {
  const child = spawn(
    process.execPath,
    [
      'bin/singlefile-monitor.js',
      'serve',
      '--json',
      '--tunnel',
      'localtunnel',
      '--tunnel-host',
      server.url,
      '--data-dir',
      dataDir,
      '--port',
      '0',
    ],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, SINGLEFILE_MONITOR_DATA_DIR: undefined },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  serveChild = child;
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let ready: Line | null = null;
    const reader = createInterface({
      input: child.stdout as NodeJS.ReadableStream,
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    reader.on('line', (text) => {
      let line: Line;
      try {
        line = JSON.parse(text) as Line;
      } catch {
        notJsonLines++;
        return;
      }
      if (ready === null) {
        ready = line;
        resolve({ child, ready, exited, stderr: () => stderr });
        return;
      }
      if (line.type === 'tunnel') {
        const entry = {
          at: Date.now(),
          state: String(line.state),
          publicUrl: typeof line.publicUrl === 'string' ? line.publicUrl : null,
          urlChanged: line.urlChanged ?? null,
        };
        tunnelLines.push(entry);
        onTunnelLine(entry);
      } else if (line.type === 'notice') {
        notices.push(line);
        progress(`notice: ${String(line.kind)}: ${String(line.body)}`);
      } else if (line.type === 'event') {
        eventLines++;
      }
    });
    child.once('error', reject);
    void exited.then((code) => {
      if (ready === null) reject(new Error(`serve exited with ${code} before its ready line; stderr: ${stderr}`));
    });
  });
}

/** Resolves once a tunnel line says online (now, or later, after `since`); null after `ms`. */
function waitOnline(since: number, ms: number): Promise<number | null> {
  const last = tunnelLines.at(-1);
  if (last && last.state === 'online' && last.at >= since) return Promise.resolve(last.at);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      onTunnelLine = () => {};
      resolve(null);
    }, ms);
    onTunnelLine = (line) => {
      if (line.state !== 'online') return;
      clearTimeout(timer);
      onTunnelLine = () => {};
      resolve(line.at);
    };
  });
}

/** Open file descriptors of a process, and how many of them are sockets (Linux /proc; null elsewhere). */
function handles(pid: number | undefined): { fds: number; sockets: number; rssKb: number | null } | null {
  if (pid === undefined) return null;
  try {
    const fds = readdirSync(`/proc/${pid}/fd`);
    let sockets = 0;
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) sockets++;
      } catch {
        // closed between readdir and readlink
      }
    }
    const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { fds: fds.length, sockets, rssKb: rss ? Number(rss[1]) : null };
  } catch {
    return null;
  }
}

// ---- the sender ---------------------------------------------------------------------------------

const sent = { events: 0, attempts: 0, retries: 0, acknowledged: 0, gaveUp: 0 };
const acknowledgedIds = new Set<string>();
const gaveUpIds: string[] = [];
const failures = new Map<string, number>();
/** Latency of the attempt that got the 200, from the first attempt of that event. */
const deliveryMs: number[] = [];

function noteFailure(reason: string): void {
  failures.set(reason, (failures.get(reason) ?? 0) + 1);
}

async function deliver(server: TunnelServer, webhookUrl: string, n: number): Promise<void> {
  const orderId = `soak_${n}`;
  const body = JSON.stringify({ event_type: 'order.completed', order_id: orderId, sequence: n });
  const target = new URL(webhookUrl);
  const first = Date.now();
  sent.events++;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    sent.attempts++;
    if (attempt > 1) sent.retries++;
    try {
      const res = await server.request(webhookUrl, {
        method: 'POST',
        path: target.pathname,
        headers: { 'content-type': 'application/json', 'user-agent': 'tunnel-soak' },
        body,
        timeoutMs: REQUEST_TIMEOUT_MS,
      });
      if (res.status === 200) {
        sent.acknowledged++;
        acknowledgedIds.add(orderId);
        deliveryMs.push(Date.now() - first);
        return;
      }
      noteFailure(`HTTP ${res.status}`);
    } catch (error) {
      noteFailure(error instanceof Error ? error.message.replace(/\d+/g, 'N') : String(error));
    }
    if (attempt < MAX_ATTEMPTS) await sleep(Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (attempt - 1)));
  }
  sent.gaveUp++;
  gaveUpIds.push(orderId);
}

// ---- the run ------------------------------------------------------------------------------------

function stats(values: number[]): { count: number; min: number; median: number; max: number } | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { count: sorted.length, min: sorted[0] as number, median, max: sorted.at(-1) as number };
}

async function main(): Promise<number> {
  const server = await startTunnelServer({ domain: 'localhost' });
  const dataDir = tempDir();
  progress(
    `tunnel server ${server.url}; data dir ${dataDir}; ${MINUTES} min, restart every ${RESTART_EVERY_S} s, ${RATE} events/s`,
  );
  try {
    const serve = await spawnServe(server, dataDir);
    const webhookUrl = typeof serve.ready.publicUrl === 'string' ? serve.ready.publicUrl : null;
    if (!webhookUrl) throw new Error(`serve is not online at start: ${JSON.stringify(serve.ready)}; ${serve.stderr()}`);
    const publicBase = webhookUrl.slice(0, webhookUrl.indexOf('/webhooks/'));
    progress(`serve pid ${serve.child.pid} online at ${webhookUrl}`);
    // The first self-test runs right after online; let it finish before the baseline is taken.
    await sleep(1_000);
    const handlesAtStart = handles(serve.child.pid);
    let handlesMax = handlesAtStart;

    const inFlight = new Set<Promise<void>>();
    const reconnects: Array<{ at: string; ms: number | null }> = [];
    const runUntil = Date.now() + DURATION_MS;
    // Handles sampled every 5 s while it runs: the peak tells a leak that closes again at the end.
    const sampler = setInterval(() => {
      const sample = handles(serve.child.pid);
      if (sample && (!handlesMax || sample.fds > handlesMax.fds)) handlesMax = sample;
    }, 5_000);
    sampler.unref();

    // The sender: one new event every 1/RATE s, each delivered (with its retries) on its own.
    const sender = (async () => {
      let n = 0;
      let next = Date.now();
      while (Date.now() < runUntil) {
        const delivery = deliver(server, webhookUrl, ++n).finally(() => inFlight.delete(delivery));
        inFlight.add(delivery);
        next += 1000 / RATE;
        await sleep(Math.max(0, next - Date.now()));
      }
    })();

    // The restarts: every RESTART_EVERY_S, timed until serve says online again.
    const restarter = (async () => {
      for (;;) {
        const nextRestart = Date.now() + RESTART_EVERY_S * 1000;
        if (nextRestart >= runUntil) break;
        await sleep(nextRestart - Date.now());
        const restartedAt = Date.now();
        await server.restart();
        // Back online = an online line after a line that was not online, both after the restart.
        let wentDown = false;
        const back = await new Promise<number | null>((resolve) => {
          const timer = setTimeout(() => {
            onTunnelLine = () => {};
            resolve(null);
          }, ONLINE_WAIT_MS);
          onTunnelLine = (line) => {
            if (line.state !== 'online') {
              wentDown = true;
              return;
            }
            if (!wentDown) return;
            clearTimeout(timer);
            onTunnelLine = () => {};
            resolve(line.at);
          };
        });
        const ms = back === null ? null : back - restartedAt;
        reconnects.push({ at: new Date(restartedAt).toISOString(), ms });
        const sample = handles(serve.child.pid);
        progress(
          `restart ${reconnects.length}: ${ms === null ? 'NOT back online' : `back online in ${ms} ms`}; ` +
            `sent ${sent.events}, acked ${sent.acknowledged}, retries ${sent.retries}, in flight ${inFlight.size}; ` +
            `fds ${sample?.fds ?? '?'}`,
        );
      }
    })();

    await Promise.all([sender, restarter]);
    clearInterval(sampler);
    progress(`sending stopped; waiting for ${inFlight.size} deliveries in flight`);
    await Promise.all([...inFlight]);
    const online =
      tunnelLines.at(-1)?.state === 'online' ? true : (await waitOnline(Date.now(), ONLINE_WAIT_MS)) !== null;
    // Let the tunnel's sockets settle (the client replaces each one that served a request) before sampling.
    await sleep(2_000);
    const handlesAtEnd = handles(serve.child.pid);

    serve.child.kill('SIGTERM');
    const stopAsked = Date.now();
    let killTimer: NodeJS.Timeout | undefined;
    const exitCode = await Promise.race([
      serve.exited,
      new Promise<'timeout'>((resolve) => {
        killTimer = setTimeout(() => resolve('timeout'), 15_000);
      }),
    ]);
    clearTimeout(killTimer);
    if (exitCode === 'timeout') serve.child.kill('SIGKILL');
    const stopMs = Date.now() - stopAsked;
    serveChild = null;

    // What the history holds, read by other processes as a user would.
    const exported = await runCli(['export', '--format', 'json', '--data-dir', dataDir]);
    const searched = await runCli(['search', '--json', '--limit', '1000', '--data-dir', dataDir]);
    if (exported.code !== 0) throw new Error(`export failed: ${exported.stderr}`);
    if (searched.code !== 0) throw new Error(`search failed: ${searched.stderr}`);
    const events = JSON.parse(exported.stdout) as Array<{ payload: { order_id?: unknown }; deliveries?: unknown }>;
    const searchCount = (JSON.parse(searched.stdout) as unknown[]).length;
    const storedIds = events
      .map((event) => event.payload.order_id)
      .filter((id): id is string => typeof id === 'string' && id.startsWith('soak_'));
    const unique = new Set(storedIds);
    const missing = [...acknowledgedIds].filter((id) => !unique.has(id));
    const storedNotAcknowledged = [...unique].filter((id) => !acknowledgedIds.has(id));
    const redeliveries = events.reduce(
      (sum, event) => sum + (typeof event.deliveries === 'number' && event.deliveries > 1 ? event.deliveries - 1 : 0),
      0,
    );
    const reconnectMs = reconnects.map((r) => r.ms).filter((ms): ms is number => ms !== null);
    const urlChanges = tunnelLines.filter((line) => line.urlChanged !== null).length;
    const otherUrls = [...new Set(tunnelLines.map((line) => line.publicUrl))].filter(
      (url) => url !== null && url !== publicBase,
    );
    const stderrLines = serve.stderr().split('\n').filter(Boolean);

    const summary = {
      options: { minutes: MINUTES, restartEverySeconds: RESTART_EVERY_S, rate: RATE },
      durationSeconds: Math.round((Date.now() - startedAt) / 100) / 10,
      publicUrl: webhookUrl,
      events: {
        sent: sent.events,
        acknowledged: sent.acknowledged,
        attempts: sent.attempts,
        retries: sent.retries,
        gaveUp: sent.gaveUp,
        stored: storedIds.length,
        storedUnique: unique.size,
        missing: missing.length,
        duplicatesStored: storedIds.length - unique.size,
        storedNotAcknowledged: storedNotAcknowledged.length,
        redeliveriesDeduplicated: redeliveries,
        eventLines,
        searchLimit1000Count: searchCount,
        failedAttemptsByReason: Object.fromEntries(failures),
        deliveryMs: stats(deliveryMs),
      },
      reconnects: {
        restarts: reconnects.length,
        backOnline: reconnectMs.length,
        notBack: reconnects.length - reconnectMs.length,
        ms: stats(reconnectMs),
        all: reconnects.map((r) => r.ms),
      },
      tunnel: {
        lines: tunnelLines.length,
        onlineAtEnd: online,
        urlChanges,
        otherUrls,
        notices: notices.map((n) => n.kind),
      },
      serve: {
        pid: serve.child.pid,
        handlesAtStart,
        handlesMax,
        handlesAtEnd,
        exitCode: exitCode === 'timeout' ? null : exitCode,
        stopMs,
        notJsonLines,
        stderrLines: stderrLines.length,
        stderrTail: stderrLines.slice(-3),
      },
      ...(missing.length ? { missingIds: missing.slice(0, 20) } : {}),
      ...(gaveUpIds.length ? { gaveUpIds: gaveUpIds.slice(0, 20) } : {}),
    };
    const ok =
      missing.length === 0 &&
      storedIds.length === unique.size &&
      sent.gaveUp === 0 &&
      urlChanges === 0 &&
      otherUrls.length === 0 &&
      notJsonLines === 0 &&
      eventLines === unique.size &&
      reconnects.length === reconnectMs.length &&
      exitCode === 0;
    process.stdout.write(`${JSON.stringify({ ok, ...summary }, null, 2)}\n`);
    return ok ? 0 : 1;
  } finally {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => {
    clearTimeout(watchdog);
    process.exitCode = code;
  },
  (error: unknown) => {
    serveChild?.kill('SIGKILL');
    process.stderr.write(`tunnel-soak: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
