import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { z } from 'zod';
import {
  EXPORT_PATH,
  ExportRequestSchema,
  type MonitorApi,
  type MonitorMethod,
  monitorApiContract,
  type PushChannel,
} from '../../shared/api.ts';
import {
  checkToken,
  isAllowedFetchSite,
  isAllowedHost,
  isAllowedOrigin,
  presentedToken,
  SECURITY_HEADERS,
  staticFile,
} from './dashboard-guard.ts';
import { ExportAbortedError, exportContentType, exportFilename, streamExport } from './export-format.ts';
import type { Logger } from './log.ts';

export interface DashboardOptions {
  /** The Monitor API the dashboard carries; each request is validated before it gets there. */
  api: MonitorApi;
  /** The built renderer (index.html and its assets). Without an index.html, a page says how to build it. */
  staticDir: string;
  log: Logger;
  /** The access token; a fresh random one per start unless given (tests). */
  token?: string;
  /** How often an idle event stream gets a comment line, so that proxies and the browser keep it open. */
  heartbeatMs?: number;
  maxBodyBytes?: number;
}

export interface Dashboard {
  /** Listens on 127.0.0.1 (port 0: any free port); resolves with the port. */
  listen(port: number): Promise<number>;
  /**
   * The address to open, with the token in the fragment: a browser never sends the fragment to a
   * server, so it stays out of request lines, logs and Referer headers.
   */
  readonly url: string | null;
  readonly token: string;
  /** Event streams open right now. */
  readonly streams: number;
  /** Stops accepting, ends the event streams, lets API calls in flight finish. */
  close(): Promise<void>;
}

const PUSH_CHANNELS: readonly PushChannel[] = ['event', 'status', 'notice'];
const MAX_BODY_BYTES = 1024 * 1024;
// A stream whose reader stopped reading is dropped past this much unsent data; the browser
// reconnects and reloads what it shows, instead of the server holding an ever-growing buffer.
const MAX_STREAM_BACKLOG = 4 * 1024 * 1024;
const CLOSE_DEADLINE_MS = 2_000;
/** Errors the core throws for a request that is valid in shape but not in meaning: 400, not 500. */
const CALLER_MISTAKES = new Set(['InvalidQueryError', 'InvalidSettingsError']);
const NOT_BUILT_PAGE = `<!doctype html><meta charset="utf-8"><title>SingleFile Monitor</title>
<p>The dashboard has not been built. Run <code>npm run build:renderer</code> in the repository, then reload this page.</p>`;

