/**
 * The history benchmark: for each size, a synthetic history built through the store's append
 * path, then fresh child processes (bench/history-child.ts) that time the start of the app core
 * on it and run the queries, and report their memory.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BuildResult, buildHistory } from './history-build.ts';
import type { QueryResults } from './history-queries.ts';
import { percentile } from './stats.ts';

export interface StartupRun {
  /** Loading the core's modules (monitor.ts and what it imports). */
  importMs: number;
  /** createMonitor + start(): from nothing to the receiver listening on the history. */
  startMs: number;
  /** From the process's own start (Node's boot, imports included) to listening. */
  sinceProcessStartMs: number;
  /** Resident memory right after the start, before any query. */
  rssBytes: number;
}

export interface HistoryResult {
  events: number;
  build: BuildResult;
  startup: {
    runs: StartupRun[];
    medianStartMs: number;
    maxStartMs: number;
    medianSinceProcessStartMs: number;
    medianRssBytes: number;
  };
  queries: QueryResults;
}

export interface HistoryOptions {
  sizes: readonly number[];
  /** Fresh processes timed for the start (the first warms the compile cache and is not counted). */
  startupRuns: number;
  log: (line: string) => void;
}

const CHILD = new URL('./history-child.ts', import.meta.url);

function runChild<T>(mode: 'startup' | 'queries', dataDir: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = fork(CHILD, [mode, dataDir], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let answer: T | undefined;
    child.once('message', (message) => {
      answer = message as T;
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (answer !== undefined && code === 0) resolve(answer);
      else reject(new Error(`history-child ${mode} exited with ${code}`));
    });
  });
}

export async function runHistoryBench(options: HistoryOptions): Promise<HistoryResult[]> {
  const results: HistoryResult[] = [];
  for (const size of options.sizes) {
    const dataDir = mkdtempSync(join(tmpdir(), 'sfm-bench-history-'));
    try {
      options.log(`history: building ${size.toLocaleString('en-US')} events`);
      const build = await buildHistory(dataDir, size, { log: options.log });
      options.log(
        `  ${Math.round(build.eventsPerSecond).toLocaleString('en-US')} events/s, ` +
          `${(build.bytes / 2 ** 20).toFixed(0)} MB on disk`,
      );
      await runChild<StartupRun>('startup', dataDir); // warms the compile cache, as a second start would be
      const runs: StartupRun[] = [];
      for (let i = 0; i < options.startupRuns; i++) runs.push(await runChild<StartupRun>('startup', dataDir));
      const startMs = runs.map((r) => r.startMs);
      const startup = {
        runs,
        medianStartMs: percentile(startMs, 0.5),
        maxStartMs: Math.max(...startMs),
        medianSinceProcessStartMs: percentile(
          runs.map((r) => r.sinceProcessStartMs),
          0.5,
        ),
        medianRssBytes: percentile(
          runs.map((r) => r.rssBytes),
          0.5,
        ),
      };
      options.log(`  start to listening: median ${startup.medianStartMs.toFixed(0)} ms`);
      options.log('  queries');
      const queries = await runChild<QueryResults>('queries', dataDir);
      results.push({ events: size, build, startup, queries });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  return results;
}
