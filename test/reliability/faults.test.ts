/**
 * Storage faults, injected from outside the store while the real `serve` runs in its own process:
 * the receiver must answer 503 (with Retry-After) while the history cannot be written, store no
 * half event, keep answering health checks, and take the retried events once the fault clears,
 * without a restart.
 *
 * How each fault is made, and where it can be made (a test that cannot make its fault is skipped,
 * and says why in its name):
 * - disk full, anywhere prlimit(1) exists: RLIMIT_FSIZE set on the running serve at the current size
 *   of its WAL, so the next commit cannot grow it (EFBIG → SQLITE_IOERR); lifted to clear it;
 * - disk full for real, where tmpfs can be mounted (root): the history on a 2 MiB tmpfs filled up
 *   by another file (ENOSPC → SQLITE_FULL); the file is deleted to clear it;
 * - the history made read-only while serve runs, where `chattr +i` works (root on ext4 and the
 *   like): the immutable flag refuses writes even on open files (EPERM); cleared with `chattr -i`.
 *   (chmod cannot do this: it does not affect files that are already open);
 * - a read-only history at start: chattr +i as root, chmod 444 otherwise;
 * - another writer holding the write lock: a second SQLite connection in BEGIN IMMEDIATE (in this
 *   process too, where the store's lock waits can be watched on its diagnostics channel).
 */
import { execFileSync } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../electron/core/log.ts';
import { createReceiver } from '../../electron/core/receiver.ts';
import {
  openStore,
  STORE_COMMIT_CHANNEL,
  STORE_LOCKED_CHANNEL,
  type StoreCommit,
  type StoreLocked,
} from '../../electron/core/store.ts';
import { type ServeProcess, startServe } from '../helpers/cli.ts';
import { tempDir } from '../helpers/fixtures.ts';
import { post, send } from '../helpers/http.ts';
import { auditHistory, countByField, historyFile, sleep, startMonitor } from './support.ts';

const SERVE_ARGS = ['--no-dashboard'];
const isRoot = process.getuid?.() === 0;
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function newDir(): string {
  const dir = tempDir();
  dirs.push(dir);
  return dir;
}

