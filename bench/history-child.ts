/**
 * The measuring side of the history benchmark, always in a fresh process (forked by
 * bench/history.ts) so that nothing of the build is cached in it:
 *
 *   node bench/history-child.ts startup DATA_DIR   createMonitor + start on the history, timed
 *   node bench/history-child.ts queries DATA_DIR   the app core on the history, queries through
 *                                                  the Monitor API, then the process's memory
 *
 * It answers with one IPC message and exits.
 */
// Like bin/singlefile-monitor.js: compiled code is cached on disk between starts.
import module from 'node:module';

module.enableCompileCache?.();

const [mode, dataDir] = process.argv.slice(2);
if (!process.send || !dataDir || (mode !== 'startup' && mode !== 'queries')) {
  throw new Error('usage (forked): node bench/history-child.ts startup|queries DATA_DIR');
}

if (mode === 'startup') {
  // Everything the CLI's `serve` does to get the receiver listening, imports included.
  const imported = performance.now();
  const { createMonitor } = await import('../electron/core/monitor.ts');
  const created = performance.now();
  const monitor = createMonitor({ dataDir, tunnel: { provider: 'none' } });
  await monitor.start();
  const listening = performance.now();
  process.send({
    importMs: created - imported,
    startMs: listening - created,
    sinceProcessStartMs: listening,
    rssBytes: process.memoryUsage.rss(),
  });
  await monitor.stop();
} else {
  const { runQueries } = await import('./history-queries.ts');
  process.send(await runQueries(dataDir));
}
process.disconnect();
