import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { type EventQuery, SEARCH_LIMITS, type Status } from '../shared/api.ts';
import { CATEGORIES, type Category, describeEventType, keyFields, type StoredEvent } from '../shared/events.ts';
import { createDashboard, type Dashboard } from './core/dashboard.ts';
import { defaultDataDir } from './core/data-dir.ts';
import { exportToFile, searchJson, writeExport } from './core/export-format.ts';
import { createLogger } from './core/log.ts';
import { createMonitor, HISTORY_FILE, lastKnownUrls, type TunnelChoice } from './core/monitor.ts';
import { openStore, type Store } from './core/store.ts';
import { isValidSubdomain } from './core/tunnel-localtunnel.ts';

export const USAGE = `SingleFile Monitor: desktop notifications and a searchable history for SingleFile webhooks.

Usage:
  singlefile-monitor serve  [--data-dir DIR] [--port N] [--tunnel localtunnel|none] [--tunnel-host URL]
                            [--subdomain NAME] [--dashboard-port N | --no-dashboard] [--json]
  singlefile-monitor search [TEXT] [--type T]... [--category C] [--since ISO] [--until ISO] [--limit N] [--json]
  singlefile-monitor export --format csv|json [--out FILE] [same filters as search]
  singlefile-monitor url

Every command takes --data-dir DIR (default: the tray app's folder; env SINGLEFILE_MONITOR_DATA_DIR).
Exit codes: 0 ok, 1 runtime failure, 2 bad usage.`;

export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  /** Ends `serve`; by default SIGINT or SIGTERM. */
  stopSignal?: AbortSignal;
}

/** Bad usage: exit code 2 and one line on stderr. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The dashboard's files, as `npm run build:renderer` writes them (vite.config.ts). */
export const DASHBOARD_DIR = fileURLToPath(new URL('../out/dashboard/', import.meta.url));

const dataDirOption = { 'data-dir': { type: 'string' } } as const;
const filterOptions = {
  ...dataDirOption,
  type: { type: 'string', multiple: true },
  category: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  limit: { type: 'string' },
} as const;

export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        return await serve(rest, io);
      case 'search':
        return search(rest, io);
      case 'export':
        return await exportEvents(rest, io);
      case 'url':
        return url(rest, io);
      case undefined:
        throw new UsageError('missing command: serve, search, export or url');
      case '-h':
      case '--help':
      case 'help':
        io.stdout.write(`${USAGE}\n`);
        return 0;
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (error) {
    const usage = error instanceof UsageError || isParseArgsError(error);
    // parseArgs explains at length how to pass positionals; the first sentence is what matters.
    const full = error instanceof Error ? error.message : String(error);
    const message = isParseArgsError(error) ? (full.split(/\.\s/)[0] ?? full) : full;
    io.stderr.write(`singlefile-monitor: ${oneLine(message)}${usage ? " (see 'singlefile-monitor --help')" : ''}\n`);
    return usage ? 2 : 1;
  }
}

/** The data dir from `--data-dir`, the environment or the tray app's default. */
function dataDir(flag: string | undefined): string {
  if (flag !== undefined && flag.trim() === '') throw new UsageError('--data-dir must not be empty');
  return defaultDataDir(flag);
}

function parse<O extends NonNullable<ParseArgsConfig['options']>>(
  args: readonly string[],
  options: O,
  positionals = false,
) {
  return parseArgs({ args: [...args], options, allowPositionals: positionals, strict: true });
}

