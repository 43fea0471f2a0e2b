/**
 * Crash safety with the real command line: `serve` is killed with SIGKILL at a random moment while
 * events stream in, and restarted; every event that got a 200 must be stored exactly once (the
 * round is described in crash-rounds.ts). CI runs a few rounds; `npm run soak:crash` runs hundreds.
 * The seed is printed, and CRASH_SEED replays a schedule.
 *
 * What this proves and what it does not: a SIGKILL ends the process, not the machine, so what the
 * kernel already holds survives it even without fsync. These rounds prove the order of things —
 * no 200 before the commit, no half-written event after a recovery, retries stored once — not the
 * fsync itself (that needs a power cut; `synchronous=FULL` in store.ts is what covers it).
 */
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/fixtures.ts';
import { runCrashRounds } from './crash-rounds.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('crash safety: kill -9 while events stream in', () => {
  it('stores every acknowledged event exactly once after each of several kills and restarts', async () => {
    const seed = Number(process.env.CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const dataDir = tempDir();
    dirs.push(dataDir);
    const summary = await runCrashRounds({ dataDir, rounds: 4, eventsPerRound: 150, concurrency: 12, seed });
    const context = `seed ${seed}: ${JSON.stringify(summary.rounds.map(({ problems: _, ...r }) => r))}`;
    expect(summary.problems, context).toEqual([]);
    expect(summary.eventsChecked).toBe(4 * 150);
    // The kills landed mid-stream: something was acknowledged and something was cut off each time.
    for (const round of summary.rounds) {
      expect(round.acked, context).toBeGreaterThan(0);
      expect(round.retried, context).toBeGreaterThan(0);
    }
    expect(
      summary.rounds.some((r) => r.inFlightAtKill > 0),
      context,
    ).toBe(true);
  }, 60_000);
});
