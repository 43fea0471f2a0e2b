/**
 * Secrets: the webhook URL's token and the signing secret never appear in log lines or in the
 * NDJSON lines `serve --json` prints (events, notices), whatever arrives; the token appears only
 * in the URLs meant for the person (the ready line, and a tunnel line's `webhookUrl`), and a new
 * token stops the old URL at once, even on a connection that was already open.
 *
 * Both run with a tunnel: a localtunnel server on loopback (test/helpers/tunnel-server.ts) and the
 * real localtunnel client, so the tunnel's own log lines and notices are part of what is checked.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMonitor } from '../../electron/core/monitor.ts';
import type { Notice, Status } from '../../shared/api.ts';
import { runCli, startServe } from '../helpers/cli.ts';
import { tempDir } from '../helpers/fixtures.ts';
import { post } from '../helpers/http.ts';
import { startTunnelServer, type TunnelServer } from '../helpers/tunnel-server.ts';
import { captureLogger } from './support.ts';

const SECRET = `whsec_${randomBytes(24).toString('base64')}`;
/** What could leak of the secret: the whole of it, or its key without the prefix. */
const secretForms = [SECRET, SECRET.slice('whsec_'.length)];
const tokenOf = (url: string) => new URL(url).pathname.split('/').pop() ?? '';
const event = (n: number | string) => JSON.stringify({ event_type: 'document.created', document_id: `doc_${n}` });

function signed(body: string, id = `msg_${randomBytes(6).toString('hex')}`): Record<string, string> {
  const now = new Date();
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    'webhook-signature': new Webhook(SECRET).sign(id, now, body),
  };
}

/** A name the localtunnel server accepts, unique per run. */
const subdomain = (tag: string) => `sfm-${tag}-${randomBytes(4).toString('hex')}`;

