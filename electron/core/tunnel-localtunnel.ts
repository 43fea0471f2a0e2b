import { randomInt } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import Tunnel, { type TunnelInfo } from 'localtunnel/lib/Tunnel.js';
import type { TunnelNames, TunnelProvider, TunnelSession } from './tunnel.ts';

const SUBDOMAIN_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A name localtunnel accepts (`^[a-z0-9][a-z0-9-]{4,63}[a-z0-9]$`): `sfm-` and 12 random characters. */
export function newSubdomain(): string {
  let name = 'sfm-';
  for (let i = 0; i < 12; i++) name += SUBDOMAIN_ALPHABET[randomInt(SUBDOMAIN_ALPHABET.length)];
  return name;
}

export function isValidSubdomain(name: string): boolean {
  return /^[a-z0-9][a-z0-9-]{4,63}[a-z0-9]$/.test(name);
}

/** The first label of the URL's host: the subdomain a localtunnel server granted. */
export function subdomainOf(url: string): string {
  return new URL(url).hostname.split('.')[0] ?? '';
}

/** localtunnel's names are subdomains: asked for at every start, so the URL stays the same. */
export const localtunnelNames: TunnelNames = { make: newSubdomain, of: subdomainOf };

/**
 * The localtunnel client from npm, wrapped so that it can be supervised (LOCALTUNNEL.md):
 * - its registration request retries every second forever and cannot be stopped, so that one
 *   step is replaced: one request, with a timeout, failing with a reason the supervisor shows;
 * - an `error` without a listener would crash the process, so a listener stays attached for the
 *   client's whole life, even after it has been closed;
 * - it never re-registers after the server drops it, so any error ends the session and the
 *   supervisor opens a fresh client.
 * - when a tunnel socket closes, the client ends its connection to the receiver but never destroys
 *   it, and by then nothing reads that connection (its pipe to the tunnel socket is gone), so the
 *   end of it is never seen and the socket stays open for good: one per tunnel socket that carried
 *   a request, at every reconnect. It is destroyed here together with its tunnel socket.
 * `local_host` is left unset on purpose: setting it makes the client rewrite the Host header by
 * turning the first chunk of each connection into a string, which can corrupt a body's UTF-8.
 */
class SupervisedTunnel extends Tunnel {
  readonly registrationTimeoutMs: number;
  /** Ends the registration request when the client is closed before it has an answer. */
  private readonly registration = new AbortController();

  constructor(options: { port: number; host: string; subdomain?: string }, registrationTimeoutMs: number) {
    super(options);
    this.registrationTimeoutMs = registrationTimeoutMs;
  }

  override _establish(info: TunnelInfo): void {
    super._establish(info);
    // The client pipes each receiver connection into its tunnel socket: that is where to find it.
    this.tunnelCluster?.on('open', (remote: Socket) => {
      remote.on('pipe', (local: Readable) => remote.once('close', () => local.destroy()));
    });
  }

  override close(): void {
    this.registration.abort();
    super.close();
  }

  override _init(callback: (error: Error | null, info?: TunnelInfo) => void): void {
    const { host, subdomain } = this.opts;
    const server = new URL(host).host;
    const signal = AbortSignal.any([AbortSignal.timeout(this.registrationTimeoutMs), this.registration.signal]);
    fetch(`${host}/${subdomain ?? '?new'}`, { signal })
      .then(async (res) => {
        const body: unknown = await res.json().catch(() => null);
        // Closed while registering (a timeout): open no sockets for a tunnel nobody wants.
        if (this.closed) throw new Error('closed');
        if (!res.ok) {
          const message = (body as { message?: unknown } | null)?.message;
          const answer = `${res.status}${typeof message === 'string' ? `: ${message}` : ''}`;
          // A 5xx is the server's own trouble (an outage), not a no to us.
          throw new Error(
            res.status >= 500
              ? `${server} is not working right now (${answer})`
              : `${server} refused the tunnel (${answer})`,
          );
        }
        const info = this._getInfo(body);
        if (typeof info.url !== 'string' || typeof info.remote_port !== 'number') {
          throw new Error(`${server} answered without a tunnel address`);
        }
        callback(null, info);
      })
      .catch((error: Error) => {
        callback(
          error.name === 'TimeoutError'
            ? new Error(`${server} did not answer in ${Math.round(this.registrationTimeoutMs / 1000)} s`)
            : error.message.startsWith(server)
              ? error
              : new Error(`${server} could not be reached (${describeCause(error)})`),
        );
      });
  }
}

function describeCause(error: Error): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? error.message;
}

export function localtunnelProvider(host: string): TunnelProvider {
  return {
    kind: 'localtunnel',
    label: 'the tunnel server',
    names: localtunnelNames,
    open({ localPort, subdomain, timeoutMs, signal }) {
      return new Promise<TunnelSession>((resolve, reject) => {
        const client = new SupervisedTunnel({ port: localPort, host, ...(subdomain ? { subdomain } : {}) }, timeoutMs);
        let failureListener: ((error: Error) => void) | null = null;
        let settled = false;
        let failed: Error | null = null;

        const fail = (error: Error) => {
          if (failed) return;
          failed = error;
          if (!settled) {
            settled = true;
            clearTimeout(timer);
            client.close();
            reject(error);
          } else {
            failureListener?.(error);
          }
        };
        client.on('error', (error: Error) => fail(error));
        // Given up on while opening: close the client now rather than at the end of its timeout.
        signal.addEventListener('abort', () => fail(new Error('closed')), { once: true });

        // Registered is not connected: once registered (with its own timeout, above), the first
        // tunnel socket must open within the same time.
        let timer: NodeJS.Timeout | undefined;
        const startSocketTimer = () => {
          timer = setTimeout(
            () => fail(new Error(`${new URL(host).host} did not open the tunnel in ${Math.round(timeoutMs / 1000)} s`)),
            timeoutMs,
          );
        };
        client.once('url', (url: string) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({
            url,
            onFailure(listener) {
              failureListener = listener;
              if (failed) listener(failed);
            },
            close() {
              failed ??= new Error('closed');
              client.close();
            },
          });
        });
        client.open((error) => {
          if (error) fail(error);
          else if (!settled) startSocketTimer();
        });
      });
    },
  };
}
