import {
  Agent,
  type ClientRequest,
  type ClientRequestArgs,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/**
 * A localtunnel server on 127.0.0.1 for tests: the real localtunnel client registers with it, opens
 * its tunnel sockets to it, and public requests (sent to 127.0.0.1 with the `Host` header of a public
 * URL, since `<id>.<domain>` does not resolve) travel down those sockets to the client's local app.
 *
 * Protocol (as the reference server localtunnel/server speaks it):
 * - `GET /?new` → a random id; `GET /<name>` → that name if valid and free, a random id if taken,
 *   403 `{message}` if invalid. The answer is `{id, port, max_conn_count, url}`, where `port` is a
 *   TCP listener of that client's own for its tunnel sockets.
 * - A request whose `Host` is `<id>.<domain>[:port]` is forwarded down one of that client's tunnel
 *   sockets (an http.Agent whose createConnection hands out tunnel sockets; keep-alive, so one
 *   socket carries several requests, as with the real server). When every socket is busy the request
 *   waits for one. Unknown id → 404; a client without any tunnel socket for `noSocketWaitMs` → 504.
 * - A client is forgotten `forgetAfterMs` after its last tunnel socket closes (or after registering
 *   if none ever connects); its name is then free again.
 *
 * Everything it opens (servers, sockets, timers) is tracked and released by `close()` / `restart()`.
 */

export interface TunnelServerOptions {
  /** Main port; 0 (the default) = any free port. */
  port?: number;
  /** Public domain: clients get `http://<id>.<domain>:<port>`. Default `lt.test`. */
  domain?: string;
  /** Tunnel sockets a client may open (told to it as `max_conn_count`). Default 10. */
  maxConnCount?: number;
  /** A client is forgotten this long after its last tunnel socket closes. Default 1000. */
  forgetAfterMs?: number;
  /** A public request for a client that has no tunnel socket at all waits this long for one, then 504. Default 2000. */
  noSocketWaitMs?: number;
}

export interface PublicResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface PublicRequestInit {
  method?: string;
  /** Path and query; default: those of the public URL. */
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  /** The promise rejects (and the request is destroyed) after this long. Default 10000. */
  timeoutMs?: number;
}

export type TunnelFault =
  | 'none'
  | 'stall-registration'
  | 'refuse-registration'
  | 'refuse-name'
  | 'fail-registration'
  | 'stall-forwarding'
  | 'throttle-public';

export interface TunnelServer {
  /** `http://127.0.0.1:PORT`: pass it as `host` to the localtunnel client. */
  readonly url: string;
  readonly port: number;
  readonly domain: string;
  /** Sends an HTTP request to the server on 127.0.0.1:port with the Host header of publicUrl (public URLs do not resolve). */
  request(publicUrl: string, init?: PublicRequestInit): Promise<PublicResponse>;
  /** Registered tunnel ids. */
  clientIds(): string[];
  /** Open tunnel sockets of a client (0 for an unknown id). */
  socketCount(id: string): number;
  /**
   * Fault injection. 'none' = normal. 'stall-registration' = GET /?new and GET /<name> never answer.
   * 'refuse-registration' = registration requests get the TCP connection destroyed. 'refuse-name' =
   * GET /<name> is answered 403 with the reference server's bad-name message, whatever the name (a
   * server with a stricter rule than ours). 'fail-registration' = registration requests are answered
   * 503 with a plain-text body, as a server in an outage does. 'stall-forwarding' = tunnel sockets
   * stay open but public requests are never written to them (the public request hangs until its
   * own timeout). 'throttle-public' = public requests are answered 429 by the server itself, never
   * forwarded (loca.lt's own rate limit).
   */
  setFault(fault: TunnelFault): void;
  /** Marks a name as taken by someone else, so asking for it yields a random id. */
  reserveName(name: string): void;
  /** Undoes reserveName. */
  releaseName(name: string): void;
  /** Drops every client (destroys all tunnel sockets, closes their ports, forgets them) and listens again on the SAME main port. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

const NAME_RULE = /^[a-z0-9][a-z0-9-]{4,63}[a-z0-9]$/;
const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
/** Hop-by-hop headers: never passed on in either direction. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'upgrade',
]);

function randomId(): string {
  let id = '';
  for (let i = 0; i < 10; i++) id += ID_ALPHABET[Math.floor(Math.random() * ID_ALPHABET.length)];
  return id;
}

/** `rawHeaders` without hop-by-hop headers, in the flat [name, value, …] form http accepts. */
function passHeaders(raw: string[], dropTransferEncoding: boolean): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower)) continue;
    if (dropTransferEncoding && lower === 'transfer-encoding') continue;
    out.push(name, raw[i + 1] as string);
  }
  return out;
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function sendText(res: ServerResponse, status: number, text: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** The callback an http.Agent hands to createConnection (on error the stream is ignored). */
type SocketCallback = (err: Error | null, stream: Duplex) => void;

function failSocket(callback: SocketCallback, error: Error): void {
  callback(error, undefined as unknown as Duplex);
}

interface Waiter {
  callback: SocketCallback;
  timer: NodeJS.Timeout;
}

interface ClientSettings {
  maxConnCount: number;
  forgetAfterMs: number;
  noSocketWaitMs: number;
  /** Called once the client should be forgotten (no tunnel socket for forgetAfterMs). */
  onForget: (client: TunnelClient) => void;
}

/** One registered client: its tunnel listener, its tunnel sockets, and the agent that lends them to requests. */
class TunnelClient {
  readonly id: string;
  readonly port: number;
  readonly sockets = new Set<Socket>();
  readonly agent: Agent;
  private readonly listener: NetServer;
  private readonly settings: ClientSettings;
  /** Tunnel sockets not yet handed to the agent. */
  private readonly fresh: Socket[] = [];
  private readonly waiters = new Set<Waiter>();
  private forgetTimer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(id: string, listener: NetServer, port: number, settings: ClientSettings) {
    this.id = id;
    this.listener = listener;
    this.port = port;
    this.settings = settings;
    const lend = (callback: SocketCallback) => this.lend(callback);
    this.agent = new (class extends Agent {
      override createConnection(_options: ClientRequestArgs, callback?: SocketCallback): undefined {
        if (callback) lend(callback);
        return undefined;
      }
    })({ keepAlive: true, maxSockets: settings.maxConnCount, maxFreeSockets: settings.maxConnCount });
    listener.on('connection', (socket) => this.accept(socket));
    this.armForget();
  }

  /** Opens the tunnel listener, then takes its id from chooseId (called synchronously, so the id is still free). */
  static async open(chooseId: () => string, settings: ClientSettings): Promise<TunnelClient> {
    const listener = createNetServer();
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(0, '127.0.0.1', () => {
        listener.off('error', reject);
        resolve();
      });
    });
    const address = listener.address();
    if (address === null || typeof address === 'string') throw new Error('tunnel listener has no port');
    return new TunnelClient(chooseId(), listener, address.port, settings);
  }

  private accept(socket: Socket): void {
    socket.on('error', () => {});
    if (this.closed || this.sockets.size >= this.settings.maxConnCount) {
      socket.destroy();
      return;
    }
    socket.setKeepAlive(true);
    this.sockets.add(socket);
    this.clearForget();
    socket.once('close', () => {
      this.sockets.delete(socket);
      const index = this.fresh.indexOf(socket);
      if (index >= 0) this.fresh.splice(index, 1);
      if (this.sockets.size === 0) this.armForget();
    });
    const waiter = this.waiters.values().next().value;
    if (waiter) {
      this.waiters.delete(waiter);
      clearTimeout(waiter.timer);
      waiter.callback(null, socket);
    } else {
      this.fresh.push(socket);
    }
  }

  /** The agent's createConnection: a tunnel socket now, or the next one to connect, or an error after noSocketWaitMs. */
  private lend(callback: SocketCallback): void {
    if (this.closed) {
      failSocket(callback, new Error('tunnel closed'));
      return;
    }
    const socket = this.fresh.shift();
    if (socket) {
      callback(null, socket);
      return;
    }
    // No unused tunnel socket: wait for the client to connect one. While it still has sockets (all of
    // them lent to the agent), it replaces each one that dies, so keep waiting; with none at all, give up.
    const waiter: Waiter = { callback, timer: setTimeout(() => expire(), this.settings.noSocketWaitMs) };
    const expire = () => {
      if (this.sockets.size > 0) {
        waiter.timer = setTimeout(() => expire(), this.settings.noSocketWaitMs);
        return;
      }
      this.waiters.delete(waiter);
      failSocket(callback, new Error(`no tunnel socket within ${this.settings.noSocketWaitMs} ms`));
    };
    this.waiters.add(waiter);
  }

  private armForget(): void {
    this.clearForget();
    if (this.closed) return;
    this.forgetTimer = setTimeout(() => {
      this.forgetTimer = undefined;
      this.settings.onForget(this);
    }, this.settings.forgetAfterMs);
  }

  private clearForget(): void {
    if (this.forgetTimer) clearTimeout(this.forgetTimer);
    this.forgetTimer = undefined;
  }

  /** Destroys every tunnel socket, closes the listener, fails waiting requests, stops every timer. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clearForget();
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      failSocket(waiter.callback, new Error('tunnel closed'));
    }
    this.waiters.clear();
    this.agent.destroy();
    for (const socket of this.sockets) socket.destroy();
    this.fresh.length = 0;
    await new Promise<void>((resolve) => this.listener.close(() => resolve()));
  }
}

export async function startTunnelServer(options: TunnelServerOptions = {}): Promise<TunnelServer> {
  const domain = (options.domain ?? 'lt.test').toLowerCase();
  const maxConnCount = options.maxConnCount ?? 10;
  const forgetAfterMs = options.forgetAfterMs ?? 1000;
  const noSocketWaitMs = options.noSocketWaitMs ?? 2000;

  const clients = new Map<string, TunnelClient>();
  const reserved = new Set<string>();
  /** Requests this server holds on purpose (stalls) or is forwarding; destroyed on restart/close. */
  const held = new Set<ServerResponse>();
  const forwarding = new Set<ClientRequest>();
  /** Our own outgoing public requests (request()): aborted by close(). */
  const outgoing = new Set<{ abort: () => void }>();
  let fault: TunnelFault = 'none';
  let port = options.port ?? 0;
  let closed = false;
  /** Bumped by every restart/close: a registration that straddles one is dropped. */
  let generation = 0;
  let server: Server;

  const isTaken = (name: string) => clients.has(name) || reserved.has(name);

  function forget(client: TunnelClient): void {
    if (clients.get(client.id) === client) clients.delete(client.id);
    void client.close();
  }

  async function register(requested: string | undefined, res: ServerResponse): Promise<void> {
    const startedIn = generation;
    const chooseId = () => {
      let id = requested && !isTaken(requested) ? requested : randomId();
      while (isTaken(id)) id = randomId();
      return id;
    };
    const client = await TunnelClient.open(chooseId, { maxConnCount, forgetAfterMs, noSocketWaitMs, onForget: forget });
    if (generation !== startedIn || res.destroyed || !res.writable) {
      await client.close();
      return;
    }
    const id = client.id;
    clients.set(id, client);
    sendJson(res, 200, { id, port: client.port, max_conn_count: maxConnCount, url: `http://${id}.${domain}:${port}` });
  }

  function hold(res: ServerResponse): void {
    held.add(res);
    res.once('close', () => held.delete(res));
  }

  function handleApi(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const segments = url.pathname.split('/').filter((s) => s !== '');
    const isNew = url.pathname === '/' && url.searchParams.has('new');
    const isNamed = segments.length === 1 && url.pathname === `/${segments[0]}`;
    if (req.method !== 'GET' || (!isNew && !isNamed)) {
      sendJson(res, 404, { message: 'not found' });
      return;
    }
    if (fault === 'refuse-registration') {
      req.socket.destroy();
      return;
    }
    if (fault === 'stall-registration') {
      hold(res);
      return;
    }
    if (fault === 'fail-registration') {
      sendText(res, 503, 'Service Unavailable');
      return;
    }
    let requested: string | undefined;
    if (isNamed) {
      requested = segments[0] as string;
      if (!NAME_RULE.test(requested) || fault === 'refuse-name') {
        sendJson(res, 403, {
          message: 'Invalid subdomain. Subdomains must be lowercase and between 4 and 63 alphanumeric characters.',
        });
        return;
      }
    }
    register(requested, res).catch((error: unknown) => {
      if (!res.destroyed) sendJson(res, 500, { message: String(error) });
    });
  }

  function forward(client: TunnelClient, req: IncomingMessage, res: ServerResponse): void {
    if (fault === 'stall-forwarding') {
      hold(res);
      req.resume();
      return;
    }
    const upstream = httpRequest({
      agent: client.agent,
      host: '127.0.0.1',
      port: client.port,
      method: req.method,
      path: req.url,
      headers: passHeaders(req.rawHeaders, false),
    });
    forwarding.add(upstream);
    upstream.once('close', () => forwarding.delete(upstream));
    upstream.on('response', (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, passHeaders(answer.rawHeaders, true));
      answer.pipe(res);
      answer.on('error', () => res.destroy());
    });
    upstream.on('error', (error) => {
      const noSocket = /no tunnel socket|tunnel closed/.test(error.message);
      sendText(res, noSocket ? 504 : 502, `${noSocket ? 'Gateway Timeout' : 'Bad Gateway'}: ${error.message}`);
    });
    res.once('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  }

  function publicId(hostHeader: string | undefined): string | undefined {
    if (!hostHeader) return undefined;
    const hostname = hostHeader.replace(/:\d+$/, '').toLowerCase();
    if (!hostname.endsWith(`.${domain}`)) return undefined;
    return hostname.slice(0, -(domain.length + 1)).split('.')[0];
  }

  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    req.on('error', () => {});
    res.on('error', () => {});
    const id = publicId(req.headers.host);
    if (id === undefined) {
      handleApi(req, res);
      return;
    }
    if (fault === 'throttle-public') {
      req.resume();
      sendText(res, 429, 'Too Many Requests');
      return;
    }
    const client = clients.get(id);
    if (!client) {
      req.resume();
      sendText(res, 404, `404 - tunnel ${id} not found`);
      return;
    }
    forward(client, req, res);
  }

  async function listen(): Promise<void> {
    server = createServer(onRequest);
    server.on('clientError', (_error, socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('tunnel server has no port');
    port = address.port;
  }

  /** Stops the main server and drops every client; reserved names and the fault setting stay. */
  async function shutdown(): Promise<void> {
    generation++;
    const closing = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const res of held) res.destroy();
    held.clear();
    for (const upstream of forwarding) upstream.destroy();
    forwarding.clear();
    server.closeAllConnections();
    const dropped = [...clients.values()];
    clients.clear();
    await Promise.all(dropped.map((client) => client.close()));
    await closing;
  }

  function request(publicUrl: string, init: PublicRequestInit = {}): Promise<PublicResponse> {
    const target = new URL(publicUrl);
    const timeoutMs = init.timeoutMs ?? 10_000;
    return new Promise<PublicResponse>((resolve, reject) => {
      const headers: Record<string, string> = { ...init.headers, Host: target.host };
      if (init.body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length')) {
        headers['Content-Length'] = String(Buffer.byteLength(init.body));
      }
      const req = httpRequest({
        host: '127.0.0.1',
        port,
        method: init.method ?? 'GET',
        path: init.path ?? `${target.pathname}${target.search}`,
        headers,
        agent: false,
      });
      const entry = { abort: () => fail(new Error('tunnel server closed')) };
      outgoing.add(entry);
      const timer = setTimeout(() => fail(new Error(`public request timed out after ${timeoutMs} ms`)), timeoutMs);
      let settled = false;
      function done(): void {
        settled = true;
        clearTimeout(timer);
        outgoing.delete(entry);
      }
      function fail(error: Error): void {
        if (settled) return;
        done();
        req.destroy();
        reject(error);
      }
      req.on('error', fail);
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', fail);
        res.on('end', () => {
          if (settled) return;
          done();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
        });
      });
      req.end(init.body);
    });
  }

  await listen();

  return {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    domain,
    request,
    clientIds: () => [...clients.keys()],
    socketCount: (id) => clients.get(id)?.sockets.size ?? 0,
    setFault(next) {
      fault = next;
    },
    reserveName(name) {
      reserved.add(name);
    },
    releaseName(name) {
      reserved.delete(name);
    },
    async restart() {
      if (closed) throw new Error('tunnel server is closed');
      await shutdown();
      await listen();
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const entry of [...outgoing]) entry.abort();
      await shutdown();
    },
  };
}