async function serve(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parse(args, {
    ...dataDirOption,
    port: { type: 'string' },
    tunnel: { type: 'string' },
    'tunnel-host': { type: 'string' },
    subdomain: { type: 'string' },
    'dashboard-port': { type: 'string' },
    'no-dashboard': { type: 'boolean' },
    json: { type: 'boolean' },
  });
  const port = values.port === undefined ? 0 : parsePort(values.port, '--port');
  const dashboardPort =
    values['dashboard-port'] === undefined ? 0 : parsePort(values['dashboard-port'], '--dashboard-port');
  if (values['dashboard-port'] !== undefined && values['no-dashboard']) {
    throw new UsageError('--dashboard-port and --no-dashboard cannot be used together');
  }
  const tunnel = tunnelChoice(values);
  const json = values.json === true;
  // U+2028/U+2029 are valid in JSON, but readline (and many NDJSON readers) end a line there.
  const out = (line: object) =>
    io.stdout.write(
      `${JSON.stringify(line).replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`)}\n`,
    );
  const log = createLogger((line) => io.stderr.write(`${line}\n`), json ? 'warn' : 'info');

  const monitor = createMonitor({ dataDir: dataDir(values['data-dir']), port, log, ...(tunnel ? { tunnel } : {}) });
  // Listening for SIGINT/SIGTERM before anything starts: a signal without a handler would kill the
  // process instead of stopping it cleanly, and the start can take long (a tunnel host that
  // accepts and never answers holds it for the whole open timeout).
  const stop = waitForStop(io.stopSignal);

  // Subscribed before the start, so that what happens during it (the tunnel connecting, a "URL
  // changed" notice, an early event) is told too; held back until the ready line, the first line.
  let heldBack: Array<() => void> | null = [];
  const tell = (write: () => void) => (heldBack ? heldBack.push(write) : write());
  let lastTunnel = '';
  monitor.subscribe('status', (status) =>
    tell(() => {
      const text = JSON.stringify(status.tunnel);
      if (status.tunnel.provider === 'none' || text === lastTunnel) return;
      lastTunnel = text;
      if (json) out({ type: 'tunnel', ...status.tunnel, webhookUrl: status.webhookUrl });
      else io.stdout.write(`${formatTunnelLine(status)}\n`);
    }),
  );
  monitor.subscribe('notice', (notice) =>
    tell(() => {
      if (json) out({ type: 'notice', ...notice });
      else io.stdout.write(`${oneLine(`! ${notice.title}: ${notice.body}`)}\n`);
    }),
  );
  monitor.subscribe('event', (event) =>
    tell(() => {
      if (json) out({ type: 'event', event });
      else io.stdout.write(`${formatEventLine(event)}\n`);
    }),
  );

  const started = await Promise.race([monitor.start(), stop.requested.then(() => null)]).catch(
    async (error: NodeJS.ErrnoException) => {
      stop.release();
      await monitor.stop();
      throw error.code === 'EADDRINUSE'
        ? new Error(`port ${port} is already in use; choose another with --port`)
        : error;
    },
  );
  if (started === null) {
    // Stopped during the start: the start ends early, nothing was promised yet (no ready line).
    await monitor.stop();
    if (!json) io.stdout.write('Stopped.\n');
    return 0;
  }
  const { localUrl, publicUrl } = started;
  // Its own listener on 127.0.0.1, never the receiver's port: the tunnel cannot reach it.
  let dashboard: Dashboard | null = null;
  if (!values['no-dashboard']) {
    const opened = createDashboard({ api: monitor, staticDir: DASHBOARD_DIR, log });
    await opened.listen(dashboardPort).catch(async (error: NodeJS.ErrnoException) => {
      stop.release();
      await monitor.stop();
      throw error.code === 'EADDRINUSE'
        ? new Error(`port ${dashboardPort} is already in use; choose another with --dashboard-port`)
        : error;
    });
    dashboard = opened;
  }

  if (json) {
    out({ type: 'ready', localUrl, publicUrl, dashboardUrl: dashboard?.url ?? null });
  } else {
    io.stdout.write(`SingleFile Monitor is receiving events.\n  Local webhook URL: ${localUrl}\n`);
    if (publicUrl) io.stdout.write(`  Webhook URL for SingleFile: ${publicUrl}\n`);
    if (dashboard) io.stdout.write(`  Dashboard (keep this link to yourself): ${dashboard.url}\n`);
    io.stdout.write('Press Ctrl+C to stop.\n');
  }
  // Then what was held back, in order, and from now on each line as it happens.
  for (const write of heldBack) write();
  heldBack = null;

  await stop.requested;
  // The window first, so that no API call reaches a history that is closing.
  await dashboard?.close();
  await monitor.stop();
  if (!json) io.stdout.write('Stopped.\n');
  return 0;
}

/** The tunnel the flags ask for; undefined when they say nothing, so the saved settings decide. */
function tunnelChoice(values: {
  tunnel?: string;
  'tunnel-host'?: string;
  subdomain?: string;
}): TunnelChoice | undefined {
  const provider = values.tunnel ?? (values['tunnel-host'] || values.subdomain ? 'localtunnel' : undefined);
  if (provider === undefined) return undefined;
  if (provider !== 'localtunnel' && provider !== 'none') throw new UsageError('--tunnel must be localtunnel or none');
  if (provider === 'none') {
    if (values['tunnel-host'] || values.subdomain) {
      throw new UsageError('--tunnel-host and --subdomain go with --tunnel localtunnel');
    }
    return { provider };
  }
  const host = values['tunnel-host'];
  if (host !== undefined && !/^https?:\/\/[^/\s]+\/?$/.test(host)) {
    throw new UsageError('--tunnel-host must be a URL like https://localtunnel.me');
  }
  if (values.subdomain !== undefined && !isValidSubdomain(values.subdomain)) {
    throw new UsageError('--subdomain must be 6 to 65 lowercase letters, digits or dashes');
  }
  return {
    provider,
    ...(host ? { host: host.replace(/\/$/, '') } : {}),
    ...(values.subdomain ? { subdomain: values.subdomain } : {}),
  };
}

function formatTunnelLine({ tunnel, webhookUrl }: Status): string {
  const why = tunnel.lastError ? ` (${tunnel.lastError})` : '';
  switch (tunnel.state) {
    case 'online':
      return `Tunnel online. Webhook URL for SingleFile: ${webhookUrl}`;
    case 'offline':
      return `Tunnel offline${why}; retrying.`;
    default:
      return `Tunnel ${tunnel.state}…`;
  }
}

/** `requested` resolves on SIGINT/SIGTERM (or the given signal); `release` stops listening for them. */
function waitForStop(signal: AbortSignal | undefined): { requested: Promise<void>; release: () => void } {
  let release = () => {};
  const requested = new Promise<void>((resolve) => {
    if (signal) {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
      return;
    }
    const stop = () => {
      release();
      resolve();
    };
    release = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  return { requested, release };
}

function search(args: readonly string[], io: CliIo): number {
  const { values, positionals } = parse(args, { ...filterOptions, json: { type: 'boolean' } }, true);
  const query = toQuery(positionals, values);
  const events = withStore(values['data-dir'], (store) => store.search({ ...query, limit: query.limit ?? 50 }).events);
  if (values.json) {
    io.stdout.write(`${JSON.stringify(events.map(searchJson), null, 2)}\n`);
  } else if (events.length === 0) {
    io.stdout.write('No events found.\n');
  } else {
    for (const event of events) io.stdout.write(`${formatEventLine(event)}\n`);
  }
  return 0;
}

async function exportEvents(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(
    args,
    { ...filterOptions, format: { type: 'string' }, out: { type: 'string' } },
    true,
  );
  const format = values.format;
  if (format !== 'csv' && format !== 'json') throw new UsageError('--format must be csv or json');
  const query = toQuery(positionals, values);
  if (values.out !== undefined && values.out.trim() === '') throw new UsageError('--out must not be empty');
  const store = openStore(join(dataDir(values['data-dir']), HISTORY_FILE));
  let count: number;
  try {
    // To a file: streamed with backpressure, through a `.partial` file renamed at the end, so a
    // large export is never held in memory and a failed one never leaves half a file. To stdout,
    // whose writes Node makes synchronously for files and pipes, page by page as the search does.
    count = values.out
      ? await exportToFile(async (page) => store.search(page), format, query, values.out)
      : writeExport(store, format, query, (text) => io.stdout.write(text));
  } finally {
    await store.close();
  }
  if (values.out) io.stderr.write(`Exported ${count} event${count === 1 ? '' : 's'} to ${values.out}\n`);
  return 0;
}

function url(args: readonly string[], io: CliIo): number {
  const { values } = parse(args, dataDirOption);
  const { localUrl, publicUrl } = lastKnownUrls(dataDir(values['data-dir']));
  if (publicUrl) {
    io.stdout.write(`${publicUrl}\n`);
    return 0;
  }
  if (!localUrl) throw new Error("no webhook URL yet: start 'singlefile-monitor serve' first");
  io.stdout.write(`${localUrl}\n`);
  io.stderr.write('This is the local address; SingleFile needs the public HTTPS URL of a tunnel in front of it.\n');
  return 0;
}

type FilterValues = {
  type?: string[] | undefined;
  category?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
  limit?: string | undefined;
};

export function toQuery(positionals: readonly string[], values: FilterValues): EventQuery {
  const query: EventQuery = {};
  const text = positionals.join(' ').trim();
  if (text.length > SEARCH_LIMITS.textLength) {
    throw new UsageError(`the search text must be at most ${SEARCH_LIMITS.textLength} characters`);
  }
  if (text) query.text = text;
  if (values.type?.some((type) => type === '')) throw new UsageError('--type must not be empty');
  if ((values.type?.length ?? 0) > SEARCH_LIMITS.types) {
    throw new UsageError(`--type can be given at most ${SEARCH_LIMITS.types} times`);
  }
  if (values.type?.length) query.types = values.type;
  if (values.category !== undefined) query.categories = [parseCategory(values.category)];
  if (values.since !== undefined) query.since = parseTime(values.since, '--since');
  if (values.until !== undefined) query.until = parseTime(values.until, '--until');
  if (values.limit !== undefined) {
    const limit = /^\d+$/.test(values.limit) ? Number(values.limit) : Number.NaN;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new UsageError('--limit must be a whole number from 1 to 1000');
    }
    query.limit = limit;
  }
  return query;
}

function parseCategory(value: string): Category {
  const found = CATEGORIES.find((c) => c.toLowerCase() === value.toLowerCase());
  if (!found) throw new UsageError(`--category must be one of ${CATEGORIES.join(', ')}`);
  return found;
}

/** An ISO date (`2024-01-15`, midnight UTC) or date-time, as a full ISO string. */
function parseTime(value: string, flag: string): string {
  const date = /^(\d{4})-(\d{2})-(\d{2})(T.*)?$/.exec(value);
  const ms = date ? Date.parse(value) : Number.NaN;
  // Date.parse rolls 2024-02-30 over to March 1st; a day the month does not have is a typo.
  const day = date ? new Date(Date.UTC(Number(date[1]), Number(date[2]) - 1, Number(date[3]))) : null;
  const realDay = day !== null && day.getUTCMonth() === Number(date?.[2]) - 1 && day.getUTCDate() === Number(date?.[3]);
  if (!Number.isFinite(ms) || !realDay) {
    throw new UsageError(`${flag} must be an ISO date or date-time, like 2024-01-15`);
  }
  return new Date(ms).toISOString();
}

function parsePort(value: string, flag: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new UsageError(`${flag} must be a port number from 0 to 65535`);
  return port;
}

function withStore<T>(dataDirFlag: string | undefined, use: (store: Store) => T): T {
  const store = openStore(join(dataDir(dataDirFlag), HISTORY_FILE));
  try {
    return use(store);
  } finally {
    void store.close();
  }
}

/** One line per event for people: when, what (SingleFile's name), and the fields they know it by. */
export function formatEventLine(event: StoredEvent): string {
  const fields = keyFields(event.payload)
    .slice(0, 3)
    .map((f) => `${f.label}: ${f.value}`)
    .join(' · ');
  const name = describeEventType(event.event_type).name;
  return oneLine(`${event.received_at}  #${event.id}  ${name}${fields ? `  ${fields}` : ''}`);
}

/**
 * Text from a payload on one terminal line: no line breaks, no escape sequences. Whole ANSI
 * sequences go first (CSI such as colours and cursor moves, OSC such as titles and hyperlinks),
 * then any control character left, and the Unicode line separators and bidirectional overrides
 * that could make a line show something other than what it holds.
 */
function oneLine(text: string): string {
  return (
    text
      // biome-ignore lint/suspicious/noControlCharactersInRegex: removing escape sequences is the point
      .replace(/(?:\u001b\[|\u009b)[\u0030-\u003f]*[\u0020-\u002f]*[\u0040-\u007e]?/g, '')
      // biome-ignore lint/suspicious/noControlCharactersInRegex: removing escape sequences is the point
      .replace(/(?:\u001b\]|\u009d)[^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)?/g, '')
      // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
      .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]+/g, ' ')
  );
}

function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}
