import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startTunnelServer, type TunnelServer, type TunnelServerOptions } from './helpers/tunnel-server.ts';

/**
 * The test tunnel server against the real localtunnel client (the npm `localtunnel` alias of
 * @security-patched/localtunnel) and a tiny node:http app as the tunnelled local server.
 */

/** The parts of the localtunnel client these tests use (the package ships no types). */
interface LocaltunnelClient {
  url: string;
  clientId: string;
  closed: boolean;
  on(event: 'error', listener: (error: Error) => void): this;
  on(event: 'close', listener: () => void): this;
  close(): void;
}
type Localtunnel = (options: {
  port: number;
  host: string;
  local_host?: string;
  subdomain?: string;
}) => Promise<LocaltunnelClient>;
const localtunnel = createRequire(import.meta.url)('localtunnel') as Localtunnel;

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

interface App {
  port: number;
  seen: Seen[];
  server: Server;
}

const servers: TunnelServer[] = [];
const apps: App[] = [];
const clients: LocaltunnelClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(servers.splice(0).map((server) => server.close()));
  await Promise.all(
    apps.splice(0).map(
      (app) =>
        new Promise<void>((resolve) => {
          app.server.close(() => resolve());
          app.server.closeAllConnections();
        }),
    ),
  );
});

async function startServer(options: TunnelServerOptions = {}): Promise<TunnelServer> {
  const server = await startTunnelServer(options);
  servers.push(server);
  return server;
}

/**
 * The tunnelled app: records each request; `/status/<n>` answers n, `/slow` answers after 300 ms,
 * anything else echoes method, path and body as JSON. Every answer carries `X-App: yes`.
 */
async function startApp(): Promise<App> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const status = /^\/status\/(\d{3})(\?|$)/.exec(req.url ?? '');
      const answer = () => {
        res.writeHead(status ? Number(status[1]) : 200, { 'Content-Type': 'application/json', 'X-App': 'yes' });
        res.end(JSON.stringify({ method: req.method, url: req.url, body }));
      };
      if (req.url === '/slow') setTimeout(answer, 300);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('app has no port');
  const app = { port: address.port, seen, server };
  apps.push(app);
  return app;
}

