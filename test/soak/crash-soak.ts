/**
 * Crash soak (issue 7): not part of `npm test`. Run it by hand:
 *
 *   node test/soak/crash-soak.ts [--rounds 300] [--events 150] [--concurrency 12] [--seed N] [--keep]
 *   npm run soak:crash -- --rounds 500
 *
 * Each round kills `serve` (the real CLI, in its own process) with SIGKILL at a random moment while
 * `--concurrency` senders stream events into it, restarts it on the same history, checks that every
 * acknowledged event is stored exactly once (integrity check, full-text entries, no strays), then
 * retries what was not acknowledged and checks every event of the round is stored once. The round
 * is test/reliability/crash-rounds.ts, the same one `npm test` runs a few times.
 *
 * Progress goes to stderr; one JSON summary to stdout. Exits 0 only if no round found a problem.
 * `--seed` replays a schedule; `--keep` leaves the history in place for a post-mortem.
 */
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { tempDir } from '../helpers/fixtures.ts';
import { runCrashRounds } from '../reliability/crash-rounds.ts';

const { values: flags } = parseArgs({
  options: {
    rounds: { type: 'string', default: '300' },
    events: { type: 'string', default: '150' },
    concurrency: { type: 'string', default: '12' },
    seed: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
  strict: true,
});

function whole(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    process.stderr.write(`crash-soak: --${name} must be a whole number from ${min} to ${max}\n`);
    process.exit(2);
  }
  return n;
}

const rounds = whole('rounds', flags.rounds, 1, 100_000);
const concurrency = whole('concurrency', flags.concurrency, 1, 256);
const eventsPerRound = whole('events', flags.events, concurrency + 1, 100_000);
const seed = flags.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : whole('seed', flags.seed, 0, 2 ** 31);
const dataDir = tempDir();
const started = Date.now();

process.stderr.write(`crash-soak: ${rounds} rounds of ${eventsPerRound} events, seed ${seed}, history ${dataDir}\n`);
let storedUnacked = 0;
let inFlightAtKill = 0;
const summary = await runCrashRounds({
  dataDir,
  rounds,
  eventsPerRound,
  concurrency,
  seed,
  onRound(report) {
    storedUnacked += report.storedUnacked;
    inFlightAtKill += report.inFlightAtKill;
    if (report.problems.length > 0) {
      process.stderr.write(`round ${report.round}: ${report.problems.length} problems: ${report.problems[0]}\n`);
    } else if (report.round % 10 === 0 || report.round === rounds) {
      process.stderr.write(`round ${report.round}/${rounds} clean (${Math.round((Date.now() - started) / 1000)} s)\n`);
    }
  },
});

const result = {
  seed,
  rounds: summary.rounds.length,
  eventsChecked: summary.eventsChecked,
  acknowledgedBeforeKills: summary.rounds.reduce((sum, r) => sum + r.acked, 0),
  inFlightAtKills: inFlightAtKill,
  storedButNotAcknowledged: storedUnacked,
  retried: summary.rounds.reduce((sum, r) => sum + r.retried, 0),
  problems: summary.problems.slice(0, 50),
  problemCount: summary.problems.length,
  seconds: Math.round((Date.now() - started) / 1000),
  history: flags.keep ? dataDir : null,
};
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
if (!flags.keep) rmSync(dataDir, { recursive: true, force: true });
process.exitCode = summary.problems.length === 0 ? 0 : 1;
