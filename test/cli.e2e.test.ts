/**
 * The command line end to end, as a user and a script meet it: real `node bin/singlefile-monitor.js`
 * processes, a real socket for the webhooks, a real SQLite history in a temp dir, and a second
 * process reading that history while `serve` runs.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSV_COLUMNS } from '../electron/core/export-format.ts';
import { describeEventType, type StoredEvent, StoredEventSchema } from '../shared/events.ts';
import { parseCsvObjects, postJson, runCli, type ServeProcess, startServe } from './helpers/cli.ts';

const FIXTURES_DIR = new URL('../../shared/fixtures/events/', import.meta.url);
const fixtures = readdirSync(FIXTURES_DIR)
  .filter((name) => name.endsWith('.json'))
  .sort()
  .map((name) => {
    const body = readFileSync(new URL(name, FIXTURES_DIR), 'utf8');
    return { name, body, payload: JSON.parse(body) as Record<string, unknown> & { event_type: string } };
  });
const fixtureByType = new Map(fixtures.map((f) => [f.payload.event_type, f]));

const SEARCH_KEYS = ['id', 'event_type', 'category', 'received_at', 'occurred_at', 'payload'];
const LOCAL_URL = /^http:\/\/127\.0\.0\.1:(\d+)\/webhooks\/([A-Za-z0-9_-]{22,})$/;

type SearchResult = Pick<StoredEvent, 'id' | 'event_type' | 'category' | 'received_at' | 'occurred_at' | 'payload'>;

const temps: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sfm-e2e-'));
  temps.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(temps.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

function stderrLines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '');
}

/** Runs `search --json` and checks the shape every script relies on before handing back the array. */
async function searchJson(dataDir: string, args: string[]): Promise<SearchResult[]> {
  const result = await runCli(['search', '--json', '--data-dir', dataDir, ...args]);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  const events = JSON.parse(result.stdout) as SearchResult[];
  expect(Array.isArray(events)).toBe(true);
  for (const event of events) expect(Object.keys(event).sort()).toEqual([...SEARCH_KEYS].sort());
  // Newest first: the ids of a sequential sender only grow, so they must only shrink here.
  const ids = events.map((e) => e.id);
  expect(ids).toEqual([...ids].sort((a, b) => b - a));
  return events;
}