function succeeds(command: string, args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const hasPrlimit = process.platform === 'linux' && succeeds('prlimit', ['--version']);
const canMountTmpfs = (() => {
  if (!isRoot || process.platform !== 'linux') return false;
  const probe = tempDir();
  const mounted = succeeds('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe]);
  if (mounted) succeeds('umount', [probe]);
  rmSync(probe, { recursive: true, force: true });
  return mounted;
})();
const canChattr = (() => {
  if (!isRoot || process.platform !== 'linux') return false;
  const probe = tempDir();
  const file = join(probe, 'probe');
  writeFileSync(file, 'x');
  let works = false;
  if (succeeds('chattr', ['+i', file])) {
    try {
      writeFileSync(file, 'y');
    } catch {
      works = true;
    }
    succeeds('chattr', ['-i', file]);
  }
  rmSync(probe, { recursive: true, force: true });
  return works;
})();

/** The pid of the `serve` running on `dataDir` (the helper keeps its child to itself). */
function pidOfServe(dataDir: string): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (args.includes('serve') && args.includes(dataDir)) return Number(entry);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  throw new Error(`no serve process found for ${dataDir}`);
}

const eventBody = (id: string) => JSON.stringify({ event_type: 'document.created', document_id: id });
const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

/**
 * The common course of a fault: events before it are stored; during it every answer is 200 or
 * 503 (never a hang), at least one is 503 with Retry-After, health checks pass and serve stays up;
 * once it clears, the events refused are sent again and stored as new (`ok`, not `duplicate`:
 * nothing of them was kept), and the history holds each event exactly once, whole.
 */
async function throughFault(
  serve: ServeProcess,
  dataDir: string,
  inject: () => void,
  clear: () => void,
  tag: string,
  /** What serve logs for the refused writes: proves the fault is the one meant. */
  logged: RegExp,
): Promise<void> {
  const url = serve.ready.localUrl;
  const base = new URL(url).origin;
  for (const id of ids(`${tag}before`, 10)) expect((await post(url, eventBody(id))).status).toBe(200);

  inject();
  let answers: Array<{ id: string; status: number; retryAfter: unknown }>;
  try {
    answers = await Promise.all(
      ids(`${tag}during`, 20).map(async (id) => {
        const res = await post(url, eventBody(id));
        return { id, status: res.status, retryAfter: res.headers['retry-after'] };
      }),
    );
    expect((await send(`${base}/healthz`)).status).toBe(200);
  } finally {
    clear();
  }
  expect(answers.filter((a) => a.status !== 200 && a.status !== 503)).toEqual([]);
  const refused = answers.filter((a) => a.status === 503);
  expect(refused.length).toBeGreaterThan(0);
  for (const a of refused) expect(a.retryAfter).toMatch(/^\d+$/);
  expect(serve.stderr()).toMatch(logged);

  // SingleFile retries; the fault is gone, so each retry is stored, and stored for the first time.
  for (const { id } of refused) {
    const res = await post(url, eventBody(id));
    expect([id, res.status, JSON.parse(res.body)]).toEqual([id, 200, { status: 'ok' }]);
  }
  const audit = auditHistory(dataDir);
  expect(audit.integrity).toBe('ok');
  expect(audit.indexed).toBe(audit.rows.length);
  const counts = countByField(audit, 'document_id');
  for (const id of [...ids(`${tag}before`, 10), ...ids(`${tag}during`, 20)])
    expect([id, counts.get(id)]).toEqual([id, 1]);
  expect(audit.rows).toHaveLength(30);
}

describe('storage faults while serve runs', () => {
  it.skipIf(!hasPrlimit)(
    'disk full (a file size limit on the WAL): 503 while it lasts, then 200 for the retries',
    async () => {
      const dataDir = newDir();
      const serve = await startServe(dataDir, SERVE_ARGS);
      try {
        const pid = pidOfServe(dataDir);
        await throughFault(
          serve,
          dataDir,
          () => {
            const walSize = statSync(`${historyFile(dataDir)}-wal`).size;
            execFileSync('prlimit', ['--pid', String(pid), `--fsize=${walSize}:`]);
          },
          () => execFileSync('prlimit', ['--pid', String(pid), '--fsize=unlimited:']),
          'fsize',
          /answered 503: .*disk I\/O error/,
        );
      } finally {
        expect(await serve.stop()).toBe(0);
      }
    },
  );

  it.skipIf(!canMountTmpfs)('disk full (a full tmpfs): 503 while it lasts, then 200 once space is freed', async () => {
    const mountPoint = newDir();
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mountPoint]);
    try {
      const dataDir = join(mountPoint, 'data');
      mkdirSync(dataDir);
      const serve = await startServe(dataDir, SERVE_ARGS);
      const filler = join(mountPoint, 'filler');
      try {
        await throughFault(
          serve,
          dataDir,
          () => {
            try {
              writeFileSync(filler, Buffer.alloc(4 * 1024 * 1024));
            } catch (error) {
              if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
            }
          },
          () => rmSync(filler, { force: true }),
          'tmpfs',
          /answered 503: .*database or disk is full/,
        );
      } finally {
        expect(await serve.stop()).toBe(0);
      }
    } finally {
      execFileSync('umount', [mountPoint]);
    }
  });

  it.skipIf(!canChattr)('the history made read-only while serve runs: 503, then 200 once writable', async () => {
    const dataDir = newDir();
    const serve = await startServe(dataDir, SERVE_ARGS);
    const files = [historyFile(dataDir), `${historyFile(dataDir)}-wal`];
    try {
      await throughFault(
        serve,
        dataDir,
        () => execFileSync('chattr', ['+i', ...files]),
        () => execFileSync('chattr', ['-i', ...files]),
        'immutable',
        /answered 503: .*disk I\/O error/,
      );
    } finally {
      succeeds('chattr', ['-i', ...files]);
      expect(await serve.stop()).toBe(0);
    }
  });

  it('another writer holding the write lock: 503 once the lock wait passes, then 200', async () => {
    const dataDir = newDir();
    const serve = await startServe(dataDir, SERVE_ARGS);
    const other = new DatabaseSync(historyFile(dataDir));
    try {
      const url = serve.ready.localUrl;
      expect((await post(url, eventBody('lock0'))).status).toBe(200);
      other.exec('BEGIN IMMEDIATE');
      // Held for longer than the store waits in all (5 s): the delivery is refused, to be retried.
      const locked = await post(url, eventBody('lock1'));
      other.exec('COMMIT');
      expect(locked.status).toBe(503);
      expect(locked.headers['retry-after']).toMatch(/^\d+$/);
      expect(serve.stderr()).toMatch(/answered 503: .*database is locked/);
      expect(JSON.parse((await post(url, eventBody('lock1'))).body)).toEqual({ status: 'ok' });
      const audit = auditHistory(dataDir);
      expect([...countByField(audit, 'document_id')]).toEqual([
        ['lock0', 1],
        ['lock1', 1],
      ]);
    } finally {
      if (other.isTransaction) other.exec('ROLLBACK');
      other.close();
      expect(await serve.stop()).toBe(0);
    }
  }, 20_000);
});

