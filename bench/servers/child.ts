/**
 * Each server under test runs in a child process of its own (node:child_process `fork`, with an
 * IPC channel), so that autocannon's client never shares an event loop with the server it
 * measures. The child announces its URL once it listens and answers `usage` requests with its
 * CPU time and memory, so the table can tell a server-bound run from a client-bound one.
 */
import { type ChildProcess, fork } from 'node:child_process';

export interface ServerInfo {
  url: string;
  /** Anything else the server wants the bench to know (the receiver's data directory). */
  [key: string]: unknown;
}

export interface Usage {
  /** CPU time, user + system, in ms since the process started. */
  cpuMs: number;
  rssBytes: number;
  /** Extra counters a server keeps (the receiver's group-commit batches). */
  extra?: unknown;
}

type ParentMessage = { type: 'usage'; id: number };
type ChildMessage = { type: 'ready'; info: ServerInfo } | { type: 'usage'; id: number; usage: Usage };

export interface AnnounceOptions {
  /** Counters to send along with each usage report. */
  extra?: () => unknown;
  /** Run on SIGTERM before exiting (a graceful stop lets --cpu-prof write its profile). */
  stop?: () => Promise<void>;
}

/** Child side: tells the parent where to send requests, and answers its usage requests. */
export function announce(info: ServerInfo, options: AnnounceOptions = {}): void {
  if (!process.send) throw new Error('start this server with fork(), from bench/run.ts');
  process.once('SIGTERM', () => {
    void (options.stop?.() ?? Promise.resolve()).finally(() => process.exit(0));
  });
  process.on('message', (message: ParentMessage) => {
    if (message.type !== 'usage') return;
    const cpu = process.cpuUsage();
    const usage: Usage = {
      cpuMs: (cpu.user + cpu.system) / 1000,
      rssBytes: process.memoryUsage.rss(),
      extra: options.extra?.(),
    };
    process.send?.({ type: 'usage', id: message.id, usage } satisfies ChildMessage);
  });
  process.send({ type: 'ready', info } satisfies ChildMessage);
}

export interface ServerChild {
  info: ServerInfo;
  process: ChildProcess;
  usage(): Promise<Usage>;
  /** SIGKILL, no goodbye: whatever was acknowledged must already be on disk. */
  kill(): Promise<void>;
  /** SIGTERM: the server stops gracefully (and a profiler writes its profile). */
  stop(): Promise<void>;
}

/** Parent side: forks a server module and waits for its announcement. */
export function startServer(
  moduleUrl: URL,
  args: readonly string[] = [],
  execArgv: readonly string[] = [],
): Promise<ServerChild> {
  const child = fork(moduleUrl, [...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [...execArgv] });
  let nextId = 0;
  const waiting = new Map<number, (usage: Usage) => void>();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) =>
      reject(new Error(`${moduleUrl.pathname} exited (${code}) before listening`));
    child.once('exit', onExit);
    child.once('error', reject);
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'usage') {
        waiting.get(message.id)?.(message.usage);
        waiting.delete(message.id);
        return;
      }
      child.off('exit', onExit);
      resolve({
        info: message.info,
        process: child,
        usage() {
          const id = nextId++;
          return new Promise((done) => {
            waiting.set(id, done);
            child.send({ type: 'usage', id } satisfies ParentMessage);
          });
        },
        async kill() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          await exited;
        },
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    });
  });
}
