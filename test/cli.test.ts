import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type CliIo, formatEventLine, main, toQuery, USAGE, UsageError } from '../electron/cli.ts';
import type { StoredEvent } from '../shared/events.ts';
import { postJson } from './helpers/cli.ts';

/** An in-process run of `main`: what it returned and what it wrote. */
async function run(argv: string[], stopSignal?: AbortSignal) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    ...(stopSignal ? { stopSignal } : {}),
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

function lines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '');
}

const temps: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sfm-cli-'));
  temps.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(temps.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('toQuery', () => {
  it('turns no arguments into an empty query', () => {
    expect(toQuery([], {})).toEqual({});
    expect(toQuery(['  '], {})).toEqual({});
  });

  it('joins the words into one text and keeps the filters', () => {
    expect(
      toQuery(['Acme', 'Widgets'], {
        type: ['order.completed', 'order.cancelled'],
        category: 'Orders',
        limit: '20',
      }),
    ).toEqual({
      text: 'Acme Widgets',
      types: ['order.completed', 'order.cancelled'],
      categories: ['Orders'],
      limit: 20,
    });
  });

  it('matches a category whatever its case, and gives its canonical name', () => {
    expect(toQuery([], { category: 'documents' }).categories).toEqual(['Documents']);
    expect(toQuery([], { category: 'OTHER' }).categories).toEqual(['Other']);
  });

  it('reads --since and --until as ISO dates (midnight UTC) or date-times', () => {
    expect(toQuery([], { since: '2024-01-15', until: '2024-01-16T12:30:00+02:00' })).toEqual({
      since: '2024-01-15T00:00:00.000Z',
      until: '2024-01-16T10:30:00.000Z',
    });
  });

  it('takes --limit from 1 to 1000', () => {
    expect(toQuery([], { limit: '1' }).limit).toBe(1);
    expect(toQuery([], { limit: '1000' }).limit).toBe(1000);
  });

  it.each([
    [{ limit: '0' }, /--limit/],
    [{ limit: '1001' }, /--limit/],
    [{ limit: 'abc' }, /--limit/],
    [{ limit: '1.5' }, /--limit/],
    [{ limit: '-3' }, /--limit/],
    [{ limit: '1e2' }, /--limit/],
    [{ limit: '' }, /--limit/],
    [{ since: 'yesterday' }, /--since/],
    [{ since: '15/01/2024' }, /--since/],
    [{ since: '2024-13-01' }, /--since/],
    [{ since: '2024-02-30' }, /--since/],
    [{ until: '2024-01-15Tnoon' }, /--until/],
    [{ category: 'Bogus' }, /--category must be one of Entities, Documents, Jurisdictions, Tasks, Orders, Other/],
    [{ type: [''] }, /^--type must not be empty$/],
    [{ type: ['order.completed', ''] }, /^--type must not be empty$/],
    [{ type: Array.from({ length: 101 }, (_, i) => `type.${i}`) }, /^--type can be given at most 100 times$/],
  ])('refuses %j as bad usage', (values, message) => {
    expect(() => toQuery([], values)).toThrow(UsageError);
    expect(() => toQuery([], values)).toThrow(message);
  });

  it('takes search text up to the API limit, and refuses longer text as bad usage', () => {
    expect(toQuery(['x'.repeat(500)], {}).text).toHaveLength(500);
    expect(() => toQuery(['x'.repeat(501)], {})).toThrow(UsageError);
    expect(() => toQuery(['x'.repeat(300), 'y'.repeat(300)], {})).toThrow(
      /^the search text must be at most 500 characters$/,
    );
  });
});

describe('main: bad usage', () => {
  it.each([
    [['search', '--bogus'], /Unknown option '--bogus'/],
    [['search', '--limit', '0'], /--limit/],
    [['search', '--limit', 'abc'], /--limit/],
    [['search', '--since', 'yesterday'], /--since/],
    [['search', '--category', 'Bogus'], /--category/],
    [['search', '--json=yes'], /--json/],
    [['search', 'x'.repeat(501)], /the search text must be at most 500 characters/],
    [['search', '--type', ''], /--type must not be empty/],
    [['export', '--format', 'csv', '--type', ''], /--type must not be empty/],
    [['export'], /--format must be csv or json/],
    [['export', '--format', 'xml'], /--format must be csv or json/],
    [['export', '--format', 'csv', '--out', ''], /--out/],
    [['serve', '--port', '99999'], /--port must be a port number/],
    [['serve', '--port', 'http'], /--port/],
    [['serve', '--dashboard-port', '1', '--no-dashboard'], /cannot be used together/],
    [['serve', '--tunnel', 'ngrok'], /--tunnel must be localtunnel or none/],
    [['serve', 'now'], /Unexpected argument 'now'/],
    [['url', 'extra'], /Unexpected argument 'extra'/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [[], /missing command/],
  ])('%j exits 2 with one line on stderr and nothing on stdout', async (argv, message) => {
    const dataDir = join(await tempDir(), 'never-created');
    const result = await run(argv.length > 0 ? [...argv, '--data-dir', dataDir] : []);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(lines(result.stderr)).toHaveLength(1);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toMatch(/^singlefile-monitor: .*\n$/);
    // Bad usage is refused before anything touches the history.
    expect(existsSync(dataDir)).toBe(false);
  });

  it('prints the usage for --help and exits 0', async () => {
    for (const argv of [['--help'], ['-h'], ['help']]) {
      const result = await run(argv);
      expect(result).toEqual({ code: 0, stdout: `${USAGE}\n`, stderr: '' });
    }
    for (const command of ['serve', 'search', 'export', 'url'])
      expect(USAGE).toContain(`singlefile-monitor ${command}`);
  });
});

describe('main: tunnel flags', () => {
  it.each([
    [['--subdomain', 'Bad_Name'], /--subdomain must be/],
    [['--subdomain', 'abc'], /--subdomain must be/],
    [['--tunnel', 'none', '--subdomain', 'sfm-abcdefabcdef'], /go with --tunnel localtunnel/],
    [['--tunnel', 'none', '--tunnel-host', 'https://localtunnel.me'], /go with --tunnel localtunnel/],
    [['--tunnel-host', 'ftp://localtunnel.me'], /--tunnel-host must be a URL/],
    [['--tunnel-host', 'https://localtunnel.me/some/path'], /--tunnel-host must be a URL/],
    [['--tunnel', 'ngrok'], /--tunnel must be localtunnel or none/],
  ])('serve %j is bad usage', async (flags, message) => {
    const dataDir = join(await tempDir(), 'data');
    const result = await run(['serve', ...flags, '--data-dir', dataDir]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(lines(result.stderr)).toEqual([expect.stringMatching(message)]);
  });
});

describe('main: runtime failures exit 1 with one line', () => {
  it('url on an empty data dir', async () => {
    const result = await run(['url', '--data-dir', await tempDir()]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(lines(result.stderr)).toEqual([expect.stringMatching(/no webhook URL yet/)]);
  });

  it('serve on a port that is taken', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const port = (blocker.address() as { port: number }).port;
      const result = await run([
        'serve',
        '--tunnel',
        'none',
        '--json',
        '--port',
        String(port),
        '--data-dir',
        await tempDir(),
      ]);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(lines(result.stderr)).toEqual([expect.stringMatching(new RegExp(`port ${port} is already in use`))]);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('export onto a folder: the rename fails, the target is untouched, no partial file is left behind', async () => {
    const dir = await tempDir();
    const out = join(dir, 'taken');
    await mkdir(out);
    await writeFile(join(out, 'keep.txt'), 'mine');
    const result = await run(['export', '--format', 'json', '--out', out, '--data-dir', dir]);
    expect(result.code).toBe(1);
    expect(lines(result.stderr)).toHaveLength(1);
    expect(await readFile(join(out, 'keep.txt'), 'utf8')).toBe('mine');
    expect(existsSync(`${out}.partial`)).toBe(false);
  });

  it('export to a folder that does not exist, leaving no partial file behind', async () => {
    const dir = await tempDir();
    const out = join(dir, 'missing', 'events.csv');
    const result = await run(['export', '--format', 'csv', '--out', out, '--data-dir', dir]);
    expect(result.code).toBe(1);
    expect(lines(result.stderr)).toHaveLength(1);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(`${out}.partial`)).toBe(false);
  });
});

describe('main: in process', () => {
  it('search on an empty history says so, and --json gives []', async () => {
    const dataDir = await tempDir();
    expect(await run(['search', 'anything', '--data-dir', dataDir])).toEqual({
      code: 0,
      stdout: 'No events found.\n',
      stderr: '',
    });
    const json = await run(['search', '--json', '--data-dir', dataDir]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([]);
  });

  it('serve with a stop signal: ready line, one event line per event, exit 0 when stopped', async () => {
    const dataDir = await tempDir();
    const stop = new AbortController();
    let stdout = '';
    let sawLine: () => void = () => {};
    const io: CliIo = {
      stdout: {
        write: (text: string) => {
          stdout += text;
          sawLine();
        },
      },
      stderr: { write: () => true },
      stopSignal: stop.signal,
    };
    const untilLines = (count: number) =>
      new Promise<string[]>((resolve) => {
        sawLine = () => {
          if (lines(stdout).length >= count) resolve(lines(stdout));
        };
        sawLine();
      });
    const exit = main(['serve', '--tunnel', 'none', '--json', '--port', '0', '--data-dir', dataDir], io);
    try {
      const [readyText] = await untilLines(1);
      const ready = JSON.parse(readyText ?? '');
      expect(Object.keys(ready)).toEqual(['type', 'localUrl', 'publicUrl', 'dashboardUrl']);
      const sent = { event_type: 'order.completed', order_id: 'ord_1', timestamp: '2024-01-15T10:30:00Z' };
      expect(await postJson(ready.localUrl, sent)).toEqual({ status: 200, body: { status: 'ok' } });
      const [, eventText] = await untilLines(2);
      const line = JSON.parse(eventText ?? '');
      expect(line.type).toBe('event');
      expect(line.event.payload).toEqual(sent);

      stop.abort();
      expect(await exit).toBe(0);
      // Stopped means the receiver no longer listens.
      await expect(postJson(ready.localUrl, sent)).rejects.toThrow();
    } finally {
      // However the test ends, the receiver stops and the history is closed before the temp dir goes.
      stop.abort();
      await exit;
    }
  });
});

describe('formatEventLine', () => {
  const base: StoredEvent = {
    id: 3,
    event_type: 'order.completed',
    category: 'Orders',
    received_at: '2024-01-15T10:30:01.000Z',
    occurred_at: null,
    payload: { event_type: 'order.completed', order_id: 'ord_12345', status: 'completed' },
    deliveries: 1,
    read: false,
  };

  it("shows when, the id, SingleFile's name and the fields people know the event by", () => {
    expect(formatEventLine(base)).toBe(
      '2024-01-15T10:30:01.000Z  #3  Order Completed  Order: ord_12345 · Status: completed',
    );
  });

  it('shows an unknown type by its own string', () => {
    expect(formatEventLine({ ...base, event_type: 'invoice.paid', category: 'Other', payload: {} })).toBe(
      '2024-01-15T10:30:01.000Z  #3  invoice.paid',
    );
  });

  it('keeps one line and no escape sequences, whatever the payload holds', () => {
    const hostile: StoredEvent = {
      ...base,
      event_type: 'evil\u001b[2J\u001b[31mred\u001b[0m\nsecond line\r',
      category: 'Other',
      payload: {
        document_name: 'doc\u001b]0;pwned title\u0007name\u001b]8;;http://evil.example\u001b\\link\u001b]8;;\u001b\\',
        entity_name: 'tab\there\u0000nul\u0007bell\u007fdel\u009b31mc1\u0085nel',
        task_name: 'rtl\u202eexe.txt\u2028sep',
      },
    };
    const line = formatEventLine(hostile);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters is the point
    expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
    expect(line).not.toMatch(/\[2J|\[31m|\[0m|\]0;|\]8;/);
    for (const text of [
      'evil',
      'red',
      'second line',
      'doc',
      'name',
      'link',
      'tab here',
      'nul',
      'bell',
      'del',
      'c1',
      'nel',
    ]) {
      expect(line).toContain(text);
    }
    expect(line).not.toContain('pwned');
    expect(line).not.toContain('evil.example');
  });
});