describe('the write lock held by another connection, seen from inside the monitor', () => {
  const running: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const stop of running.splice(0).reverse()) await stop();
  });

  /** A monitor on a fresh history, a second connection to it, and the store's lock waits as they happen. */
  async function withOtherWriter() {
    const dataDir = newDir();
    const started = await startMonitor(dataDir);
    const other = new DatabaseSync(historyFile(dataDir));
    const waits: StoreLocked[] = [];
    const onLocked = (message: unknown) => waits.push(message as StoreLocked);
    subscribe(STORE_LOCKED_CHANNEL, onLocked);
    running.push(async () => {
      unsubscribe(STORE_LOCKED_CHANNEL, onLocked);
      if (other.isTransaction) other.exec('ROLLBACK');
      other.close();
      await started.monitor.stop();
    });
    /** Resolves once the store reports `count` appends waiting for the lock; fails if `answers` settle first. */
    const waiting = async (count: number, answers: Promise<unknown>) => {
      let settled = false;
      void answers.finally(() => {
        settled = true;
      });
      while (!waits.some((w) => w.waiting >= count)) {
        if (settled) throw new Error(`answered before ${count} appends were waiting for the lock`);
        await sleep(5);
      }
    };
    return { ...started, dataDir, other, waiting };
  }

  it('keeps answering health checks while a delivery waits for the lock, then stores it', async () => {
    const { localUrl, base, dataDir, other, waiting } = await withOtherWriter();
    other.exec('BEGIN IMMEDIATE');
    let answered = false;
    const delivery = post(localUrl, eventBody('wait0')).finally(() => {
      answered = true;
    });
    await waiting(1, delivery);
    // The commit waits on a timer, not inside SQLite: the event loop serves everyone meanwhile.
    for (let i = 0; i < 3; i++) expect((await send(`${base}/healthz`)).status).toBe(200);
    expect(answered).toBe(false);
    other.exec('COMMIT');
    const res = await delivery;
    expect([res.status, JSON.parse(res.body)]).toEqual([200, { status: 'ok' }]);
    expect([...countByField(auditHistory(dataDir), 'document_id')]).toEqual([['wait0', 1]]);
  });

  it('answers 503 to exactly the event of a batch that cannot be stored, 200 to the others, all stored', async () => {
    const { localUrl, dataDir, other, waiting } = await withOtherWriter();
    const commits: StoreCommit[] = [];
    const onCommit = (message: unknown) => commits.push(message as StoreCommit);
    subscribe(STORE_COMMIT_CHANNEL, onCommit);
    try {
      // A constraint that one event alone violates, added to the history from outside the store.
      other.exec(`CREATE TRIGGER refuse_one BEFORE INSERT ON events WHEN NEW.event_type = 'document.poison'
                  BEGIN SELECT RAISE(ABORT, 'injected: this event cannot be stored'); END`);
      // The lock held meanwhile gathers the concurrent deliveries into one batch.
      other.exec('BEGIN IMMEDIATE');
      const sent = ids('batch', 12);
      const poison = JSON.stringify({ event_type: 'document.poison', document_id: 'poison' });
      const answers = Promise.all(
        [...sent.map((id) => [id, eventBody(id)]), ['poison', poison]].map(async ([id, body]) => {
          const res = await post(localUrl, body as string);
          return { id, status: res.status, body: JSON.parse(res.body) };
        }),
      );
      await waiting(sent.length + 1, answers);
      other.exec('COMMIT');
      const answered = await answers;
      expect(answered.filter((a) => a.status !== 200)).toEqual([
        { id: 'poison', status: 503, body: { error: 'could not store the event, retry later' } },
      ]);
      expect(answered.filter((a) => a.status === 200).map((a) => a.body)).toEqual(sent.map(() => ({ status: 'ok' })));
      // All thirteen went in one transaction: the failure was inside a batch, and stayed there.
      expect(commits.map((c) => c.events)).toEqual([sent.length + 1]);
      const audit = auditHistory(dataDir);
      expect(audit.integrity).toBe('ok');
      expect(audit.indexed).toBe(audit.rows.length);
      expect([...countByField(audit, 'document_id')].sort()).toEqual(sent.map((id) => [id, 1]).sort());

      // The fault cleared, the sender's retry is stored.
      other.exec('DROP TRIGGER refuse_one');
      const retry = await post(localUrl, poison);
      expect([retry.status, JSON.parse(retry.body)]).toEqual([200, { status: 'ok' }]);
    } finally {
      unsubscribe(STORE_COMMIT_CHANNEL, onCommit);
    }
  });
});

