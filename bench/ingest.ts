/**
 * The ingest benchmark: autocannon (as a library, in this process) against three servers, each
 * in its own child process (bench/servers/child.ts), at 1, 16 and 64 connections:
 *   (a) our receiver through createMonitor (validation, dedupe, durable store, 200 after commit);
 *   (b) the Express handler of SingleFile's own example (express.json(), 200, stores nothing);
 *   (c) a bare node:http handler that reads the body and answers 200.
 * All three get the same requests: the eleven fixtures in turn, each made unique by a counter in
 * its id field (so every request is a new event for (a), never a cheap duplicate).
 *
 * After each run of (a) the server is killed with SIGKILL and its history is read from another
 * connection: the unique id of every request answered 200 must be there. (Counting rows would not
 * do: events committed but not yet answered when autocannon stops could hide lost ones.)
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import autocannon, { type Request } from 'autocannon';
import { HISTORY_FILE } from '../electron/core/monitor.ts';
import { type ServerChild, startServer } from './servers/child.ts';
import { percentile } from './stats.ts';

export type ServerName = 'receiver' | 'express' | 'bare';

export const SERVERS: Record<ServerName, { label: string; module: URL }> = {
  receiver: { label: '(a) receiver', module: new URL('./servers/receiver.ts', import.meta.url) },
  express: { label: '(b) Express example', module: new URL('./baselines/express-example.ts', import.meta.url) },
  bare: { label: '(c) bare node:http', module: new URL('./baselines/bare-http.ts', import.meta.url) },
};

export interface IngestOptions {
  connections: readonly number[];
  durationS: number;
  warmupS: number;
  /** Which servers to run; all three by default. */
  servers?: readonly ServerName[];
  /**
   * Extra node flags for the server children, e.g. `--cpu-prof`. With flags set the receiver is
   * stopped with SIGTERM (so the profile gets written) instead of SIGKILL before it is counted.
   */
  serverExecArgv?: readonly string[];
  log: (line: string) => void;
}

export interface IngestCase {
  server: ServerName;
  connections: number;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  responses: number;
  non200: number;
  errors: number;
  /** The server process's CPU time over the run, as a share of one core. */
  serverCpu: number;
  /** The client's (autocannon, in the bench process) CPU time over the run, as a share of one core. */
  clientCpu: number;
  /** (a) only: the requests answered 200, the events in the history after SIGKILL, and how many of
   * the acknowledged ones were not there (must be 0). */
  durable?: { answered200: number; stored: number; missing: number; ok: boolean };
  /** (a) only: what the store's group commit did during the measured run. */
  commits?: { transactions: number; meanEvents: number; maxEvents: number; meanMs: number; maxMs: number };
}

const FIXTURE_DIR = new URL('../../shared/fixtures/events/', import.meta.url);

export interface RequestTemplate {
  type: string;
  /** The field made unique per request. */
  idField: string;
  before: string;
  prefix: string;
  after: string;
}

/** The request mix: each fixture, with the value of its first `*_id` field replaced per request. */
export function requestTemplates(): RequestTemplate[] {
  const files = readdirSync(FIXTURE_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort();
  return files.map((file) => {
    const event = JSON.parse(readFileSync(new URL(file, FIXTURE_DIR), 'utf8')) as Record<string, unknown>;
    const idField = Object.keys(event).find((key) => key.endsWith('_id') && typeof event[key] === 'string');
    if (!idField) throw new Error(`${file} has no *_id field to make unique`);
    const marker = '\u0001unique\u0001';
    const prefix = String(event[idField]).replace(/\d+$/, '');
    const text = JSON.stringify({ ...event, [idField]: marker });
    const [before = '', after = ''] = text.split(JSON.stringify(marker));
    return { type: String(event.event_type), idField, before, prefix, after };
  });
}

interface Measured {
  latencies: number[];
  statuses: Map<number, number>;
  errors: number;
  durationS: number;
  /** This process's (autocannon's) CPU time over the run, as a share of one core. */
  clientCpu: number;
}

/**
 * One autocannon run. With `acknowledged`, the unique id of each request answered 200 is added to
 * it: autocannon keeps one request in flight per connection (no pipelining), so the id that the
 * connection's context holds when an answer arrives is the id of the request answered.
 */
async function fire(
  url: string,
  connections: number,
  durationS: number,
  counter: { n: number },
  acknowledged?: Set<string>,
): Promise<Measured> {
  const { pathname } = new URL(url);
  type Context = { id?: string };
  const requests = requestTemplates().map(({ before, prefix, after }) => ({
    method: 'POST',
    path: pathname,
    headers: { 'content-type': 'application/json' },
    setupRequest(request: Request, context: Context) {
      const id = `${prefix}${(10_000_000 + counter.n++).toString()}`;
      context.id = id;
      request.body = `${before}"${id}"${after}`;
      return request;
    },
    ...(acknowledged
      ? {
          onResponse(status: number, _body: string, context: Context) {
            if (status === 200 && context.id !== undefined) acknowledged.add(context.id);
          },
        }
      : {}),
  }));
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  const cpuBefore = process.cpuUsage();
  const instance = autocannon({ url, connections, duration: durationS, timeout: 30, requests });
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    latencies.push(ms);
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
  });
  const result = await instance;
  const cpu = process.cpuUsage(cpuBefore);
  const clientCpu = (cpu.user + cpu.system) / 1000 / (result.duration * 1000);
  return { latencies, statuses, errors: result.errors, durationS: result.duration, clientCpu };
}

