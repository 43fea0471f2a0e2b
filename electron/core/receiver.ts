import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { SingleFileEvent } from '../../shared/events.ts';
import { type Logger, logValue } from './log.ts';
import type { Admission } from './rate-limit.ts';
import {
  contentTypeProblem,
  declaredLengthTooLarge,
  MAX_BODY_BYTES,
  parseEventBody,
  routeRequest,
} from './receiver-rules.ts';
import { MAX_DELIVERY_ID_LENGTH, type SignatureVerifier } from './signature.ts';

export interface IngestInput {
  event: SingleFileEvent;
  rawJson: string;
  deliveryId: string | null;
}

export interface ReceiverOptions {
  /** The secret path segment of the webhook URL; read per request so a rotation applies at once. */
  token: () => string;
  /** Stores the event durably; resolves once it is on disk. A rejection answers 503. */
  ingest: (input: IngestInput) => Promise<'ok' | 'duplicate'>;
  /** Told of each self-test nonce that arrives at `/healthz?probe=…`. */
  onProbe?: (nonce: string) => void;
  /** Told the status of every answer sent (with the request's headers), for the stats and test events. */
  onAnswer?: (status: number, headers: IncomingHttpHeaders) => void;
  /** Flood control: asked once per delivery to the webhook, before anything else is done with it. */
  admit?: () => Admission;
  /** The signature check of the moment (settings change at run time); null = not checked. */
  signature?: () => SignatureVerifier | null;
  log: Logger;
  maxBodyBytes?: number;
  /** A client that has not finished its headers by then is cut off (slowloris). */
  headersTimeoutMs?: number;
  /** A request whose body has not fully arrived by then gets 408. */
  requestTimeoutMs?: number;
}

export interface Receiver {
  listen(port: number): Promise<number>;
  readonly port: number | null;
  /** Stops accepting, lets requests in flight finish, then closes idle connections. */
  close(): Promise<void>;
}

// How long the rest of a refused upload (413, or 404/405/415 before the body was read) is read
// and discarded so that the client can read the answer before the connection closes; past this
// the socket is destroyed.
const DRAIN_LIMIT_MS = 2_000;
// close() waits this long for answers in flight, then cuts the remaining connections.
const CLOSE_DEADLINE_MS = 10_000;

/** Sockets whose refused upload is being discarded, with the way to close them once answered. */
const lingering = new WeakMap<Socket, () => void>();

export function createReceiver(options: ReceiverOptions): Receiver {
  const maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
  const { log } = options;
  // Generous by default: only processes on this machine can trickle bytes at the receiver (a
  // tunnel server forwards whole headers), and each timeout recycles the tunnel's idle sockets.
  const requestTimeout = options.requestTimeoutMs ?? 120_000;
  // Node refuses a headers timeout longer than the request timeout (RangeError); the whole
  // request includes its headers, so a short request timeout shortens the headers timeout too.
  const headersTimeout = Math.min(options.headersTimeoutMs ?? 60_000, requestTimeout > 0 ? requestTimeout : Infinity);
  const server: Server = createServer({
    headersTimeout,
    requestTimeout,
    // How often the two timeouts above are checked; Node's default (30 s) would let them slip.
    connectionsCheckingInterval: 500,
    keepAliveTimeout: 5_000,
  });

  // Requests in flight per connection, so that close() can end the idle ones at once and the
  // busy ones right after their answer. Node's own closeIdleConnections() misses a connection
  // that has not sent a byte yet (the localtunnel client opens those ahead of requests), and once
  // the server is closed its header timeout no longer runs, so such a connection would hold
  // close() open forever.
  const inFlight = new Map<Socket, number>();
  let closing = false;
  server.on('connection', (socket: Socket) => {
    inFlight.set(socket, 0);
    socket.once('close', () => inFlight.delete(socket));
  });

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1);
    res.once('finish', () => options.onAnswer?.(res.statusCode, req.headers));
    res.once('close', () => {
      const left = (inFlight.get(socket) ?? 1) - 1;
      inFlight.set(socket, left);
      if (closing && left === 0) socket.destroySoon();
    });
    handle(req, res).catch((error: unknown) => {
      log.error('receiver', `unexpected failure: ${logValue(error)}`);
      if (!res.headersSent) reply(res, 503, { error: 'temporarily unavailable, retry later' });
    });
  };
  server.on('request', onRequest);
  // `Expect: 100-continue`: Node would invite the body before anything was checked, so that a
  // refused upload (404, 413, 429…) is sent in full first; the checks run, then the invitation.
  server.on('checkContinue', onRequest);

  // Malformed HTTP, or a timeout before the request was complete: answer if the socket can still
  // take it, and never let the error reach the process.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    // A refused upload being discarded has had its answer: close once that answer is out.
    const closeLingering = lingering.get(socket);
    if (closeLingering) {
      closeLingering();
      return;
    }
    // A connection that never sent a byte has no request to answer. The localtunnel client opens
    // such connections ahead of requests; a 408 written into one would travel up the tunnel and
    // be read as the answer to the next webhook, which SingleFile would then never retry.
    if (socket.bytesRead === 0) {
      socket.destroy();
      return;
    }
    if (socket.writable && !socket.writableEnded) {
      const status =
        error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? '408 Request Timeout'
          : error.code === 'HPE_HEADER_OVERFLOW'
            ? '431 Request Header Fields Too Large'
            : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    }
    socket.destroySoon();
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const route = routeRequest(req.method ?? '', req.url ?? '', options.token());
    switch (route.kind) {
      case 'healthz':
        if (route.probe) options.onProbe?.(route.probe);
        return reply(res, 200, { status: 'ok' });
      case 'not-found':
        return refuseUnread(req, res, 404, 'not found');
      case 'method-not-allowed':
        return refuseUnread(req, res, 405, 'method not allowed', { Allow: 'POST' });
    }
    // Before the body is read and long before the store: a flood costs a header parse each.
    const admission = options.admit?.() ?? { ok: true };
    if (!admission.ok) {
      return refuseUnread(req, res, 429, 'too many deliveries, retry later', {
        'Retry-After': String(admission.retryAfterSeconds),
      });
    }
    const typeProblem = contentTypeProblem(req.headers['content-type']);
    if (typeProblem) return refuseUnread(req, res, 415, typeProblem);
    if (declaredLengthTooLarge(req.headers['content-length'], maxBodyBytes)) {
      return refuseUnread(req, res, 413, tooLarge(maxBodyBytes));
    }
    if (/100-continue/i.test(req.headers.expect ?? '')) res.writeContinue();
    const body = await readBody(req, maxBodyBytes);
    if (body === 'too-large') return refuseUnread(req, res, 413, tooLarge(maxBodyBytes));
    if (body === 'aborted') return;
    // On the bytes as received, before parsing: what was signed is what is checked.
    const verify = options.signature?.() ?? null;
    const signed = verify ? verify(body, req.headers) : null;
    if (signed && !signed.ok) {
      log.warn('receiver', `refused a delivery (${signed.status}): ${signed.reason}`);
      return reply(res, signed.status, { error: signed.reason }, signed.status === 503 ? { 'Retry-After': '60' } : {});
    }
    const parsed = parseEventBody(body);
    if (!parsed.ok) return reply(res, 400, { error: parsed.reason });
    // With verification on, only an id the signature covers is the delivery id: an unsigned
    // webhook-id header (the HMAC scheme signs the body alone) would let a captured delivery be
    // replayed under a new id and stored again. Without one, dedupe falls back to the body.
    const deliveryId = signed ? signed.deliveryId : headerDeliveryId(req.headers['webhook-id']);
    try {
      const status = await options.ingest({ event: parsed.event, rawJson: parsed.rawJson, deliveryId });
      reply(res, 200, { status });
    } catch (error) {
      // The type is the sender's text (newlines, ESC…); the error may quote it too.
      log.warn(
        'receiver',
        `could not store a ${logValue(parsed.event.event_type)} event, answered 503: ${logValue(error)}`,
      );
      reply(res, 503, { error: 'could not store the event, retry later' }, { 'Retry-After': '5' });
    }
  }

  return {
    listen(port) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        // Loopback only: the tunnel is the one way in from outside.
        server.listen(port, '127.0.0.1', () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      });
    },
    get port() {
      const address = server.address();
      return address && typeof address === 'object' ? address.port : null;
    },
    close() {
      return new Promise((resolve) => {
        if (!server.listening) return resolve();
        closing = true;
        const deadline = setTimeout(() => {
          for (const socket of inFlight.keys()) socket.destroy();
        }, CLOSE_DEADLINE_MS);
        server.close(() => {
          clearTimeout(deadline);
          closing = false;
          resolve();
        });
        // Idle connections end now (after flushing); busy ones after their answer (above).
        for (const [socket, requests] of inFlight) if (requests === 0) socket.destroySoon();
      });
    },
  };
}