/** A registered client with its tunnel sockets open, and the errors it emitted. */
async function openClient(
  server: TunnelServer,
  app: App,
  subdomain?: string,
): Promise<{ client: LocaltunnelClient; errors: Error[] }> {
  const client = await localtunnel({
    port: app.port,
    host: server.url,
    local_host: '127.0.0.1',
    ...(subdomain === undefined ? {} : { subdomain }),
  });
  clients.push(client);
  const errors: Error[] = [];
  client.on('error', (error) => errors.push(error));
  await waitFor(() => server.socketCount(client.clientId) > 0);
  return { client, errors };
}

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Counts of the active handle types a leak would show up in. */
function handleCounts(): Record<string, number> {
  const counts: Record<string, number> = { TCPSocketWrap: 0, TCPServerWrap: 0, Timeout: 0 };
  for (const type of process.getActiveResourcesInfo()) if (type in counts) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

describe('tunnel server: registration', () => {
  it('gives a random lowercase id for /?new, with a tunnel port and the public url', async () => {
    const server = await startServer();
    const app = await startApp();
    const { client } = await openClient(server, app);
    expect(client.clientId).toMatch(/^[a-z0-9][a-z0-9-]{4,63}[a-z0-9]$/);
    expect(client.url).toBe(`http://${client.clientId}.lt.test:${server.port}`);
    expect(server.clientIds()).toEqual([client.clientId]);
    await waitFor(() => server.socketCount(client.clientId) === 10);
  });

  it('grants a valid free name, and a random id when the name is taken or reserved', async () => {
    const server = await startServer();
    const app = await startApp();
    const { client: first } = await openClient(server, app, 'sfm-abcdef123456');
    expect(first.clientId).toBe('sfm-abcdef123456');
    expect(first.url).toBe(`http://sfm-abcdef123456.lt.test:${server.port}`);

    const { client: second } = await openClient(server, app, 'sfm-abcdef123456');
    expect(second.clientId).not.toBe('sfm-abcdef123456');
    expect(second.clientId).toMatch(/^[a-z0-9][a-z0-9-]{4,63}[a-z0-9]$/);

    server.reserveName('sfm-reserved0001');
    const { client: third } = await openClient(server, app, 'sfm-reserved0001');
    expect(third.clientId).not.toBe('sfm-reserved0001');
    expect(server.clientIds().sort()).toEqual([first.clientId, second.clientId, third.clientId].sort());
  });

  it('answers 403 with a JSON message for an invalid name (plain fetch: the client would retry forever)', async () => {
    const server = await startServer();
    for (const name of ['Bad_Name', 'abc', '-leading-dash', 'UPPERCASE-NAME']) {
      const response = await fetch(`${server.url}/${name}`);
      expect(response.status).toBe(403);
      const body = (await response.json()) as { message?: unknown };
      expect(typeof body.message).toBe('string');
    }
    expect(server.clientIds()).toEqual([]);
  });

  it('answers /?new with {id, port, max_conn_count, url} as JSON', async () => {
    const server = await startServer({ domain: 'example.test', maxConnCount: 3 });
    const response = await fetch(`${server.url}/?new`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { id: string; port: number; max_conn_count: number; url: string };
    expect(body.max_conn_count).toBe(3);
    expect(body.url).toBe(`http://${body.id}.example.test:${server.port}`);
    expect(await canConnect(body.port)).toBe(true);
    expect(server.clientIds()).toEqual([body.id]);
  });

  it('gives a name asked for twice at once to one of the two only', async () => {
    const server = await startServer();
    const ask = async () => ((await (await fetch(`${server.url}/sfm-samename0001`)).json()) as { id: string }).id;
    const ids = await Promise.all([ask(), ask()]);
    expect(ids.filter((id) => id === 'sfm-samename0001')).toHaveLength(1);
    expect(new Set(server.clientIds())).toEqual(new Set(ids));
  });
});

describe('tunnel server: forwarding by Host', () => {
  it('passes method, path, headers and body through, and the answer back', async () => {
    const server = await startServer();
    const app = await startApp();
    const { client } = await openClient(server, app);

    const get = await server.request(client.url, { path: '/status/201?x=1', headers: { 'X-Probe': 'p1' } });
    expect(get.status).toBe(201);
    expect(get.headers['x-app']).toBe('yes');
    expect(JSON.parse(get.body)).toEqual({ method: 'GET', url: '/status/201?x=1', body: '' });

    const json = JSON.stringify({ type: 'saved', nonce: 'n-42', list: [1, 2, 3] });
    const post = await server.request(`${client.url}/hook/abc`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: json,
    });
    expect(post.status).toBe(200);
    expect(JSON.parse(post.body)).toEqual({ method: 'POST', url: '/hook/abc', body: json });

    const last = app.seen.at(-1);
    expect(last?.headers['content-type']).toBe('application/json');
    expect(app.seen.map((s) => s.url)).toEqual(['/status/201?x=1', '/hook/abc']);
    expect(app.seen[0]?.headers['x-probe']).toBe('p1');
    // The client rewrites Host to local_host only in the first request on each tunnel socket (it
    // reuses sockets), so the app sees either one.
    const publicHost = new URL(client.url).host;
    for (const { headers } of app.seen) expect(['127.0.0.1', publicHost]).toContain(headers.host);
  });

  it('serves many concurrent requests, queueing them when every tunnel socket is busy', async () => {
    const server = await startServer({ maxConnCount: 2 });
    const app = await startApp();
    const { client } = await openClient(server, app);
    const answers = await Promise.all(Array.from({ length: 5 }, () => server.request(`${client.url}/slow`)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(server.socketCount(client.clientId)).toBeLessThanOrEqual(2);
  });

  it('answers 404 for an unknown id and routes nothing to other clients', async () => {
    const server = await startServer();
    const app = await startApp();
    await openClient(server, app);
    const response = await server.request(`http://nosuchtunnel.lt.test:${server.port}/x`);
    expect(response.status).toBe(404);
    expect(app.seen).toEqual([]);
  });

  it('answers 504 while a client has no socket, then forgets it and frees its name', async () => {
    const server = await startServer({ forgetAfterMs: 400, noSocketWaitMs: 150 });
    const app = await startApp();
    const { client } = await openClient(server, app, 'sfm-forgetme0001');
    client.close();
    await waitFor(() => server.socketCount('sfm-forgetme0001') === 0);
    expect(server.clientIds()).toEqual(['sfm-forgetme0001']);
    expect((await server.request(client.url)).status).toBe(504);
    await waitFor(() => server.clientIds().length === 0);
    expect((await server.request(client.url)).status).toBe(404);
    const { client: again } = await openClient(server, app, 'sfm-forgetme0001');
    expect(again.clientId).toBe('sfm-forgetme0001');
  });
});

describe('tunnel server: restart and faults', () => {
  it('restart() drops every client on the same port; the old client errors, a new one registers', async () => {
    const server = await startServer();
    const app = await startApp();
    const { client, errors } = await openClient(server, app, 'sfm-restart00001');
    const url = server.url;
    await server.restart();
    expect(server.url).toBe(url);
    expect(server.clientIds()).toEqual([]);
    expect(server.socketCount('sfm-restart00001')).toBe(0);
    // The old client's sockets die, it tries its (now closed) tunnel port again and reports errors;
    // it never registers again by itself.
    await waitFor(() => errors.length > 0);
    expect(errors[0]?.message).toMatch(/connection refused/);
    expect(client.closed).toBe(false);
    expect((await server.request(client.url)).status).toBe(404);

    const { client: fresh } = await openClient(server, app, 'sfm-restart00001');
    expect(fresh.clientId).toBe('sfm-restart00001');
    expect((await server.request(`${fresh.url}/after`)).status).toBe(200);
  });

  it("'stall-forwarding' keeps the sockets but never delivers; 'none' delivers again", async () => {
    const server = await startServer();
    const app = await startApp();
    const { client } = await openClient(server, app);
    server.setFault('stall-forwarding');
    await expect(server.request(`${client.url}/lost`, { timeoutMs: 300 })).rejects.toThrow(/timed out/);
    expect(server.socketCount(client.clientId)).toBeGreaterThan(0);
    expect(app.seen).toEqual([]);
    server.setFault('none');
    expect((await server.request(`${client.url}/found`)).status).toBe(200);
    expect(app.seen.map((s) => s.url)).toEqual(['/found']);
  });

  it("'stall-registration' never answers; 'refuse-registration' drops the connection", async () => {
    const server = await startServer();
    server.setFault('stall-registration');
    await expect(fetch(`${server.url}/?new`, { signal: AbortSignal.timeout(300) })).rejects.toThrow();
    await expect(fetch(`${server.url}/sfm-stalled00001`, { signal: AbortSignal.timeout(300) })).rejects.toThrow();
    server.setFault('refuse-registration');
    await expect(fetch(`${server.url}/?new`, { signal: AbortSignal.timeout(2000) })).rejects.toThrow(/fetch failed/);
    expect(server.clientIds()).toEqual([]);
    server.setFault('none');
    expect((await fetch(`${server.url}/?new`)).status).toBe(200);
  });

  it("'refuse-name' answers 403 to any name (a stricter server); 'fail-registration' answers 503 as in an outage", async () => {
    const server = await startServer();
    server.setFault('refuse-name');
    const refused = await fetch(`${server.url}/sfm-validname0001`);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { message?: unknown }).message).toMatch(/^Invalid subdomain/);
    expect((await fetch(`${server.url}/?new`)).status).toBe(200);
    server.setFault('fail-registration');
    for (const path of ['/?new', '/sfm-validname0002']) {
      const failed = await fetch(`${server.url}${path}`);
      expect([failed.status, await failed.text()]).toEqual([503, 'Service Unavailable']);
    }
    server.setFault('none');
    expect((await fetch(`${server.url}/sfm-validname0003`)).status).toBe(200);
  });

  it('close() releases every server, socket and timer it made', async () => {
    const before = handleCounts();
    const server = await startTunnelServer();
    const app = await startApp();
    const { client } = await openClient(server, app);
    const tunnelPort = ((await (await fetch(`${server.url}/?new`)).json()) as { port: number }).port;
    expect((await server.request(`${client.url}/x`, { method: 'POST', body: '{}' })).status).toBe(200);
    server.setFault('stall-registration');
    const stalled = fetch(`${server.url}/?new`).catch(() => 'dropped');
    await new Promise((resolve) => setTimeout(resolve, 100));
    server.setFault('stall-forwarding');
    const held = server.request(client.url, { timeoutMs: 20_000 }).catch(() => 'dropped');
    await new Promise((resolve) => setTimeout(resolve, 50));

    await server.close();
    await server.close(); // idempotent
    expect(await stalled).toBe('dropped');
    expect(await held).toBe('dropped');
    expect(await canConnect(server.port)).toBe(false);
    expect(await canConnect(tunnelPort)).toBe(false);

    client.close();
    clients.splice(clients.indexOf(client), 1);
    await new Promise<void>((resolve) => {
      app.server.close(() => resolve());
      app.server.closeAllConnections();
    });
    apps.splice(apps.indexOf(app), 1);
    await waitFor(() => {
      const after = handleCounts();
      return Object.entries(before).every(([type, count]) => (after[type] ?? 0) <= count);
    }, 3000).catch(() => {
      expect({ before, after: handleCounts(), all: process.getActiveResourcesInfo() }).toEqual({ before });
    });
  });
});