async function runCase(server: ServerName, connections: number, options: IngestOptions): Promise<IngestCase> {
  const dataDir = server === 'receiver' ? await mkdtemp(join(tmpdir(), 'sfm-bench-ingest-')) : null;
  let child: ServerChild | null = null;
  try {
    child = await startServer(SERVERS[server].module, dataDir ? [dataDir] : [], options.serverExecArgv ?? []);
    const counter = { n: 0 };
    const acknowledged = dataDir ? new Set<string>() : undefined;
    const warm =
      options.warmupS > 0 ? await fire(child.info.url, connections, options.warmupS, counter, acknowledged) : null;
    const before = await child.usage();
    const run = await fire(child.info.url, connections, options.durationS, counter, acknowledged);
    const after = await child.usage();
    const responses = run.latencies.length;
    const ok = run.statuses.get(200) ?? 0;
    const result: IngestCase = {
      server,
      connections,
      reqPerSec: responses / run.durationS,
      p50Ms: percentile(run.latencies, 0.5),
      p99Ms: percentile(run.latencies, 0.99),
      responses,
      non200: responses - ok,
      errors: run.errors,
      serverCpu: (after.cpuMs - before.cpuMs) / (run.durationS * 1000),
      clientCpu: run.clientCpu,
    };
    if (dataDir) {
      const c0 = before.extra as CommitCounters;
      const c1 = after.extra as CommitCounters;
      const transactions = c1.count - c0.count;
      result.commits = {
        transactions,
        meanEvents: transactions > 0 ? (c1.events - c0.events) / transactions : 0,
        maxEvents: c1.maxEvents,
        meanMs: transactions > 0 ? (c1.totalMs - c0.totalMs) / transactions : 0,
        maxMs: c1.maxMs,
      };
      if (options.serverExecArgv?.length) await child.stop();
      else await child.kill();
      const answered200 = ok + (warm?.statuses.get(200) ?? 0);
      const storedIds = storedUniqueIds(join(dataDir, HISTORY_FILE));
      let missing = 0;
      for (const id of acknowledged ?? []) if (!storedIds.has(id)) missing++;
      // Every 200 must have had its id recorded, or the check above would miss some.
      const complete = acknowledged?.size === answered200;
      result.durable = { answered200, stored: storedIds.size, missing, ok: complete && missing === 0 };
    }
    return result;
  } finally {
    await child?.kill();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}

interface CommitCounters {
  count: number;
  events: number;
  maxEvents: number;
  totalMs: number;
  maxMs: number;
}

/** The unique ids of the events in a history, read by a connection of our own after the kill. */
function storedUniqueIds(file: string): Set<string> {
  const idFieldByType = new Map(requestTemplates().map((t) => [t.type, t.idField]));
  const ids = new Set<string>();
  const db = new DatabaseSync(file);
  try {
    for (const row of db.prepare('SELECT event_type, payload FROM events').iterate()) {
      const { event_type, payload } = row as { event_type: string; payload: string };
      const field = idFieldByType.get(event_type);
      const value = field ? (JSON.parse(payload) as Record<string, unknown>)[field] : undefined;
      if (typeof value === 'string') ids.add(value);
    }
    return ids;
  } finally {
    db.close();
  }
}

/**
 * Every connection count, the three servers side by side at each (bare, Express, receiver), the
 * whole sweep repeated `rounds` times: this machine may be shared, and the median of interleaved
 * rounds is steadier than one long run.
 */
export async function runIngestBench(options: IngestOptions & { rounds: number }): Promise<IngestCase[]> {
  const cases: IngestCase[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    for (const connections of options.connections) {
      for (const server of options.servers ?? (['bare', 'express', 'receiver'] as const)) {
        const result = await runCase(server, connections, options);
        options.log(
          `ingest round ${round}/${options.rounds}: ${SERVERS[server].label} at ${connections} connections: ` +
            `${Math.round(result.reqPerSec)} req/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms` +
            (result.durable
              ? `, ${result.durable.answered200 - result.durable.missing}/${result.durable.answered200} acknowledged events stored`
              : '') +
            (result.commits ? `, ${result.commits.meanEvents.toFixed(1)} events per commit` : ''),
        );
        cases.push(result);
      }
    }
  }
  return cases;
}

export interface IngestSummary {
  server: ServerName;
  connections: number;
  rounds: number;
  /** Medians over the rounds. */
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  serverCpu: number;
  clientCpu: number;
  /** Every request of every round answered, none with an error or a status other than 200. */
  allOk: boolean;
  /** (a) only: every event answered 200, in every round, was in the history after SIGKILL. */
  durable?: boolean;
  meanEventsPerCommit?: number;
}

export function summarize(cases: readonly IngestCase[]): IngestSummary[] {
  const groups = new Map<string, IngestCase[]>();
  for (const c of cases) {
    const key = `${c.server}:${c.connections}`;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  return [...groups.values()].map((group) => {
    const first = group[0] as IngestCase;
    const median = (pick: (c: IngestCase) => number) => percentile(group.map(pick), 0.5);
    const summary: IngestSummary = {
      server: first.server,
      connections: first.connections,
      rounds: group.length,
      reqPerSec: median((c) => c.reqPerSec),
      p50Ms: median((c) => c.p50Ms),
      p99Ms: median((c) => c.p99Ms),
      serverCpu: median((c) => c.serverCpu),
      clientCpu: median((c) => c.clientCpu),
      allOk: group.every((c) => c.non200 === 0 && c.errors === 0),
    };
    if (first.durable) summary.durable = group.every((c) => c.durable?.ok === true);
    if (first.commits) summary.meanEventsPerCommit = median((c) => c.commits?.meanEvents ?? 0);
    return summary;
  });
}
