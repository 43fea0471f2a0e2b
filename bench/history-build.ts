/**
 * Builds a synthetic history through the store's own append path (group commit, dedupe,
 * full-text index, synchronous=FULL), in batches as a busy receiver would write them. The store's
 * clock is fed each event's arrival time, so the history spans `spanDays` and ends now.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { HISTORY_FILE } from '../electron/core/monitor.ts';
import { openStore } from '../electron/core/store.ts';
import { syntheticEvents } from './synthetic.ts';

export interface BuildResult {
  events: number;
  stored: number;
  ms: number;
  eventsPerSecond: number;
  /** history.sqlite after the store was closed (WAL checkpointed into it). */
  bytes: number;
}

/** Appends in flight at a time: one group commit each. */
const BATCH = 2_000;

export async function buildHistory(
  dataDir: string,
  count: number,
  options: { spanDays?: number; endMs?: number; seed?: number; log?: (line: string) => void } = {},
): Promise<BuildResult> {
  const file = join(dataDir, HISTORY_FILE);
  // The store reads the clock once per new row, in append order: a queue of arrival times.
  const times: number[] = [];
  let next = 0;
  const store = openStore(file, { now: () => times[next++] ?? Date.now() });
  const started = performance.now();
  let appended = 0;
  let stored = 0;
  let batch: Array<Promise<{ status: string }>> = [];
  const settle = async () => {
    for (const result of await Promise.all(batch)) if (result.status === 'ok') stored++;
    batch = [];
    times.length = 0;
    next = 0;
  };
  const stream = syntheticEvents({
    count,
    endMs: options.endMs ?? Date.now(),
    spanDays: options.spanDays ?? 300,
    seed: options.seed ?? 42,
  });
  for (const { event, rawJson, receivedAt } of stream) {
    times.push(receivedAt);
    batch.push(store.append({ event, rawJson }));
    appended++;
    if (batch.length === BATCH) {
      await settle();
      if (appended % 100_000 === 0) {
        const rate = appended / ((performance.now() - started) / 1000);
        options.log?.(`  ${appended.toLocaleString('en-US')} events, ${Math.round(rate).toLocaleString('en-US')}/s`);
      }
    }
  }
  await settle();
  await store.close();
  const ms = performance.now() - started;
  return { events: appended, stored, ms, eventsPerSecond: appended / (ms / 1000), bytes: statSync(file).size };
}