describe('serve --json with every fixture; search and export from other processes', () => {
  let dataDir: string;
  let serve: ServeProcess;
  const answers: Array<{ status: number; body: unknown }> = [];
  let duplicate: { status: number; body: unknown };

  beforeAll(async () => {
    dataDir = await tempDir();
    serve = await startServe(dataDir);
    // One after another, as SingleFile would send them, so the history's order is the fixtures' order.
    for (const fixture of fixtures) answers.push(await postJson(serve.ready.localUrl, fixture.body));
    duplicate = await postJson(serve.ready.localUrl, fixtureByType.get('order.completed')?.body);
  });
  afterAll(async () => {
    await serve?.stop('SIGTERM');
  });

  it('prints the ready line first, exactly as the contract gives it', () => {
    expect(Object.keys(serve.ready)).toEqual(['type', 'localUrl', 'publicUrl', 'dashboardUrl']);
    expect(serve.ready.type).toBe('ready');
    const match = LOCAL_URL.exec(serve.ready.localUrl);
    expect(match).not.toBeNull();
    expect(Number(match?.[1])).toBeGreaterThan(0);
    expect(serve.ready.publicUrl).toBeNull();
    // The dashboard: on loopback, and on a listener of its own, never the receiver's (the tunnel
    // forwards the receiver's port, so history and settings must not be behind it).
    const dashboard = /^http:\/\/127\.0\.0\.1:(\d+)\//.exec(serve.ready.dashboardUrl ?? '');
    expect(dashboard, String(serve.ready.dashboardUrl)).not.toBeNull();
    expect(Number(dashboard?.[1])).toBeGreaterThan(0);
    expect(dashboard?.[1]).not.toBe(match?.[1]);
  });

  it('answers 200 {"status":"ok"} to every fixture and prints one NDJSON event line for each', async () => {
    expect(fixtures.length).toBe(11);
    expect(answers).toEqual(fixtures.map(() => ({ status: 200, body: { status: 'ok' } })));
    const lines = await serve.waitForLines(fixtures.length);
    const events = lines.slice(0, fixtures.length).map((line) => {
      expect(Object.keys(line)).toEqual(['type', 'event']);
      expect(line.type).toBe('event');
      return StoredEventSchema.parse(line.event);
    });
    events.forEach((event, i) => {
      const fixture = fixtures[i];
      expect(event.payload).toEqual(fixture?.payload);
      expect(event.event_type).toBe(fixture?.payload.event_type);
      expect(event.category).toBe(describeEventType(event.event_type).category);
      expect(event.occurred_at).toBe(new Date(String(fixture?.payload.timestamp)).toISOString());
      expect(event.deliveries).toBe(1);
      expect(event.read).toBe(false);
    });
    const ids = events.map((e) => e.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('answers {"status":"duplicate"} to a retry', () => {
    expect(duplicate).toEqual({ status: 200, body: { status: 'duplicate' } });
  });

  it('search --json order, while serve runs: exactly the three order events, newest first', async () => {
    const events = await searchJson(dataDir, ['order']);
    const expected = fixtures.filter((f) => f.payload.event_type.startsWith('order.')).reverse();
    expect(events.map((e) => e.event_type)).toEqual(expected.map((f) => f.payload.event_type));
    expect(events.map((e) => e.payload)).toEqual(expected.map((f) => f.payload));
    for (const event of events) {
      expect(event.category).toBe('Orders');
      expect(event.occurred_at).toBe(new Date(String(event.payload.timestamp)).toISOString());
      expect(Number.isNaN(Date.parse(event.received_at))).toBe(false);
    }
  });

  it('search --json by type, category, a word of a name, an id, and with limits and times', async () => {
    const [byType, byTwoTypes, byCategory, byName, byId, limited, all, future, past] = await Promise.all([
      searchJson(dataDir, ['--type', 'document.created']),
      searchJson(dataDir, ['--type', 'order.completed', '--type', 'order.cancelled']),
      searchJson(dataDir, ['--category', 'documents']),
      searchJson(dataDir, ['Acme']),
      searchJson(dataDir, ['ord_12345']),
      searchJson(dataDir, ['--limit', '2']),
      searchJson(dataDir, []),
      searchJson(dataDir, ['--since', '2999-01-01']),
      searchJson(dataDir, ['--until', '2000-01-01T00:00:00Z']),
    ]);
    const types = (events: SearchResult[]) => events.map((e) => e.event_type);
    expect(types(byType)).toEqual(['document.created']);
    expect(byType[0]?.payload).toEqual(fixtureByType.get('document.created')?.payload);
    expect(types(byTwoTypes)).toEqual(['order.completed', 'order.cancelled']);
    expect(types(byCategory)).toEqual(['document.updated', 'document.deleted', 'document.created']);
    expect(types(byName)).toEqual(['entity.created']);
    expect(byName[0]?.payload.entity_name).toBe('Acme Widgets LLC');
    expect(types(byId)).toEqual(['order.completed', 'document.created']);
    expect(types(all)).toEqual(fixtures.map((f) => f.payload.event_type).reverse());
    expect(limited).toEqual(all.slice(0, 2));
    expect(future).toEqual([]);
    expect(past).toEqual([]);
  });

  it('search without --json prints one line per event for people', async () => {
    const result = await runCli(['search', 'order', '--data-dir', dataDir]);
    expect(result.code).toBe(0);
    const lines = stderrLines(result.stdout);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/#\d+ {2}Order Submitted {2}Order type: Annual Report/);
    expect(lines[2]).toMatch(/Order Cancelled/);
  });

  it('exports CSV and JSON to files that read back row for row', async () => {
    const dir = await tempDir();
    const csvFile = join(dir, 'events.csv');
    const jsonFile = join(dir, 'events.json');
    const [csv, json, all] = await Promise.all([
      runCli(['export', '--format', 'csv', '--out', csvFile, '--data-dir', dataDir]),
      runCli(['export', '--format', 'json', '--out', jsonFile, '--data-dir', dataDir]),
      searchJson(dataDir, []),
    ]);
    for (const [result, file] of [
      [csv, csvFile],
      [json, jsonFile],
    ] as const) {
      expect(result.code).toBe(0);
      expect(result.stdout).toBe('');
      expect(stderrLines(result.stderr)).toEqual([`Exported ${fixtures.length} events to ${file}`]);
    }
    expect(readdirSync(dir).sort()).toEqual(['events.csv', 'events.json']);

    // JSON: the stored events, newest first, the same the search shows.
    const exported = (JSON.parse(await readFile(jsonFile, 'utf8')) as unknown[]).map((e) => StoredEventSchema.parse(e));
    expect(exported.map((e) => e.id)).toEqual(all.map((e) => e.id));
    exported.forEach((event, i) => {
      const fixture = fixtures[fixtures.length - 1 - i];
      expect(event.event_type).toBe(fixture?.payload.event_type);
      expect(event.payload).toEqual(fixture?.payload);
      expect(event.deliveries).toBe(event.event_type === 'order.completed' ? 2 : 1);
    });

    // CSV: RFC 4180 with a header row; every row the same event as the JSON's row.
    const csvText = await readFile(csvFile, 'utf8');
    expect(csvText.endsWith('\r\n')).toBe(true);
    const { header, rows } = parseCsvObjects(csvText);
    expect(header).toEqual([...CSV_COLUMNS]);
    expect(rows).toHaveLength(exported.length);
    rows.forEach((row, i) => {
      const event = exported[i] as StoredEvent;
      expect(row).toEqual({
        id: String(event.id),
        received_at: event.received_at,
        occurred_at: event.occurred_at ?? '',
        event_type: event.event_type,
        event_name: describeEventType(event.event_type).name,
        category: event.category,
        deliveries: String(event.deliveries),
        read: 'no',
        payload: expect.any(String),
      });
      expect(JSON.parse(row.payload ?? '')).toEqual(fixtures[fixtures.length - 1 - i]?.payload);
    });
  });

  it('exports to stdout without --out, the same bytes as to a file', async () => {
    const dir = await tempDir();
    const [csvOut, jsonOut, csvFile, jsonFile] = await Promise.all([
      runCli(['export', '--format', 'csv', '--data-dir', dataDir]),
      runCli(['export', '--format', 'json', '--data-dir', dataDir]),
      runCli(['export', '--format', 'csv', '--out', join(dir, 'a.csv'), '--data-dir', dataDir]),
      runCli(['export', '--format', 'json', '--out', join(dir, 'a.json'), '--data-dir', dataDir]),
    ]);
    for (const result of [csvOut, jsonOut, csvFile, jsonFile]) expect(result.code).toBe(0);
    expect(csvOut.stderr).toBe('');
    expect(jsonOut.stderr).toBe('');
    expect(csvOut.stdout).toBe(await readFile(join(dir, 'a.csv'), 'utf8'));
    expect(jsonOut.stdout).toBe(await readFile(join(dir, 'a.json'), 'utf8'));
    expect(parseCsvObjects(csvOut.stdout).rows).toHaveLength(fixtures.length);
    expect(JSON.parse(jsonOut.stdout)).toHaveLength(fixtures.length);
  });

  it('export takes the same filters as search', async () => {
    const [json, csv] = await Promise.all([
      runCli(['export', '--format', 'json', 'ord_12345', '--category', 'orders', '--data-dir', dataDir]),
      runCli([
        'export',
        '--format',
        'csv',
        '--type',
        'task.created',
        '--type',
        'entity.updated',
        '--data-dir',
        dataDir,
      ]),
    ]);
    expect(json.code).toBe(0);
    expect((JSON.parse(json.stdout) as StoredEvent[]).map((e) => e.event_type)).toEqual(['order.completed']);
    expect(csv.code).toBe(0);
    expect(parseCsvObjects(csv.stdout).rows.map((r) => r.event_type)).toEqual(['task.created', 'entity.updated']);
  });

  it('url prints the webhook URL of the running serve', async () => {
    const result = await runCli(['url', '--data-dir', dataDir]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${serve.ready.localUrl}\n`);
  });

  it('exits 0 on SIGTERM, having printed one line per stored event and none for the retry', async () => {
    expect(await serve.stop('SIGTERM')).toBe(0);
    // The process has exited and its stdout is read to the end: nothing more can arrive.
    expect(serve.lines).toHaveLength(fixtures.length);
    expect(serve.lines.every((line) => line.type === 'event')).toBe(true);
  });
});

describe('CSV export of hostile text', () => {
  // Unknown types are stored as sent, so the event type reaches the CSV's own cells (type and name).
  const hostile = [
    { event_type: '=HYPERLINK("http://evil.example/?a,b","click")', note: '=1+1' },
    { event_type: '+1, "two"\nthree', note: 'plus' },
    { event_type: '-2+3\r\nA1', note: 'minus' },
    { event_type: '@SUM(A1:A2),"x"', note: '@at, "quoted"\nline' },
  ];
  let dataDir: string;
  let serve: ServeProcess;

  beforeAll(async () => {
    dataDir = await tempDir();
    serve = await startServe(dataDir);
  });
  afterAll(async () => {
    if (serve) expect(await serve.stop('SIGTERM')).toBe(0);
  });

  it('quotes and defuses every cell, and reads back to what was posted', async () => {
    for (const payload of hostile) {
      expect(await postJson(serve.ready.localUrl, payload)).toEqual({ status: 200, body: { status: 'ok' } });
    }
    const lines = await serve.waitForLines(hostile.length);
    expect(lines.map((l) => (l.event as StoredEvent).event_type)).toEqual(hostile.map((p) => p.event_type));

    const file = join(await tempDir(), 'hostile.csv');
    const [toFile, toStdout] = await Promise.all([
      runCli(['export', '--format', 'csv', '--out', file, '--data-dir', dataDir]),
      runCli(['export', '--format', 'csv', '--data-dir', dataDir]),
    ]);
    expect(toFile.code).toBe(0);
    expect(toStdout.code).toBe(0);
    const text = await readFile(file, 'utf8');
    expect(toStdout.stdout).toBe(text);

    // The raw cells: a leading apostrophe, then quoted with the quotes doubled.
    expect(text).toContain(`,"'=HYPERLINK(""http://evil.example/?a,b"",""click"")",`);
    expect(text).toContain(`,"'+1, ""two""\nthree",`);
    expect(text).toContain(`,"'-2+3\r\nA1",`);
    expect(text).toContain(`,"'@SUM(A1:A2),""x""",`);
    // No cell of any row starts with a formula character, once parsed.
    const { rows } = parseCsvObjects(text);
    for (const row of rows) for (const cell of Object.values(row)) expect(cell).not.toMatch(/^[=+\-@\t\r]/);

    const expected = [...hostile].reverse();
    expect(rows).toHaveLength(expected.length);
    rows.forEach((row, i) => {
      const payload = expected[i];
      expect(row.event_type).toBe(`'${payload?.event_type}`);
      expect(row.event_name).toBe(`'${payload?.event_type}`);
      expect(row.category).toBe('Other');
      expect(JSON.parse(row.payload ?? '')).toEqual(payload);
    });
  });

  it('search --json gives the hostile types back verbatim', async () => {
    const events = await searchJson(dataDir, ['--category', 'other']);
    expect(events.map((e) => e.event_type)).toEqual([...hostile].reverse().map((p) => p.event_type));
  });
});

describe('stop and restart', () => {
  it('exits 0 on SIGTERM and SIGINT; a restart keeps the history, the dedupe and the webhook URL', async () => {
    const dataDir = await tempDir();
    const first = await startServe(dataDir);
    const [a, b, c] = fixtures;
    if (!a || !b || !c) throw new Error('fixtures missing');
    expect(await postJson(first.ready.localUrl, a.body)).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await postJson(first.ready.localUrl, b.body)).toEqual({ status: 200, body: { status: 'ok' } });
    await first.waitForLines(2);
    expect(await first.stop('SIGTERM')).toBe(0);

    const second = await startServe(dataDir);
    try {
      const token = (url: string) => new URL(url).pathname;
      expect(token(second.ready.localUrl)).toBe(token(first.ready.localUrl));
      // The history survived, and so did what makes a retry a duplicate.
      const before = await searchJson(dataDir, []);
      expect(before.map((e) => e.payload)).toEqual([b.payload, a.payload]);
      expect(await postJson(second.ready.localUrl, a.body)).toEqual({ status: 200, body: { status: 'duplicate' } });
      expect(await postJson(second.ready.localUrl, c.body)).toEqual({ status: 200, body: { status: 'ok' } });
      const [line] = await second.waitForLines(1);
      expect((line?.event as StoredEvent | undefined)?.payload).toEqual(c.payload);
    } finally {
      expect(await second.stop('SIGINT')).toBe(0);
    }

    // After the stop: the history is whole, and url names the last serve's address.
    const after = await searchJson(dataDir, []);
    expect(after.map((e) => e.payload)).toEqual([c.payload, b.payload, a.payload]);
    const url = await runCli(['url', '--data-dir', dataDir]);
    expect(url.code).toBe(0);
    expect(url.stdout).toBe(`${second.ready.localUrl}\n`);
  });
});

describe('SINGLEFILE_MONITOR_DATA_DIR', () => {
  it('is honoured by serve, search, export and url; --data-dir wins over it', async () => {
    const dataDir = await tempDir();
    const otherDir = await tempDir();
    const env = { SINGLEFILE_MONITOR_DATA_DIR: dataDir };
    const serve = await startServe(dataDir, [], { dataDirViaEnv: true });
    try {
      const fixture = fixtureByType.get('order.completed');
      expect(await postJson(serve.ready.localUrl, fixture?.body)).toEqual({ status: 200, body: { status: 'ok' } });
      await serve.waitForLines(1);
      // Serve wrote into the env's folder, not a default one.
      expect(existsSync(join(dataDir, 'history.sqlite'))).toBe(true);

      const [search, exported, url, flagWins] = await Promise.all([
        runCli(['search', '--json'], env),
        runCli(['export', '--format', 'json'], env),
        runCli(['url'], env),
        runCli(['search', '--json', '--data-dir', otherDir], env),
      ]);
      expect(search.code).toBe(0);
      expect((JSON.parse(search.stdout) as SearchResult[]).map((e) => e.payload)).toEqual([fixture?.payload]);
      expect((JSON.parse(exported.stdout) as StoredEvent[]).map((e) => e.payload)).toEqual([fixture?.payload]);
      expect(url.stdout).toBe(`${serve.ready.localUrl}\n`);
      expect(flagWins.code).toBe(0);
      expect(JSON.parse(flagWins.stdout)).toEqual([]);
    } finally {
      expect(await serve.stop('SIGTERM')).toBe(0);
    }
  });
});

describe('exit codes in a real process', () => {
  it('JSON export of an empty history is []', async () => {
    const result = await runCli(['export', '--format', 'json', '--data-dir', await tempDir()]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([]);
    expect(result.stdout.trim()).toBe('[]');
  });

  it('url on an empty data dir exits 1 with one line', async () => {
    const result = await runCli(['url', '--data-dir', await tempDir()]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(stderrLines(result.stderr)).toEqual([expect.stringMatching(/no webhook URL yet/)]);
  });

  it('serve --tunnel localtunnel with an unreachable tunnel server still receives, and says why it is offline', async () => {
    const dataDir = join(await tempDir(), 'data');
    // Port 2 on loopback: nothing listens there, so the registration is refused at once.
    const serve = await startServe(dataDir, ['--tunnel', 'localtunnel', '--tunnel-host', 'http://127.0.0.1:2']);
    try {
      expect(serve.ready.publicUrl).toBeNull();
      const [connecting, offline] = await serve.waitForLines(2);
      expect(connecting).toMatchObject({ type: 'tunnel', provider: 'localtunnel', state: 'connecting' });
      expect(offline).toMatchObject({ type: 'tunnel', provider: 'localtunnel', state: 'offline' });
      expect(offline?.lastError).toMatch(/^127\.0\.0\.1:2 could not be reached \(ECONNREFUSED\)$/);
      const res = await postJson(serve.ready.localUrl, { event_type: 'order.completed', order_id: 'ord_offline' });
      expect(res.status).toBe(200);
    } finally {
      expect(await serve.stop()).toBe(0);
    }
  });

  it('an empty --data-dir is bad usage, never a silent fall-back to the default history', async () => {
    // The default folder is pointed into a temp dir, so that a regression cannot touch a real history.
    const home = await tempDir();
    const env = { HOME: home, XDG_CONFIG_HOME: join(home, 'config'), APPDATA: join(home, 'appdata') };
    const results = await Promise.all([runCli(['search', '--data-dir', ''], env), runCli(['url', '--data-dir='], env)]);
    for (const result of results) {
      expect(result.code).toBe(2);
      expect(stderrLines(result.stderr)).toEqual([expect.stringMatching(/--data-dir must not be empty/)]);
    }
    expect(readdirSync(home)).toEqual([]);
  });

  it('bad usage exits 2 with exactly one line on stderr, and touches no history', async () => {
    const cases: string[][] = [
      ['search', '--bogus'],
      ['search', '--limit', '0'],
      ['search', '--limit', 'abc'],
      ['search', '--since', 'yesterday'],
      ['search', '--category', 'Bogus'],
      ['search', 'x'.repeat(501)],
      ['search', '--type', ''],
      ['export'],
      ['export', '--format', 'xml'],
      ['serve', '--port', '99999'],
      ['serve', '--dashboard-port', '1', '--no-dashboard'],
      ['frobnicate'],
      [],
    ];
    const dataDir = join(await tempDir(), 'never-created');
    const results = await Promise.all(cases.map((args) => runCli(args, { SINGLEFILE_MONITOR_DATA_DIR: dataDir })));
    results.forEach((result, i) => {
      const label = JSON.stringify(cases[i]);
      expect({ label, code: result.code, stdout: result.stdout }).toEqual({ label, code: 2, stdout: '' });
      expect(stderrLines(result.stderr), label).toHaveLength(1);
      expect(result.stderr, label).toMatch(/^singlefile-monitor: .+\n$/);
    });
    expect(existsSync(dataDir)).toBe(false);
  });
});
