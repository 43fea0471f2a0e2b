/**
 * `serve --tunnel localtunnel` end to end, with real processes: `node bin/singlefile-monitor.js serve`
 * runs the real localtunnel client against a localtunnel server on 127.0.0.1 (test/helpers), and the
 * test reads its NDJSON as a script would. Public URLs are `http://<name>.localhost:PORT`; the test
 * reaches them through server.request(), which connects to 127.0.0.1 with the public Host header.
 *
 * The two scenarios run concurrently: the name-taken one waits out the supervisor's own retries of
 * its name (several seconds of backoff, with the CLI's real timing), the other one meanwhile
 * restarts its own tunnel server.
 */
import { randomInt } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { describe, type ExpectStatic, it } from 'vitest';
import { runCli, type ServeProcess, spawnCliProcess, startServe } from './helpers/cli.ts';
import { loadFixtures, tempDir } from './helpers/fixtures.ts';
import { startTunnelServer, type TunnelServer } from './helpers/tunnel-server.ts';

type Line = Record<string, unknown>;
type TunnelLine = Line & {
  type: 'tunnel';
  state: string;
  publicUrl: string | null;
  webhookUrl: string | null;
  lastError: string | null;
  urlChanged: { from: string; to: string } | null;
};

const LOCAL_URL = /^http:\/\/127\.0\.0\.1:\d+\/webhooks\/([A-Za-z0-9_-]{22,})$/;

/** A name localtunnel accepts, unique per run: `sfm-` + a tag + 8 random lowercase letters and digits. */
function subdomain(tag: string): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let name = `sfm-${tag}`;
  for (let i = 0; i < 8; i++) name += alphabet[randomInt(alphabet.length)];
  return name;
}

function tunnelArgs(server: TunnelServer, name?: string): string[] {
  return ['--tunnel', 'localtunnel', '--tunnel-host', server.url, ...(name ? ['--subdomain', name] : [])];
}

function tunnelLines(serve: ServeProcess, from = 0): TunnelLine[] {
  return serve.lines.slice(from).filter((line): line is TunnelLine => line.type === 'tunnel');
}

