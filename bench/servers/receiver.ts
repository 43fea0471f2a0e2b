/**
 * Server (a): our receiver as the app runs it, `createMonitor` on a fresh data directory with no
 * tunnel, in its own process: token check, validation, dedupe, durable store (WAL,
 * synchronous=FULL, group commit), 200 after the commit. Flood control (a rate limit, 429) is
 * switched off: it is there to refuse exactly this load.
 *
 *   node bench/servers/receiver.ts DATA_DIR     (forked by bench/ingest.ts)
 *
 * It also listens to the store's commit channel and reports the batch sizes and commit times it
 * saw, so the bench shows whether group commit really groups under load.
 */
import { subscribe } from 'node:diagnostics_channel';
import { createMonitor } from '../../electron/core/monitor.ts';
import { STORE_COMMIT_CHANNEL, type StoreCommit } from '../../electron/core/store.ts';
import { announce } from './child.ts';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: node bench/servers/receiver.ts DATA_DIR');

const commits = { count: 0, events: 0, maxEvents: 0, totalMs: 0, maxMs: 0 };
subscribe(STORE_COMMIT_CHANNEL, (message) => {
  const { events, ms } = message as StoreCommit;
  commits.count++;
  commits.events += events;
  commits.maxEvents = Math.max(commits.maxEvents, events);
  commits.totalMs += ms;
  commits.maxMs = Math.max(commits.maxMs, ms);
});

const monitor = createMonitor({ dataDir, tunnel: { provider: 'none' } });
// Flood control exists to refuse exactly what a benchmark does (thousands of deliveries a
// second); with it on, most answers would be 429s that never touch the store.
await monitor.updateSettings({ security: { rateLimit: { perMinute: null } } });
const { localUrl } = await monitor.start();
announce({ url: localUrl, dataDir }, { extra: () => ({ ...commits }), stop: () => monitor.stop() });
