/**
 * The queries of the history benchmark, run through the Monitor API of a started app core
 * (createMonitor + start, no tunnel) as the window would call them: the request is validated, the
 * page is built, 200 events to a page as the History view asks for. Each query is repeated with
 * varying parameters (different words, ids, date windows), so no answer is served from a warm
 * path that a person would not hit.
 */
import { DatabaseSync } from 'node:sqlite';
import { createMonitor, HISTORY_FILE } from '../electron/core/monitor.ts';
import { timeRepeated } from './stats.ts';
import { prng } from './synthetic.ts';

export interface QueryTiming {
  p50Ms: number;
  p95Ms: number;
  runs: number;
  /** What the query was, for the table. */
  what: string;
  /** Events matching, for the full-text queries (median over the parameters used). */
  matches?: number;
}

export interface QueryResults {
  events: number;
  queries: Record<string, QueryTiming>;
  /** Resident memory of this process after the queries, with the history open and the receiver listening. */
  rssBytes: number;
  /** The highest resident memory the process had. */
  maxRssBytes: number;
  heapUsedBytes: number;
}

/** The History view's page size (renderer/hooks/useEventList.ts). */
const PAGE = 200;
const RUNS = 200;
const WARMUP = 10;
const DAY_MS = 86_400_000;

/** Words people search for: places, document and company names, as the synthetic events use them. */
const WORDS = ['Delaware', 'Certificate', 'Northwind', 'California', 'Annual', 'Wyoming', 'Acme', 'Formation'];

export async function runQueries(dataDir: string): Promise<QueryResults> {
  const monitor = createMonitor({ dataDir, tunnel: { provider: 'none' } });
  await monitor.start();
  try {
    const status = await monitor.getStatus({});
    const events = status.events.total;
    const newest = Date.parse(status.events.lastReceivedAt ?? new Date().toISOString());
    const random = prng(7);

    // Order ids that exist, picked through the API at random points in the history.
    const orderIds: string[] = [];
    for (let i = 0; orderIds.length < 50 && i < 500; i++) {
      const until = new Date(newest - random() * 280 * DAY_MS).toISOString();
      const page = await monitor.listEvents({ types: ['order.submitted'], until, limit: 1 });
      const id = page.events[0]?.payload.order_id;
      if (typeof id === 'string') orderIds.push(id);
    }
    if (orderIds.length === 0) throw new Error('the history has no order.submitted events to look up');

    const windows = Array.from({ length: 50 }, () => {
      const until = newest - random() * 270 * DAY_MS;
      return { since: new Date(until - 30 * DAY_MS).toISOString(), until: new Date(until).toISOString() };
    });
    const pick = <T>(list: readonly T[], i: number): T => list[i % list.length] as T;

    const queries: Record<string, QueryTiming> = {
      fullText: {
        what: `full-text word (${WORDS.length} words in turn), first page`,
        ...(await timeRepeated(RUNS, WARMUP, (i) => monitor.listEvents({ text: pick(WORDS, i), limit: PAGE }))),
      },
      idLookup: {
        what: 'an order id (ord_…) typed in the search box',
        ...(await timeRepeated(RUNS, WARMUP, (i) => monitor.listEvents({ text: pick(orderIds, i), limit: PAGE }))),
      },
      filteredPage: {
        what: 'type order.completed within a 30-day window, first page',
        ...(await timeRepeated(RUNS, WARMUP, (i) =>
          monitor.listEvents({ types: ['order.completed'], ...pick(windows, i), limit: PAGE }),
        )),
      },
      firstPage: {
        what: 'no filter, first page',
        ...(await timeRepeated(RUNS, WARMUP, () => monitor.listEvents({ limit: PAGE }))),
      },
      counts: {
        what: 'getStats, 30 days: counts by category and per day (Stats view)',
        ...(await timeRepeated(RUNS / 4, 3, () => monitor.getStats({ days: 30, tzOffsetMinutes: 0 }))),
      },
      status: {
        what: 'getStatus: totals and unread (every status push)',
        ...(await timeRepeated(RUNS, WARMUP, () => monitor.getStatus({}))),
      },
    };
    const memory = process.memoryUsage();
    const results: QueryResults = {
      events,
      queries,
      rssBytes: memory.rss,
      maxRssBytes: process.resourceUsage().maxRSS * 1024,
      heapUsedBytes: memory.heapUsed,
    };
    await monitor.stop();
    // Context for the table, counted after the memory was read: how many events each word matches.
    (queries.fullText as QueryTiming).matches = medianMatches(dataDir, WORDS);
    (queries.idLookup as QueryTiming).matches = medianMatches(dataDir, orderIds.slice(0, 10));
    return results;
  } catch (error) {
    await monitor.stop();
    throw error;
  }
}

function medianMatches(dataDir: string, words: readonly string[]): number {
  const db = new DatabaseSync(`${dataDir}/${HISTORY_FILE}`, { readOnly: true });
  try {
    const count = db.prepare('SELECT count(*) AS n FROM events_fts WHERE events_fts MATCH ?');
    const counts = words.map((w) => Number((count.get(`"${w}"*`) as { n: number }).n)).sort((a, b) => a - b);
    return counts[Math.floor(counts.length / 2)] ?? 0;
  } finally {
    db.close();
  }
}
