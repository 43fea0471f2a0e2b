import { type Agent, type IncomingHttpHeaders, request } from 'node:http';
import { connect, type Socket } from 'node:net';

/**
 * Small HTTP clients for tests that talk to real sockets on 127.0.0.1: `post`/`send` for
 * well-formed requests (node:http), `rawRequest` for bytes an ordinary client would never send
 * (node:net), and `canConnect` to probe who accepts a TCP connection.
 */

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body as UTF-8 text. */
  body: string;
}

export interface SendOptions {
  method?: string;
  /** A header whose value is undefined is not sent. */
  headers?: Record<string, string | undefined>;
  body?: string | Uint8Array;
  /** Defaults to a fresh connection per request (`Connection: close`). */
  agent?: Agent | false;
}

/**
 * Sends one request and reads the whole answer. A body given in one piece goes with a Content-Length.
 * The path is sent exactly as written in `url` (`..`, `%2F` and the like are not normalized away).
 */
export function send(url: string, options: SendOptions = {}): Promise<HttpResponse> {
  const match = /^http:\/\/([^/:]+):(\d+)(.*)$/.exec(url);
  if (!match) throw new Error(`not an http://host:port URL: ${url}`);
  const [, host, port, path] = match;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.headers ?? {})) if (value !== undefined) headers[name] = value;
  return new Promise((resolve, reject) => {
    const target = { host, port: Number(port), path: path || '/' };
    const req = request(
      { ...target, method: options.method ?? 'GET', headers, agent: options.agent ?? false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** POSTs a body, as `application/json` unless the headers say otherwise (or remove it with undefined). */
export function post(
  url: string,
  body: string | Uint8Array,
  headers: Record<string, string | undefined> = {},
  agent?: Agent | false,
): Promise<HttpResponse> {
  return send(url, {
    method: 'POST',
    body,
    headers: { 'Content-Type': 'application/json', ...headers },
    ...(agent === undefined ? {} : { agent }),
  });
}

export interface RawOptions {
  /** Pause between two pieces of the request. */
  delayMs?: number;
  /** Give up (and destroy the socket) after this long; the result then has `timedOut`. */
  timeoutMs?: number;
  /** Stop writing as soon as the server has answered anything (for endless uploads). */
  stopWhenAnswered?: boolean;
  /** Close our side of the connection once done writing; otherwise keep it open for the server to end. */
  halfClose?: boolean;
  /**
   * Keep writing the rest of the request after the server has ended its side (as a client that
   * uploads its whole body before reading would); by default the exchange ends there.
   */
  writeAfterServerEnd?: boolean;
}

export interface RawResponse {
  /** Everything the server sent, as latin1 (byte for byte). */
  text: string;
  /** The request bytes actually written before the exchange ended. */
  bytesWritten: number;
  /** How many pieces of the request were written. */
  piecesWritten: number;
  /** The server closed (or reset) the connection. */
  closedByServer: boolean;
  /** A socket error code, such as ECONNRESET or EPIPE. */
  errorCode: string | null;
  timedOut: boolean;
}

/**
 * Writes the request piece by piece over a plain TCP connection (`delayMs` between pieces) and
 * collects the raw answer until the server closes the connection, or `timeoutMs` passes.
 * `pieces` may be an endless iterable; with `stopWhenAnswered` writing stops at the first answer.
 */
export function rawRequest(
  port: number,
  pieces: string | Uint8Array | Iterable<string | Uint8Array>,
  options: RawOptions = {},
): Promise<RawResponse> {
  const {
    delayMs = 0,
    timeoutMs = 15_000,
    stopWhenAnswered = false,
    halfClose = false,
    writeAfterServerEnd = false,
  } = options;
  const iterable: Iterable<string | Uint8Array> =
    typeof pieces === 'string' || pieces instanceof Uint8Array ? [pieces] : pieces;
  return new Promise((resolve) => {
    // Half-open allowed: a server that has answered and ended its side may still read the rest.
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const received: Buffer[] = [];
    const result: RawResponse = {
      text: '',
      bytesWritten: 0,
      piecesWritten: 0,
      closedByServer: false,
      errorCode: null,
      timedOut: false,
    };
    let done = false;
    let writing = true;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      result.text = Buffer.concat(received).toString('latin1');
      resolve(result);
    };
    const timer = setTimeout(() => {
      result.timedOut = true;
      finish();
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('end', () => {
      result.closedByServer = true;
      if (!writing || !writeAfterServerEnd) finish();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      result.errorCode = error.code ?? error.message;
      result.closedByServer = error.code === 'ECONNRESET' || error.code === 'EPIPE';
      finish();
    });
    socket.on('close', finish);

    const writeAll = async () => {
      await new Promise<void>((ready) => socket.once('connect', () => ready()));
      for (const piece of iterable) {
        if (done || socket.destroyed || !socket.writable) return;
        if (stopWhenAnswered && received.length > 0) break;
        if (result.piecesWritten > 0 && delayMs > 0) await sleep(delayMs);
        if (done || socket.destroyed || !socket.writable) return;
        const bytes = typeof piece === 'string' ? Buffer.from(piece, 'latin1') : piece;
        const flushed = socket.write(bytes);
        result.bytesWritten += bytes.length;
        result.piecesWritten += 1;
        // Respect backpressure, but never wait forever on a peer that has stopped reading.
        if (!flushed) await waitForDrain(socket);
      }
      if (halfClose && !done && socket.writable) socket.end();
    };
    writeAll()
      .catch(() => {})
      .finally(() => {
        writing = false;
        if (result.closedByServer) finish();
      });
  });
}

/** Resolves once the socket drains, closes, or errors. */
function waitForDrain(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      socket.off('drain', done);
      socket.off('close', done);
      socket.off('error', done);
      resolve();
    };
    socket.once('drain', done);
    socket.once('close', done);
    socket.once('error', done);
  });
}

/** Whether a TCP connection to host:port is accepted (refused, unreachable or timing out: false). */
export function canConnect(host: string, port: number, timeoutMs = 2_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}

/** A raw HTTP/1.1 request head for `rawRequest`. */
export function requestHead(method: string, target: string, headers: Record<string, string>): string {
  const lines = [`${method} ${target} HTTP/1.1`, 'Host: 127.0.0.1'];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** The status code of a raw HTTP answer, or null when the server sent none. */
export function rawStatus(text: string): number | null {
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  return match ? Number(match[1]) : null;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
