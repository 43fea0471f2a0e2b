import { lookup as dnsLookup, type LookupAllOptions, type LookupOneOptions } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';

/**
 * Requests the app sends to itself through its public URL: the tunnel's self-test and "Send a
 * test event". Names under `.localhost` are loopback (RFC 6761), as browsers treat them, which is
 * also how a tunnel server on this machine is reached in tests.
 */

export interface OutboundRequest {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
}

export function sendRequest(url: string, init: OutboundRequest): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    // agent: false: one connection per request, closed after it, so no idle socket outlives it.
    const options = {
      method: init.method,
      headers: init.headers,
      lookup: loopbackAwareLookup,
      timeout: init.timeoutMs,
      agent: false,
    };
    const req = send(target, options, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= 64 * 1024) chunks.push(chunk); // an answer is short; never buffer a flood
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer in ${Math.round(init.timeoutMs / 1000)} s`)));
    req.on('error', reject);
    req.end(init.body);
  });
}

/** Sends one GET and resolves with the status code: the tunnel's self-test. */
export type ProbeRequest = (url: string, headers: Record<string, string>, timeoutMs: number) => Promise<number>;

export const probeRequest: ProbeRequest = async (url, headers, timeoutMs) =>
  (await sendRequest(url, { method: 'GET', headers, timeoutMs })).status;

const loopbackAwareLookup = ((hostname: string, options: LookupOneOptions | LookupAllOptions, callback: never) => {
  if (hostname === 'localhost' || hostname.endsWith('.localhost')) {
    const done = callback as (
      error: null,
      address: string | Array<{ address: string; family: number }>,
      family?: number,
    ) => void;
    if ((options as LookupAllOptions).all) done(null, [{ address: '127.0.0.1', family: 4 }]);
    else done(null, '127.0.0.1', 4);
    return;
  }
  dnsLookup(hostname, options as LookupAllOptions, callback);
}) as LookupFunction;