const readOnlyMethod = canChattr ? 'chattr' : isRoot ? null : 'chmod';

describe('a read-only history at start', () => {
  it.skipIf(readOnlyMethod === null)(
    `serve refuses to start with exit 1 and one line, keeps the history, and starts once it is writable (${readOnlyMethod})`,
    async () => {
      const dataDir = newDir();
      const first = await startServe(dataDir, SERVE_ARGS);
      expect((await post(first.ready.localUrl, eventBody('ro0'))).status).toBe(200);
      expect(await first.stop()).toBe(0);
      const file = historyFile(dataDir);
      const history = () => [file, `${file}-wal`, `${file}-shm`].filter((f) => existsSync(f));
      if (readOnlyMethod === 'chattr') execFileSync('chattr', ['+i', file]);
      else chmodSync(file, 0o444);
      try {
        const refused = await startServe(dataDir, SERVE_ARGS).then(
          async (serve) => {
            await serve.stop();
            return null;
          },
          (error: Error) => error.message,
        );
        expect(refused).toMatch(/exited with 1 before its ready line/);
        const stderr = (refused ?? '').split('; stderr: ')[1] ?? '';
        expect(stderr.trim().split('\n')).toHaveLength(1);
        expect(stderr).toMatch(/read-?only/);
      } finally {
        // The fault clears: the history and whatever SQLite made beside it are writable again.
        if (readOnlyMethod === 'chattr') execFileSync('chattr', ['-i', file]);
        else for (const f of history()) chmodSync(f, 0o644);
      }
      const again = await startServe(dataDir, SERVE_ARGS);
      try {
        expect((await post(again.ready.localUrl, eventBody('ro1'))).status).toBe(200);
        const audit = auditHistory(dataDir);
        expect(audit.integrity).toBe('ok');
        expect([...countByField(audit, 'document_id')]).toEqual([
          ['ro0', 1],
          ['ro1', 1],
        ]);
      } finally {
        expect(await again.stop()).toBe(0);
      }
    },
  );

  // Opening a history whose file is read-only made SQLite create history.sqlite-shm (and -wal)
  // with the same read-only mode, and a read-only -shm made every later start read-only too, even
  // once the person had made history.sqlite writable again; openStore now checks write access
  // first. Only a user without root can be refused by a mode, so this runs only there.
  it.skipIf(readOnlyMethod !== 'chmod')(
    'starts again once history.sqlite alone is writable again (a stale read-only -shm must not stop it)',
    async () => {
      const dataDir = newDir();
      const first = await startServe(dataDir, SERVE_ARGS);
      expect(await first.stop()).toBe(0);
      const file = historyFile(dataDir);
      chmodSync(file, 0o444);
      await startServe(dataDir, SERVE_ARGS).then(
        (serve) => serve.stop(),
        () => null,
      );
      chmodSync(file, 0o644);
      const again = await startServe(dataDir, SERVE_ARGS);
      expect(await again.stop()).toBe(0);
    },
  );
});

describe('the store closed under load', () => {
  it('answers each delivery 200 (stored once) or 503 (not stored), and the history reopens whole', async () => {
    const dataDir = newDir();
    const store = openStore(historyFile(dataDir));
    const token = 'closed-under-load-token-0123456789';
    const receiver = createReceiver({
      token: () => token,
      ingest: async (i) => (await store.append(i)).status,
      log: silentLogger,
    });
    const port = await receiver.listen(0);
    const url = `http://127.0.0.1:${port}/webhooks/${token}`;
    try {
      let acked = 0;
      let closing: Promise<void> | null = null;
      const answers = await Promise.all(
        ids('load', 300).map(async (id) => {
          const res = await post(url, eventBody(id));
          if (res.status === 200 && ++acked === 100) closing = store.close();
          return { id, status: res.status };
        }),
      );
      await closing;
      const ok = answers.filter((a) => a.status === 200).map((a) => a.id);
      const refused = answers.filter((a) => a.status === 503).map((a) => a.id);
      expect(ok.length + refused.length).toBe(300);
      expect(ok.length).toBeGreaterThanOrEqual(100);
      expect(refused.length).toBeGreaterThan(0);

      const audit = auditHistory(dataDir);
      expect(audit.integrity).toBe('ok');
      expect(audit.indexed).toBe(audit.rows.length);
      const counts = countByField(audit, 'document_id');
      expect([...counts.keys()].sort()).toEqual([...ok].sort());
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
    } finally {
      await receiver.close();
      await store.close();
    }
  });
});