/** Polls until `read` gives something (not undefined), or fails with what was seen so far. */
async function until<T>(what: string, serve: ServeProcess, read: () => T | undefined, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${ms} ms waiting for ${what}; lines: ${JSON.stringify(serve.lines)}; stderr: ${serve.stderr()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function pathOf(url: string): string {
  const u = new URL(url);
  return u.pathname + u.search;
}

function post(server: TunnelServer, webhookUrl: string, body: string) {
  return server.request(webhookUrl, {
    method: 'POST',
    path: pathOf(webhookUrl),
    headers: { 'content-type': 'application/json' },
    body,
  });
}

/** The ready line's public URL: the granted name on the tunnel server's domain and port, with the local URL's token. */
function expectPublicUrl(expect: ExpectStatic, serve: ServeProcess, server: TunnelServer, name: string): string {
  const token = LOCAL_URL.exec(serve.ready.localUrl)?.[1];
  expect(token, serve.ready.localUrl).toBeDefined();
  expect(serve.ready.publicUrl).toBe(`http://${name}.localhost:${server.port}/webhooks/${token}`);
  return serve.ready.publicUrl ?? '';
}

/** A loopback tunnel server, an empty data dir and a fresh name, all removed after the test. */
async function tunnelSetup(onTestFinished: (fn: () => Promise<void> | void) => void, label: string) {
  const server = await startTunnelServer({ domain: 'localhost' });
  onTestFinished(() => server.close());
  const dir = tempDir();
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return { server, dir, name: subdomain(label) };
}

describe.concurrent('serve --tunnel localtunnel, as real processes', () => {
  it('receives every fixture through the public URL, `url` prints it, and it survives a server restart', async ({
    expect,
    onTestFinished,
  }) => {
    const { server, dir, name } = await tunnelSetup(onTestFinished, 'e2e');

    const serve = await startServe(dir, tunnelArgs(server, name));
    onTestFinished(async () => {
      await serve.stop('SIGKILL');
    });
    const webhookUrl = expectPublicUrl(expect, serve, server, name);
    const base = webhookUrl.slice(0, webhookUrl.indexOf('/webhooks/'));

    // The lines after ready start with what happened during the start: the tunnel connecting, then
    // online at that URL.
    const [connecting, online] = await serve.waitForLines(2);
    expect(connecting).toMatchObject({ type: 'tunnel', provider: 'localtunnel', state: 'connecting', attempts: 1 });
    expect(online).toMatchObject({
      type: 'tunnel',
      provider: 'localtunnel',
      state: 'online',
      publicUrl: base,
      webhookUrl,
      lastError: null,
      urlChanged: null,
    });

    // Every fixture through the public URL: acknowledged, and one `event` line each.
    const fixtures = loadFixtures();
    for (const fixture of fixtures) {
      const res = await post(server, webhookUrl, fixture.raw);
      expect(res.status, `${fixture.name}: ${res.body}`).toBe(200);
      expect(JSON.parse(res.body)).toEqual({ status: 'ok' });
    }
    const events = await until('an event line per fixture', serve, () => {
      const seen = serve.lines.filter((line) => line.type === 'event');
      return seen.length >= fixtures.length ? seen : undefined;
    });
    expect(events).toHaveLength(fixtures.length);
    const byType = (a: { event_type: string }, b: { event_type: string }) => a.event_type.localeCompare(b.event_type);
    expect(events.map((line) => (line.event as { payload: { event_type: string } }).payload).sort(byType)).toEqual(
      fixtures.map((f) => f.event).sort(byType),
    );

    // Another process reads the public webhook URL from the same history.
    const url = await runCli(['url', '--data-dir', dir]);
    expect(url).toMatchObject({ code: 0, stdout: `${webhookUrl}\n`, stderr: '' });

    // The tunnel server restarts: offline (or reconnecting), then online again with the same URL,
    // within 10 s of the restart (issue 3): the deadline is counted from before it.
    const mark = serve.lines.length;
    const deadline = Date.now() + 10_000;
    await server.restart();
    const down = await until(
      'a tunnel line that is not online',
      serve,
      () => tunnelLines(serve, mark).find((line) => line.state === 'offline' || line.state === 'reconnecting'),
      deadline - Date.now(),
    );
    const afterDown = serve.lines.indexOf(down) + 1;
    const back = await until(
      'a tunnel line back online with the same URL',
      serve,
      () => tunnelLines(serve, afterDown).find((line) => line.state === 'online' && line.publicUrl === base),
      deadline - Date.now(),
    );
    expect(down.lastError).toEqual(expect.any(String));
    expect(back).toMatchObject({ publicUrl: base, webhookUrl, lastError: null, urlChanged: null });
    expect(serve.lines.some((line) => line.type === 'notice' && line.kind === 'url-changed')).toBe(false);

    // And it works: one more event through the same public URL.
    const after = await post(
      server,
      webhookUrl,
      JSON.stringify({ event_type: 'order.completed', order_id: 'ord_after_server_restart' }),
    );
    expect(after.status, after.body).toBe(200);
    await until('the event line after the restart', serve, () =>
      serve.lines.find(
        (line) =>
          line.type === 'event' &&
          (line.event as { payload: { order_id?: string } }).payload.order_id === 'ord_after_server_restart',
      ),
    );
    expect(serve.lines.filter((line) => line.type === 'not-json')).toEqual([]);
    expect(await serve.stop('SIGTERM')).toBe(0);
  });

  it('says the URL changed (notice and tunnel line) when serve restarts and its name is taken', async ({
    expect,
    onTestFinished,
  }) => {
    const { server, dir, name } = await tunnelSetup(onTestFinished, 'taken');

    const firstServe = await startServe(dir, tunnelArgs(server, name));
    onTestFinished(async () => {
      await firstServe.stop('SIGKILL');
    });
    const oldWebhookUrl = expectPublicUrl(expect, firstServe, server, name);
    const oldBase = oldWebhookUrl.slice(0, oldWebhookUrl.indexOf('/webhooks/'));
    // Online first, so that the stop below is a stop of a serve that had its tunnel.
    const [, online] = await firstServe.waitForLines(2);
    expect(online).toMatchObject({ type: 'tunnel', state: 'online', publicUrl: oldBase });
    expect(await firstServe.stop('SIGTERM')).toBe(0);

    // Someone else has the name now; serve starts again on the same history, asking for its saved name.
    server.reserveName(name);
    const serve = await startServe(dir, tunnelArgs(server));
    onTestFinished(async () => {
      await serve.stop('SIGKILL');
    });
    expect(serve.ready.localUrl.endsWith(oldWebhookUrl.slice(oldWebhookUrl.indexOf('/webhooks/')))).toBe(true);
    // Ready comes with the first attempt's outcome: refused its own name, which it asks for again
    // before it takes another URL, so no public URL yet (the new one is checked below).
    expect(serve.ready.publicUrl).toBeNull();

    // It asks for its own name a few times (with backoff) before it accepts a new URL, then says so loudly.
    const notice = await until(
      'a url-changed notice',
      serve,
      () => serve.lines.find((line) => line.type === 'notice' && line.kind === 'url-changed'),
      25_000,
    );
    const changed = await until('a tunnel line with urlChanged', serve, () =>
      tunnelLines(serve).find((line) => line.urlChanged !== null),
    );
    const newBase = changed.publicUrl ?? '';
    expect(changed).toMatchObject({ state: 'online', urlChanged: { from: oldBase, to: newBase } });
    expect(newBase).not.toBe(oldBase);
    expect(newBase).toMatch(new RegExp(`^http://[a-z0-9]+\\.localhost:${server.port}$`));
    const newWebhookUrl = `${newBase}${oldWebhookUrl.slice(oldWebhookUrl.indexOf('/webhooks/'))}`;
    expect(changed.webhookUrl).toBe(newWebhookUrl);
    expect(notice).toMatchObject({ title: 'Your webhook URL changed', at: expect.any(String) });
    expect(notice.body).toContain(newBase);
    expect(tunnelLines(serve).some((line) => line.state === 'offline' && line.lastError?.includes('still holds'))).toBe(
      true,
    );

    // The new URL is the one everywhere: `url` in another process, and it receives.
    const url = await runCli(['url', '--data-dir', dir]);
    expect(url).toMatchObject({ code: 0, stdout: `${newWebhookUrl}\n`, stderr: '' });
    const res = await post(
      server,
      newWebhookUrl,
      JSON.stringify({ event_type: 'order.completed', order_id: 'ord_after_url_change' }),
    );
    expect(res.status, res.body).toBe(200);
    expect(serve.lines.filter((line) => line.type === 'not-json')).toEqual([]);
    expect(await serve.stop('SIGTERM')).toBe(0);
  });

  it('tells after the ready line what happened during the start: connecting, online at a changed URL, the notice', async ({
    expect,
    onTestFinished,
  }) => {
    const { server, dir, name } = await tunnelSetup(onTestFinished, 'during');
    const firstServe = await startServe(dir, tunnelArgs(server, name));
    onTestFinished(async () => {
      await firstServe.stop('SIGKILL');
    });
    const oldWebhookUrl = expectPublicUrl(expect, firstServe, server, name);
    expect(await firstServe.stop('SIGTERM')).toBe(0);

    // Asked for another name, its first attempt comes online at once at a URL other than the one
    // pasted into SingleFile: the warning is raised while serve is still starting.
    const otherName = subdomain('other');
    const serve = await startServe(dir, tunnelArgs(server, otherName));
    onTestFinished(async () => {
      await serve.stop('SIGKILL');
    });
    const newWebhookUrl = expectPublicUrl(expect, serve, server, otherName);
    const base = (url: string) => url.slice(0, url.indexOf('/webhooks/'));
    const lines = await serve.waitForLines(3);
    expect(lines.slice(0, 3)).toMatchObject([
      { type: 'tunnel', state: 'connecting' },
      { type: 'tunnel', state: 'online', urlChanged: { from: base(oldWebhookUrl), to: base(newWebhookUrl) } },
      { type: 'notice', kind: 'url-changed', title: 'Your webhook URL changed' },
    ]);
    expect(await serve.stop('SIGTERM')).toBe(0);
  });

  it('SIGTERM while a tunnel host that accepts and never answers holds the start: a clean stop, exit 0', async ({
    expect,
    onTestFinished,
  }) => {
    const held: Socket[] = [];
    const silent = createServer((socket) => {
      socket.on('error', () => {});
      held.push(socket);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    onTestFinished(async () => {
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    });
    const { port } = silent.address() as { port: number };
    const dir = tempDir();
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const serve = spawnCliProcess([
      'serve',
      '--json',
      '--port',
      '0',
      '--data-dir',
      dir,
      ...['--tunnel', 'localtunnel', '--tunnel-host', `http://127.0.0.1:${port}`],
    ]);
    onTestFinished(() => serve.kill('SIGKILL'));
    // Its registration request has arrived and gets no answer: serve is inside its start.
    await waitUntil('the registration request', () => held.length > 0, 10_000);
    serve.kill('SIGTERM');
    // Stopped at once, not after the registration's own 10 s timeout: the deadline is well inside it.
    const result = await waitFor('serve to exit', serve.exited, 5_000);
    expect(result).toMatchObject({ code: 0, signal: null, stdout: '' });
    expect(result.stderr).toBe('');
  });
});

async function waitUntil(what: string, ok: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function waitFor<T>(what: string, promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