let server: TunnelServer;
const dirs: string[] = [];
beforeAll(async () => {
  server = await startTunnelServer({ domain: 'localhost' });
});
afterAll(async () => {
  await server.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('secrets in the log', () => {
  it('no log line holds the token (old or new) or the signing secret, whatever arrives', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const log = captureLogger();
    const monitor = createMonitor({
      dataDir,
      log,
      tunnel: { provider: 'localtunnel', host: server.url, subdomain: subdomain('log') },
    });
    const notices: Notice[] = [];
    monitor.subscribe('notice', (n) => notices.push(n));
    const tokens: string[] = [];
    try {
      const { localUrl, publicUrl } = await monitor.start();
      expect(publicUrl).toMatch(/^http:\/\/sfm-log-/);
      tokens.push(tokenOf(localUrl));
      await monitor.updateSettings({ security: { signature: { mode: 'standard-webhooks', secret: SECRET } } });

      // Good, unsigned, badly signed, wrongly addressed: through the tunnel and locally.
      const through = (url: string, body: string, headers: Record<string, string> = {}) =>
        server.request(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
      expect((await through(publicUrl ?? '', event(1), signed(event(1)))).status).toBe(200);
      expect((await through(publicUrl ?? '', event(2))).status).toBe(401);
      expect(
        (await through(publicUrl ?? '', event(3), { ...signed(event(3)), 'webhook-signature': 'v1,AAAA' })).status,
      ).toBe(401);
      expect((await post(localUrl.replace(tokens[0] ?? '', 'x'.repeat(22)), event(4))).status).toBe(404);
      expect((await post(localUrl, '{"event_type":', signed('{"event_type":'))).status).toBe(400);

      // Flood control and a new URL, both of which log.
      await monitor.updateSettings({ security: { rateLimit: { perMinute: 1 } } });
      await post(localUrl, event(5), signed(event(5)));
      expect((await post(localUrl, event(6), signed(event(6)))).status).toBe(429);
      await monitor.updateSettings({ security: { rateLimit: { perMinute: null } } });
      const rotated = await monitor.regenerateWebhookUrl({});
      tokens.push(tokenOf(rotated.receiver.localUrl ?? ''));
      expect(tokens[1]).not.toBe(tokens[0]);
      expect((await post(rotated.receiver.localUrl ?? '', event(7), signed(event(7)))).status).toBe(200);
    } finally {
      await monitor.stop();
    }

    expect(log.lines.length).toBeGreaterThan(3);
    expect(log.text()).toMatch(/refused a delivery \(401\)/);
    expect(log.text()).toMatch(/flood control/);
    expect(log.text()).toMatch(/regenerated/);
    const everything = [log.text(), JSON.stringify(notices)].join('\n');
    for (const token of tokens) expect(everything).not.toContain(token);
    for (const form of secretForms) expect(everything).not.toContain(form);
  });
});

describe('secrets in the NDJSON of serve --json', () => {
  it('event and notice lines never hold the token or the secret; URLs for the person do', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    // The signing secret is saved in the history beforehand, as the window would save it.
    const setup = createMonitor({ dataDir, tunnel: { provider: 'none' } });
    await setup.start();
    // So is a low rate limit, so that flood control speaks up too (a notice line).
    await setup.updateSettings({
      security: { signature: { mode: 'standard-webhooks', secret: SECRET }, rateLimit: { perMinute: 3 } },
    });
    await setup.stop();

    const serve = await startServe(dataDir, [
      '--no-dashboard',
      '--tunnel',
      'localtunnel',
      '--tunnel-host',
      server.url,
      '--subdomain',
      subdomain('ndjson'),
    ]);
    const token = tokenOf(serve.ready.localUrl);
    try {
      const publicUrl = serve.ready.publicUrl ?? '';
      expect(tokenOf(publicUrl)).toBe(token);
      const through = (body: string, headers: Record<string, string> = {}) =>
        server.request(publicUrl, {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/json', ...headers },
        });
      expect((await through(event('n1'), signed(event('n1')))).status).toBe(200);
      expect((await through(event('n2'))).status).toBe(401);
      expect((await post(serve.ready.localUrl, event('n3'), signed(event('n3')))).status).toBe(200);
      expect((await post(serve.ready.localUrl, event('n4'), signed(event('n4')))).status).toBe(429);
      await waitFor(() => serve.lines.some((l) => l.type === 'notice' && l.kind === 'receiver-throttled'));
      // The tunnel server goes away and comes back: tunnel lines and notices follow.
      await server.restart();
      await waitFor(() => serve.lines.some((l) => l.type === 'tunnel' && l.state !== 'online'));
      await waitFor(() => serve.lines.filter((l) => l.type === 'tunnel' && l.state === 'online').length >= 2);
    } finally {
      expect(await serve.stop()).toBe(0);
    }

    const byType = (type: string) => serve.lines.filter((l) => l.type === type);
    expect(byType('event')).toHaveLength(2);
    expect(byType('notice').length).toBeGreaterThan(0);
    expect(byType('not-json')).toEqual([]);
    for (const line of [...byType('event'), ...byType('notice')]) {
      const text = JSON.stringify(line);
      expect(text).not.toContain(token);
      for (const form of secretForms) expect(text).not.toContain(form);
    }
    // Tunnel lines carry the token only in the URL to paste into SingleFile.
    for (const line of byType('tunnel')) {
      const { webhookUrl, ...rest } = line;
      expect(JSON.stringify(rest)).not.toContain(token);
      if (webhookUrl !== null) expect(tokenOf(String(webhookUrl))).toBe(token);
    }
    expect(serve.lines.map((l) => l.type).every((t) => ['tunnel', 'event', 'notice'].includes(String(t)))).toBe(true);
    // And the log on stderr, which holds the 401's warning, holds neither.
    expect(serve.stderr()).toMatch(/refused a delivery \(401\)/);
    expect(serve.stderr()).not.toContain(token);
    for (const form of secretForms) expect(serve.stderr()).not.toContain(form);
  });
});

describe('rotating the token', () => {
  it('stops the old URL at once, even on a connection opened before, and `url` prints the new one', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const monitor = createMonitor({ dataDir, tunnel: { provider: 'none' } });
    const statuses: Status[] = [];
    monitor.subscribe('status', (s) => statuses.push(s));
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const { localUrl: oldUrl } = await monitor.start();
      expect((await post(oldUrl, event('r1'), {}, agent)).status).toBe(200);
      const rotated = await monitor.regenerateWebhookUrl({});
      const newUrl = rotated.receiver.localUrl ?? '';
      expect(tokenOf(newUrl)).not.toBe(tokenOf(oldUrl));
      expect(statuses.at(-1)?.receiver.localUrl).toBe(newUrl);
      // Same kept-alive connection as the 200 above: the token is checked per request.
      const old = await post(oldUrl, event('r2'), {}, agent);
      expect([old.status, old.body]).toEqual([404, '{"error":"not found"}']);
      expect((await post(newUrl, event('r3'), {}, agent)).status).toBe(200);

      // Another process reads the same history: it gives the new URL, never the old one.
      const url = await runCli(['url', '--data-dir', dataDir]);
      expect(url.stdout.trim()).toBe(newUrl);
      const { events } = await monitor.listEvents({});
      expect(events.map((e) => e.payload.document_id).sort()).toEqual(['doc_r1', 'doc_r3']);
    } finally {
      agent.destroy();
      await monitor.stop();
    }
  });
});

async function waitFor(check: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
