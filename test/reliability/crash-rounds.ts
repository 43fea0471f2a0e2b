import { Agent, request } from 'node:http';
import { type ServeProcess, startServe } from '../helpers/cli.ts';
import { auditHistory, countByField, seededRandom } from './support.ts';

/**
 * Crash rounds against the real command line, shared by test/reliability/crash.test.ts (a few
 * rounds) and test/soak/crash-soak.ts (hundreds). One round:
 *   1. `serve` is receiving; `concurrency` senders post distinct events over keep-alive
 *      connections, as the tunnel would;
 *   2. once a random number of them has been acknowledged, plus 0–3 ms, `serve` gets SIGKILL
 *      (requests in flight are cut off mid-way, some before and some after their commit);
 *   3. `serve` starts again on the same history (SQLite recovers its WAL), and the history is
 *      read by a connection of its own: every event that got a 200 must be there exactly once,
 *      nothing may be there that was never sent, SQLite's integrity check must pass and every
 *      event must have its full-text entry;
 *   4. what was not acknowledged is sent again, as SingleFile retries; every retry must get a 200
 *      (ok, or duplicate when it had been stored before the kill), and then every event sent in
 *      the round is stored exactly once.
 * The restarted `serve` is the next round's, so the history carries every earlier crash with it.
 */

export interface CrashRunOptions {
  dataDir: string;
  rounds: number;
  eventsPerRound: number;
  concurrency: number;
  seed: number;
  /** Told after each round. */
  onRound?: (report: RoundReport) => void;
}

export interface RoundReport {
  round: number;
  sent: number;
  /** Answered 200 before the kill. */
  acked: number;
  /** Started but not answered when the process died. */
  inFlightAtKill: number;
  /** Not acknowledged, yet found stored after the restart (committed just before the kill). */
  storedUnacked: number;
  /** Sent again after the restart. */
  retried: number;
  /** Everything that broke the promise; empty when the round is clean. */
  problems: string[];
}

export interface CrashSummary {
  rounds: RoundReport[];
  eventsChecked: number;
  problems: string[];
}

const SERVE_ARGS = ['--no-dashboard'];

export async function runCrashRounds(options: CrashRunOptions): Promise<CrashSummary> {
  const random = seededRandom(options.seed);
  const reports: RoundReport[] = [];
  let serve = await startServe(options.dataDir, SERVE_ARGS);
  try {
    for (let round = 1; round <= options.rounds; round++) {
      const events = Array.from({ length: options.eventsPerRound }, (_, i) => {
        // Letters and digits only: one full-text token, so the index can be checked per event.
        const orderId = `crash${options.seed}r${round}e${i}`;
        const body = JSON.stringify({
          event_type: 'order.completed',
          order_id: orderId,
          entity_id: 'ent_crash',
          status: 'completed',
          timestamp: new Date().toISOString(),
        });
        return { orderId, body };
      });
      const killAtAck = 1 + Math.floor(random() * Math.max(1, options.eventsPerRound - options.concurrency));
      const outcome = await sendUntilKilled(serve, events, options.concurrency, killAtAck, Math.floor(random() * 4));
      serve = await startServe(options.dataDir, SERVE_ARGS);

      const problems: string[] = [];
      const before = auditHistory(options.dataDir);
      checkHistory(before, problems, 'after the restart');
      const counts = countByField(before, 'order_id');
      for (const id of outcome.acked) {
        const n = counts.get(id) ?? 0;
        if (n !== 1) problems.push(`${id} was acknowledged but is stored ${n} times`);
      }
      const roundIds = new Set(events.map((e) => e.orderId));
      const storedUnacked = events.filter((e) => !outcome.acked.has(e.orderId) && counts.has(e.orderId)).length;
      for (const [id, n] of counts) {
        if (id.startsWith(`crash${options.seed}r${round}e`) && !roundIds.has(id)) problems.push(`${id} was never sent`);
        if (n > 1) problems.push(`${id} is stored ${n} times`);
      }

      const unacked = events.filter((e) => !outcome.acked.has(e.orderId));
      const retries = await postAll(serve.ready.localUrl, unacked, options.concurrency);
      for (const [id, status] of retries) {
        if (status !== 200) problems.push(`the retry of ${id} was answered ${status}`);
      }
      const after = auditHistory(options.dataDir);
      checkHistory(after, problems, 'after the retries');
      const finalCounts = countByField(after, 'order_id');
      for (const id of roundIds) {
        const n = finalCounts.get(id) ?? 0;
        if (n !== 1) problems.push(`${id} is stored ${n} times after the retries`);
      }

      const report: RoundReport = {
        round,
        sent: events.length,
        acked: outcome.acked.size,
        inFlightAtKill: outcome.inFlightAtKill,
        storedUnacked,
        retried: unacked.length,
        problems,
      };
      reports.push(report);
      options.onRound?.(report);
    }
  } finally {
    await serve.stop('SIGTERM');
  }
  return {
    rounds: reports,
    eventsChecked: reports.reduce((sum, r) => sum + r.sent, 0),
    problems: reports.flatMap((r) => r.problems.map((p) => `round ${r.round}: ${p}`)),
  };
}