/**
 * Reads the body up to the limit, counting as it goes, so a chunked upload without a
 * Content-Length is stopped at the limit rather than buffered whole.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large' | 'aborted'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (result: Buffer | 'too-large' | 'aborted') => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onAborted);
      req.off('close', onClose);
      chunks.length = 0;
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) settle('too-large');
      else chunks.push(chunk);
    };
    const onEnd = () => settle(Buffer.concat(chunks, size));
    const onAborted = () => settle('aborted');
    const onClose = () => {
      if (!req.complete) settle('aborted');
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onAborted);
    req.once('close', onClose);
  });
}

/**
 * Answers before the body has been read, then closes the connection. The rest of the upload is
 * discarded for a short while, not buffered, so that the client reads our answer instead of a
 * reset; a client that keeps sending past that is cut off.
 */
function refuseUnread(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  reason: string,
  headers: Record<string, string> = {},
): void {
  const bodyPending =
    !req.complete && (req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length']) > 0);
  if (!bodyPending) {
    reply(res, status, { error: reason }, headers);
    return;
  }
  const socket = req.socket;
  // Node finishes a `Connection: close` answer with socket.destroySoon(): end, then destroy as
  // soon as the answer is flushed. Destroying a socket with unread upload bytes makes the kernel
  // send a reset, which can reach the client before (and discard) our answer. Half-close instead
  // (a "lingering close"): our side ends, the upload is read and thrown away, and the socket is
  // destroyed when the upload ends, when the client closes, or after DRAIN_LIMIT_MS.
  const closeWhenFlushed = socket.destroySoon.bind(socket);
  lingering.set(socket, closeWhenFlushed);
  socket.destroySoon = function lingeringClose(this: Socket) {
    this.end();
  };
  const timer = setTimeout(() => socket.destroy(), DRAIN_LIMIT_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  req.on('data', () => {});
  // The whole upload has arrived: nothing is left to discard, and nothing after it is served.
  req.once('end', closeWhenFlushed);
  reply(res, status, { error: reason }, { ...headers, Connection: 'close' });
}

function reply(res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...headers,
  });
  res.end(text);
}

/** The `webhook-id` header as a delivery id when it is sane (one, non-empty, not overlong). */
function headerDeliveryId(value: string | string[] | undefined): string | null {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_DELIVERY_ID_LENGTH ? value : null;
}

function tooLarge(limit: number): string {
  return `body is larger than ${limit / 1024 / 1024} MiB`;
}
