import { type ChildProcess, spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The repository root: `node bin/singlefile-monitor.js …` runs from here, as a user would. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = 'bin/singlefile-monitor.js';

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * The environment a spawned CLI gets: this process's, minus SINGLEFILE_MONITOR_DATA_DIR (so a
 * developer's own setting never leaks into a test), plus `env`.
 */
function childEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  // Node's compile cache, in the folder Node itself would use, roughly halves the start-up of
  // each of the many short CLI processes here; it changes nothing they do.
  const merged: NodeJS.ProcessEnv = { NODE_COMPILE_CACHE: join(tmpdir(), 'node-compile-cache'), ...process.env };
  delete merged.SINGLEFILE_MONITOR_DATA_DIR;
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete merged[key];
    else merged[key] = value;
  }
  return merged;
}

function spawnCli(args: readonly string[], env: Record<string, string | undefined>): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], {
    cwd: REPO_ROOT,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** A CLI command in its own process, not waited for: to act while it runs (a signal during its start). */
export interface CliProcess {
  stdout(): string;
  stderr(): string;
  kill(signal: NodeJS.Signals): void;
  /** Resolves once the process has exited and its output is all in. */
  exited: Promise<CliResult>;
}

export function spawnCliProcess(args: readonly string[], env: Record<string, string | undefined> = {}): CliProcess {
  const child = spawnCli(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<CliResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return {
    stdout: () => stdout,
    stderr: () => stderr,
    kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    exited,
  };
}

/** Runs one CLI command to the end in its own process. */
export function runCli(args: readonly string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  return spawnCliProcess(args, env).exited;
}

/** The first line of `serve --json`, exactly as the command-line contract gives it. */
export interface ReadyLine {
  type: 'ready';
  localUrl: string;
  publicUrl: string | null;
  dashboardUrl: string | null;
}

export interface ServeProcess {
  ready: ReadyLine;
  /** Every NDJSON line after the ready line, parsed, in order; grows while serve runs. */
  lines: Array<Record<string, unknown>>;
  /** Resolves once at least `count` lines have followed the ready line (the test's timeout bounds it). */
  waitForLines(count: number): Promise<Array<Record<string, unknown>>>;
  /** What serve wrote on stderr so far. */
  stderr(): string;
  /** Sends the signal and resolves with the exit code once the process has exited. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface ServeOptions {
  /** Extra environment for the process. */
  env?: Record<string, string | undefined>;
  /** Give the data dir through SINGLEFILE_MONITOR_DATA_DIR instead of --data-dir. */
  dataDirViaEnv?: boolean;
}

/**
 * Spawns `serve --tunnel none --json --port 0` on `dataDir` and resolves once its first NDJSON
 * line, the ready line, has arrived. Rejects, with what serve wrote on stderr, if it exits first.
 */
export function startServe(
  dataDir: string,
  extraArgs: readonly string[] = [],
  options: ServeOptions = {},
): Promise<ServeProcess> {
  const dirArgs = options.dataDirViaEnv ? [] : ['--data-dir', dataDir];
  const env = { ...options.env, ...(options.dataDirViaEnv ? { SINGLEFILE_MONITOR_DATA_DIR: dataDir } : {}) };
  const child = spawnCli(['serve', '--tunnel', 'none', '--json', ...dirArgs, '--port', '0', ...extraArgs], env);

  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  // A test that fails before stop() must not leave a serve running after the test process ends.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<number | null>((resolve) =>
    child.once('close', (code) => {
      process.off('exit', killOnExit);
      resolve(code);
    }),
  );
  const lines: Array<Record<string, unknown>> = [];
  const waiters: Array<{ count: number; resolve: (l: typeof lines) => void; reject: (e: Error) => void }> = [];
  let ended = false;
  const settleWaiters = () => {
    for (const waiter of [...waiters]) {
      if (lines.length >= waiter.count) waiter.resolve(lines);
      else if (ended) waiter.reject(new Error(`serve ended after ${lines.length} lines; stderr: ${stderr}`));
      else continue;
      waiters.splice(waiters.indexOf(waiter), 1);
    }
  };

  return new Promise<ServeProcess>((resolve, reject) => {
    let ready: ReadyLine | null = null;
    const reader = createInterface({
      input: child.stdout as NodeJS.ReadableStream,
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    reader.on('line', (text) => {
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        // Every stdout line of `serve --json` must be JSON; record the offender so the test fails on it.
        line = { type: 'not-json', text };
      }
      if (ready === null) {
        ready = line as unknown as ReadyLine;
        resolve({
          ready,
          lines,
          waitForLines: (count) =>
            new Promise((res, rej) => {
              waiters.push({ count, resolve: res, reject: rej });
              settleWaiters();
            }),
          stderr: () => stderr,
          stop: (signal = 'SIGTERM') => {
            if (child.exitCode === null && child.signalCode === null) child.kill(signal);
            return exited;
          },
        });
        return;
      }
      lines.push(line);
      settleWaiters();
    });
    reader.once('close', () => {
      ended = true;
      settleWaiters();
    });
    child.once('error', reject);
    void exited.then((code) => {
      if (ready === null) reject(new Error(`serve exited with ${code} before its ready line; stderr: ${stderr}`));
    });
  });
}

/** POSTs a JSON body to a webhook URL; resolves with the status and the parsed answer. */
export async function postJson(url: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/**
 * A strict RFC 4180 parser, for reading exports back: fields separated by commas, records by
 * CRLF (a bare LF is accepted too), quoted fields may hold commas, quotes (doubled) and line
 * breaks. Anything malformed — a quote inside an unquoted field, text after a closing quote, an
 * unterminated quote — throws, so a badly quoted export fails the test instead of parsing oddly.
 */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let i = 0;
  const n = text.length;
  if (n === 0) return records;
  while (i <= n) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= n) throw new Error('unterminated quoted field');
        const c = text[i];
        if (c === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
          } else {
            i++;
            break;
          }
        } else {
          field += c;
          i++;
        }
      }
      if (i < n && text[i] !== ',' && text[i] !== '\r' && text[i] !== '\n') {
        throw new Error(`text after a closing quote at offset ${i}`);
      }
    } else {
      while (i < n && text[i] !== ',' && text[i] !== '\r' && text[i] !== '\n') {
        if (text[i] === '"') throw new Error(`quote inside an unquoted field at offset ${i}`);
        field += text[i];
        i++;
      }
    }
    record.push(field);
    if (i >= n) {
      records.push(record);
      break;
    }
    if (text[i] === ',') {
      i++;
      continue;
    }
    // End of record: CRLF or LF. A lone CR outside quotes is malformed.
    if (text[i] === '\r') {
      if (text[i + 1] !== '\n') throw new Error(`bare carriage return at offset ${i}`);
      i++;
    }
    i++;
    records.push(record);
    record = [];
    if (i >= n) break;
  }
  return records;
}

/** Parses a CSV with a header row into objects keyed by the header's names. */
export function parseCsvObjects(text: string): { header: string[]; rows: Array<Record<string, string>> } {
  const [header, ...records] = parseCsv(text);
  if (!header) throw new Error('no header row');
  const rows = records.map((record, index) => {
    if (record.length !== header.length) {
      throw new Error(`row ${index + 1} has ${record.length} fields, the header ${header.length}`);
    }
    return Object.fromEntries(header.map((name, column) => [name, record[column] as string]));
  });
  return { header, rows };
}