export function createDashboard(options: DashboardOptions): Dashboard {
  const { api, log } = options;
  const token = options.token ?? randomBytes(32).toString('base64url');
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
  const streams = new Set<() => void>();
  const server: Server = createServer({ headersTimeout: 10_000, requestTimeout: 30_000, keepAliveTimeout: 5_000 });
  let port = 0;

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((error: unknown) => {
      log.error('dashboard', `unexpected failure: ${String(error)}`);
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });
  server.on('clientError', (_error, socket: Socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    socket.destroySoon();
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!isAllowedHost(req.headers.host, port)) return sendJson(res, 403, { error: 'forbidden host' });
    const origin = req.headers.origin;
    if (!isAllowedOrigin(origin, port)) return sendJson(res, 403, { error: 'forbidden origin' });
    const target = req.url ?? '/';
    const queryAt = target.indexOf('?');
    const path = queryAt === -1 ? target : target.slice(0, queryAt);
    const query = new URLSearchParams(queryAt === -1 ? '' : target.slice(queryAt + 1));
    if (path === '/api' || path.startsWith('/api/')) {
      const site = req.headers['sec-fetch-site'];
      if (!isAllowedFetchSite(typeof site === 'string' ? site : undefined)) {
        return sendJson(res, 403, { error: 'forbidden cross-site request' });
      }
      // The query token is for EventSource only, which cannot set headers.
      const queryToken = path === '/api/stream' ? query.get('token') : null;
      const verdict = checkToken(presentedToken(req.headers.authorization, queryToken), token);
      if (verdict === 'missing') return sendJson(res, 401, { error: 'missing access token' });
      if (verdict === 'wrong') return sendJson(res, 403, { error: 'wrong access token' });
      if (path === '/api/stream') {
        if (req.method !== 'GET') return sendJson(res, 405, { error: 'method not allowed' }, { Allow: 'GET' });
        return openStream(req, res);
      }
      if (path === EXPORT_PATH) return sendExport(req, res);
      return callApi(req, res, path.slice('/api/'.length));
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return sendJson(res, 405, { error: 'method not allowed' }, { Allow: 'GET, HEAD' });
    }
    return serveStatic(req, res, path);
  }

  /** A POST's JSON body checked with `schema`; null when the request was refused (and answered). */
  async function readRequest<S extends z.ZodType>(
    req: IncomingMessage,
    res: ServerResponse,
    schema: S,
  ): Promise<{ data: z.output<S> } | null> {
    const type = req.headers['content-type'] ?? '';
    if (!/^application\/json\s*(;|$)/i.test(type)) {
      sendJson(res, 415, { error: 'expected Content-Type: application/json' });
      return null;
    }
    const body = await readBody(req, maxBodyBytes);
    if (body === 'too-large') {
      sendJson(res, 413, { error: `body over ${maxBodyBytes} bytes` }, { Connection: 'close' });
      return null;
    }
    if (body === 'aborted') return null;
    let request: unknown;
    try {
      request = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
    } catch {
      sendJson(res, 400, { error: 'body is not valid JSON' });
      return null;
    }
    const parsed = schema.safeParse(request);
    if (!parsed.success) {
      sendJson(res, 400, { error: oneLineReason(parsed.error.issues) });
      return null;
    }
    return { data: parsed.data };
  }

  async function callApi(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'method not allowed' }, { Allow: 'POST' });
    if (!Object.hasOwn(monitorApiContract, name)) return sendJson(res, 404, { error: `unknown method '${name}'` });
    const method = name as MonitorMethod;
    const parsed = await readRequest(req, res, monitorApiContract[method].request);
    if (!parsed) return;
    try {
      // The handler's own types are per method; the contract has just checked the request.
      const call = api[method] as (request: unknown) => Promise<unknown>;
      sendJson(res, 200, await call(parsed.data));
    } catch (error) {
      // A cursor that is not ours, or settings that do not go together, are the caller's mistake;
      // anything else is ours.
      if (error instanceof Error && CALLER_MISTAKES.has(error.name)) {
        return sendJson(res, 400, { error: error.message });
      }
      log.error('dashboard', `${method} failed: ${String(error)}`);
      sendJson(res, 500, { error: `${method} failed` });
    }
  }

  /**
   * The window's export (SaveExport in shared/api.ts): the file itself as the answer, written a
   * page at a time as the reader takes it, so that neither this process nor the page ever holds
   * it whole and the receiver goes on answering meanwhile.
   */
  async function sendExport(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'method not allowed' }, { Allow: 'POST' });
    const parsed = await readRequest(req, res, ExportRequestSchema);
    if (!parsed) return;
    const { format, query } = parsed.data;
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': exportContentType(format),
      'Content-Disposition': `attachment; filename="${exportFilename(format, Date.now())}"`,
      'Cache-Control': 'no-store',
    });
    try {
      await streamExport(api.listEvents, format, query ?? {}, res);
      res.end();
    } catch (error) {
      if (!(error instanceof ExportAbortedError)) log.error('dashboard', `export failed: ${String(error)}`);
      // The status is long sent: cutting the connection is how the reader learns that what it
      // has is not the whole file (a chunked answer without its last chunk is a failed download).
      res.destroy();
    }
  }

  function openStream(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
    });
    req.socket.setNoDelay(true);
    // The browser waits this long before reconnecting after the stream breaks.
    res.write('retry: 2000\n: connected\n\n');
    const write = (text: string) => {
      if (res.writableLength > MAX_STREAM_BACKLOG) {
        log.warn('dashboard', 'an event stream fell too far behind and was closed');
        res.destroy();
        return;
      }
      res.write(text);
    };
    const unsubscribes = PUSH_CHANNELS.map((channel) =>
      // JSON.stringify escapes line breaks, so one payload is always one `data:` line.
      api.subscribe(channel, (payload) => write(`event: ${channel}\ndata: ${JSON.stringify(payload)}\n\n`)),
    );
    const heartbeat = setInterval(() => write(': ping\n\n'), heartbeatMs);
    const cleanup = () => {
      if (!streams.has(end)) return;
      streams.delete(end);
      clearInterval(heartbeat);
      for (const unsubscribe of unsubscribes) unsubscribe();
    };
    const end = () => {
      cleanup();
      res.end();
    };
    streams.add(end);
    res.once('close', cleanup);
  }

  async function serveStatic(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const found = staticFile(options.staticDir, path);
    if (!found) return sendJson(res, 404, { error: 'not found' });
    let content: Buffer;
    try {
      content = await readFile(found.file);
    } catch {
      if (path !== '/') return sendJson(res, 404, { error: 'not found' });
      content = Buffer.from(NOT_BUILT_PAGE);
    }
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': found.contentType,
      'Content-Length': content.length,
      'Cache-Control': 'no-cache',
    });
    res.end(req.method === 'HEAD' ? undefined : content);
  }

  return {
    listen(wanted) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        // Loopback only, and never the receiver's port: the tunnel forwards only that one.
        server.listen(wanted, '127.0.0.1', () => {
          server.off('error', reject);
          port = (server.address() as AddressInfo).port;
          resolve(port);
        });
      });
    },
    get url() {
      return port ? `http://127.0.0.1:${port}/#token=${token}` : null;
    },
    token,
    get streams() {
      return streams.size;
    },
    close() {
      return new Promise((resolve) => {
        if (!server.listening) return resolve();
        const deadline = setTimeout(() => server.closeAllConnections(), CLOSE_DEADLINE_MS);
        server.close(() => {
          clearTimeout(deadline);
          resolve();
        });
        for (const end of [...streams]) end();
        server.closeIdleConnections();
      });
    },
  };
}

/** The first problem zod found, on one line: where, then what. */
function oneLineReason(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>): string {
  const first = issues[0];
  if (!first) return 'invalid request';
  const where = first.path.map(String).join('.');
  return `${where ? `${where}: ` : ''}${first.message}`.replace(/\s+/g, ' ').slice(0, 300);
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/** Reads the body up to the limit, counting as it goes, so an endless upload is not buffered. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large' | 'aborted'> {
  return new Promise((resolve) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      return resolve('too-large');
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (result: Buffer | 'too-large' | 'aborted') => {
      if (settled) return;
      settled = true;
      resolve(result);
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        settle('too-large');
      } else if (!settled) chunks.push(chunk);
    });
    req.once('end', () => settle(Buffer.concat(chunks, size)));
    req.once('error', () => settle('aborted'));
    req.once('close', () => {
      if (!req.complete) settle('aborted');
    });
  });
}
