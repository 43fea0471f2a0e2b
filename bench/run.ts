/**
 * `npm run bench`: the ingest benchmark against named baselines, then the history benchmark at
 * 100,000 and 1,000,000 events. Prints tables and the targets of issue 6 on stdout (progress on
 * stderr), and writes everything to bench/results/latest.json with the machine it ran on.
 *
 *   npm run bench                       the full run (4 to 5 minutes on 2 cores)
 *   npm run bench -- --quick            a few seconds per case, history of 100,000 only
 *   npm run bench -- --only ingest      or --only history
 *   npm run bench -- --profile DIR      CPU profiles of the server children (node --cpu-prof)
 *
 * Figures, not assertions: nothing here fails because of a number. The run fails (exit 1) only if
 * the receiver acknowledged an event that was not in its history afterwards, or a server did not
 * answer 200.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type HistoryResult, runHistoryBench } from './history.ts';
import { type IngestCase, type IngestSummary, runIngestBench, SERVERS, summarize } from './ingest.ts';

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    profile: { type: 'string' },
  },
  strict: true,
});
if (flags.only !== undefined && flags.only !== 'ingest' && flags.only !== 'history') {
  process.stderr.write('bench: --only takes ingest or history\n');
  process.exit(2);
}

const quick = flags.quick;
const log = (line: string) => process.stderr.write(`${line}\n`);
const RESULTS = new URL('./results/', import.meta.url);

const machine = {
  date: new Date().toISOString(),
  node: process.version,
  platform: `${os.platform()} ${os.release()} ${os.arch()}`,
  cpus: os.availableParallelism(),
  cpuModel: os.cpus()[0]?.model ?? 'unknown',
  memoryGB: Math.round(os.totalmem() / 2 ** 30),
  loadAverageAtStart: os.loadavg().map((n) => Number(n.toFixed(2))),
};
log(`bench: ${machine.cpus} cores (${machine.cpuModel}), Node ${machine.node}, load ${machine.loadAverageAtStart}`);
if ((machine.loadAverageAtStart[0] ?? 0) > machine.cpus / 2) {
  log('bench: this machine is busy (load average above half its cores); figures will be noisy');
}

let ingest: { cases: IngestCase[]; summary: IngestSummary[] } | null = null;
if (flags.only !== 'history') {
  const cases = await runIngestBench({
    connections: [1, 16, 64],
    durationS: quick ? 3 : 5,
    warmupS: 1,
    rounds: quick ? 1 : 3,
    log,
    ...(flags.profile ? { serverExecArgv: ['--cpu-prof', `--cpu-prof-dir=${flags.profile}`] } : {}),
  });
  ingest = { cases, summary: summarize(cases) };
}

let history: HistoryResult[] = [];
if (flags.only !== 'ingest') {
  history = await runHistoryBench({ sizes: quick ? [100_000] : [100_000, 1_000_000], startupRuns: 5, log });
}

// ---- report ------------------------------------------------------------------------------------

const lines: string[] = [];
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits });
const mb = (bytes: number) => `${fmt(bytes / 2 ** 20)} MB`;

function table(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  lines.push(line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line), '');
}

lines.push(
  `SingleFile Monitor benchmark, ${machine.date}`,
  `${machine.cpus} cores (${machine.cpuModel}), ${machine.memoryGB} GB, ${machine.platform}, Node ${machine.node}`,
  `load average at start ${machine.loadAverageAtStart.join(' ')}${quick ? ', --quick' : ''}`,
  '',
);

const summaryOf = (server: string, connections: number) =>
  ingest?.summary.find((s) => s.server === server && s.connections === connections);

if (ingest) {
  lines.push(
    'Ingest: autocannon in the bench process, each server forked into a child process of its own; medians of',
    `${ingest.summary[0]?.rounds ?? 0} interleaved round(s). All three get the same requests: the eleven fixtures in turn,`,
    'each with its id field made unique per request, so every request is a new event for (a) (no cheap duplicates).',
    '(a) is createMonitor on a fresh data directory, no tunnel, flood control off; "durable": after SIGKILL every',
    'event answered 200 was in the history.',
  );
  table(
    ['server', 'conns', 'req/s', 'p50 ms', 'p99 ms', 'a/b', 'a/c', 'server CPU', 'all 200', 'durable'],
    ingest.summary.map((s) => {
      const b = summaryOf('express', s.connections);
      const c = summaryOf('bare', s.connections);
      const isReceiver = s.server === 'receiver';
      return [
        SERVERS[s.server].label,
        String(s.connections),
        fmt(s.reqPerSec),
        s.p50Ms.toFixed(2),
        s.p99Ms.toFixed(2),
        isReceiver && b ? (s.reqPerSec / b.reqPerSec).toFixed(2) : '',
        isReceiver && c ? (s.reqPerSec / c.reqPerSec).toFixed(2) : '',
        `${(s.serverCpu * 100).toFixed(0)}%`,
        s.allOk ? 'yes' : 'NO',
        s.durable === undefined ? '' : s.durable ? 'yes' : 'NO',
      ];
    }),
  );
}

for (const h of history) {
  lines.push(
    `History of ${fmt(h.events)} events: built at ${fmt(h.build.eventsPerSecond)} events/s ` +
      `(${fmt(h.build.ms / 1000, 1)} s, store append path), ${mb(h.build.bytes)} on disk; ` +
      `start to listening ${h.startup.medianStartMs.toFixed(0)} ms median (max ${h.startup.maxStartMs.toFixed(0)}, ` +
      `${h.startup.medianSinceProcessStartMs.toFixed(0)} ms from process start); ` +
      `RSS ${mb(h.startup.medianRssBytes)} after start, ${mb(h.queries.rssBytes)} after the queries.`,
  );
  table(
    ['query', 'p50 ms', 'p95 ms', 'runs', 'matches'],
    Object.values(h.queries.queries).map((q) => [
      q.what,
      q.p50Ms.toFixed(2),
      q.p95Ms.toFixed(2),
      String(q.runs),
      q.matches === undefined ? '' : fmt(q.matches),
    ]),
  );
}

// ---- targets (issue 6) -------------------------------------------------------------------------

interface Target {
  target: string;
  reached: string;
  met: boolean | null;
}
const targets: Target[] = [];
const a64 = summaryOf('receiver', 64);
const b64 = summaryOf('express', 64);
const c64 = summaryOf('bare', 64);
const a16 = summaryOf('receiver', 16);
if (a64 && b64 && c64 && a16) {
  const vsB = a64.reqPerSec / b64.reqPerSec;
  const vsC = a64.reqPerSec / c64.reqPerSec;
  targets.push(
    {
      target: 'ingest at 64 connections ≥ 1.0× Express, every 200 durable',
      reached: `${vsB.toFixed(2)}× (${fmt(a64.reqPerSec)} vs ${fmt(b64.reqPerSec)} req/s), durable: ${a64.durable ? 'yes' : 'NO'}`,
      met: vsB >= 1 && a64.durable === true,
    },
    {
      target: 'ingest at 64 connections ≥ 0.6× bare node:http',
      reached: `${vsC.toFixed(2)}× (${fmt(c64.reqPerSec)} req/s bare)`,
      met: vsC >= 0.6,
    },
    { target: 'p99 ≤ 10 ms at 16 connections', reached: `${a16.p99Ms.toFixed(2)} ms`, met: a16.p99Ms <= 10 },
  );
}
const largest = history.at(-1);
if (largest) {
  const at = largest.events === 1_000_000 ? '' : ` (at ${fmt(largest.events)} events, not 1M)`;
  const q = largest.queries.queries;
  const p95 = (name: string) => q[name]?.p95Ms ?? Number.NaN;
  targets.push(
    { target: `full-text p95 ≤ 20 ms${at}`, reached: `${p95('fullText').toFixed(2)} ms`, met: p95('fullText') <= 20 },
    {
      target: `filtered page p95 ≤ 10 ms${at}`,
      reached: `${p95('filteredPage').toFixed(2)} ms`,
      met: p95('filteredPage') <= 10,
    },
    { target: `id lookup p95 ≤ 2 ms${at}`, reached: `${p95('idLookup').toFixed(2)} ms`, met: p95('idLookup') <= 2 },
    {
      target: `resident memory ≤ 150 MB${at}`,
      reached: `${mb(largest.queries.rssBytes)} after the queries (${mb(largest.startup.medianRssBytes)} after start)`,
      met: largest.queries.rssBytes <= 150 * 2 ** 20,
    },
    {
      target: `start to listening ≤ 300 ms${at}`,
      reached: `${largest.startup.medianStartMs.toFixed(0)} ms (${largest.startup.medianSinceProcessStartMs.toFixed(0)} ms with Node's boot)`,
      met: largest.startup.medianStartMs <= 300,
    },
  );
}
if (targets.length > 0) {
  lines.push('Targets (issue 6)');
  table(
    ['target', 'reached', 'met'],
    targets.map((t) => [t.target, t.reached, t.met ? 'yes' : 'no']),
  );
}

const machineAtEnd = { ...machine, loadAverageAtEnd: os.loadavg().map((n) => Number(n.toFixed(2))) };
mkdirSync(RESULTS, { recursive: true });
const file = new URL('latest.json', RESULTS);
writeFileSync(file, `${JSON.stringify({ machine: machineAtEnd, quick, ingest, history, targets }, null, 2)}\n`);
process.stdout.write(`${lines.join('\n')}\nResults: ${fileURLToPath(file)}\n`);

const broken = ingest?.summary.some((s) => !s.allOk || s.durable === false) ?? false;
if (broken) {
  process.stderr.write('bench: a server answered something other than 200, or an acknowledged event was lost\n');
  process.exitCode = 1;
}
