import { DatabaseSync } from 'node:sqlite';
import type { Logger } from '../../electron/core/log.ts';
import { createMonitor, HISTORY_FILE, type Monitor, type MonitorOptions } from '../../electron/core/monitor.ts';

/**
 * Shared by the reliability tests and the soak scripts: an in-process monitor, a logger that keeps
 * every line, a seeded random source, and an audit of a history file read with a connection of
 * its own (as another process would see it), never through the store under test.
 */

export const historyFile = (dataDir: string) => `${dataDir}/${HISTORY_FILE}`;

export interface CapturedLog extends Logger {
  lines: string[];
  text(): string;
}

/** A Logger that keeps `level scope: message` lines. */
export function captureLogger(): CapturedLog {
  const lines: string[] = [];
  const at = (level: string) => (scope: string, message: string) => {
    lines.push(`${level} ${scope}: ${message}`);
  };
  return { lines, text: () => lines.join('\n'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Starts a monitor on `dataDir` without a tunnel (unless told otherwise); the caller stops it. */
export async function startMonitor(
  dataDir: string,
  options: Partial<MonitorOptions> = {},
): Promise<{ monitor: Monitor; localUrl: string; base: string }> {
  const monitor = createMonitor({ dataDir, tunnel: { provider: 'none' }, ...options });
  const { localUrl } = await monitor.start();
  return { monitor, localUrl, base: new URL(localUrl).origin };
}

/** A small seeded generator (the bench's mulberry32), so that a failing random schedule can be replayed. */
export { prng as seededRandom } from '../../bench/synthetic.ts';

export interface HistoryAudit {
  integrity: string;
  /** Rows of `events`, oldest first. */
  rows: Array<{ id: number; event_type: string; deliveries: number; payload: string }>;
  /** Rows of the full-text index (contentless: one per indexed event). */
  indexed: number;
}

/**
 * Reads a history the way a second process would (read-only, WAL-aware): SQLite's own integrity
 * check, every event row, and how many rows the full-text index holds. A half-written event would
 * show as a failed check, a row without its index entry, or a payload that is not JSON.
 */
export function auditHistory(dataDir: string): HistoryAudit {
  const db = new DatabaseSync(historyFile(dataDir), { readOnly: true });
  try {
    const integrity = (db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check;
    const rows = db
      .prepare('SELECT id, event_type, deliveries, payload FROM events ORDER BY id')
      .all() as unknown as HistoryAudit['rows'];
    const indexed = Number((db.prepare('SELECT count(*) AS n FROM events_fts').get() as { n: number }).n);
    return { integrity, rows, indexed };
  } finally {
    db.close();
  }
}

/** How many rows hold each value of `field` in their payload (rows whose payload lacks it are left out). */
export function countByField(audit: HistoryAudit, field: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const row of audit.rows) {
    const value = (JSON.parse(row.payload) as Record<string, unknown>)[field];
    if (typeof value === 'string') counts.set(value, (counts.get(value) ?? 0) + 1);
  }
  return counts;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