function checkHistory(audit: ReturnType<typeof auditHistory>, problems: string[], when: string): void {
  if (audit.integrity !== 'ok') problems.push(`integrity check ${when}: ${audit.integrity}`);
  if (audit.indexed !== audit.rows.length) {
    problems.push(`${when}: ${audit.rows.length} events but ${audit.indexed} full-text entries`);
  }
  for (const row of audit.rows) {
    try {
      JSON.parse(row.payload);
    } catch {
      problems.push(`${when}: event ${row.id} has a payload that is not JSON`);
    }
  }
}

interface SendOutcome {
  acked: Set<string>;
  inFlightAtKill: number;
}

/** Posts with `concurrency` senders until the kill; the senders stop at their first failure. */
async function sendUntilKilled(
  serve: ServeProcess,
  events: ReadonlyArray<{ orderId: string; body: string }>,
  concurrency: number,
  killAtAck: number,
  extraDelayMs: number,
): Promise<SendOutcome> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const acked = new Set<string>();
  let next = 0;
  let inFlight = 0;
  let inFlightAtKill = -1;
  let killed: Promise<unknown> | null = null;
  const kill = () => {
    inFlightAtKill = inFlight;
    killed = serve.stop('SIGKILL');
  };
  const sender = async () => {
    while (next < events.length && killed === null) {
      const event = events[next++] as { orderId: string; body: string };
      inFlight++;
      const status = await post(serve.ready.localUrl, event.body, agent).catch(() => null);
      inFlight--;
      if (status !== 200) return;
      acked.add(event.orderId);
      if (acked.size === killAtAck) setTimeout(kill, extraDelayMs);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, sender));
  // Every event was answered before the kill came due: kill now, the restart is what matters.
  if (killed === null) kill();
  await killed;
  agent.destroy();
  return { acked, inFlightAtKill: Math.max(0, inFlightAtKill) };
}

async function postAll(
  url: string,
  events: ReadonlyArray<{ orderId: string; body: string }>,
  concurrency: number,
): Promise<Map<string, number | null>> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const statuses = new Map<string, number | null>();
  let next = 0;
  const sender = async () => {
    while (next < events.length) {
      const event = events[next++] as { orderId: string; body: string };
      statuses.set(event.orderId, await post(url, event.body, agent).catch(() => null));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, sender));
  agent.destroy();
  return statuses;
}

/** One POST; resolves with the status once the whole answer has arrived, rejects on a cut connection. */
function post(url: string, body: string, agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode ?? 0));
        res.once('error', reject);
        res.once('aborted', () => reject(new Error('aborted')));
      },
    );
    req.once('error', reject);
    req.end(body);
  });
}
