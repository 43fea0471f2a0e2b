import { lookup as dnsLookup, type LookupAllOptions, type LookupOneOptions } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';

/**
 * Sends one GET and resolves with the status code; used by the tunnel's self-test to go out
 * through the public URL and back in. Names under `.localhost` are loopback (RFC 6761), as
 * browsers treat them, which is also how a tunnel server on this machine is reached in tests.
 */
export type ProbeRequest = (url: string, headers: Record<string, string>, timeoutMs: number) => Promise<number>;

export const probeRequest: ProbeRequest = (url, headers, timeoutMs) =>
  new Promise((resolve, reject) => {
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    // agent: false: one connection per probe, closed after it, so no idle socket outlives a test.
    const options = { method: 'GET', headers, lookup: loopbackAwareLookup, timeout: timeoutMs, agent: false };
    const req = send(target, options, (res) => {
      res.resume(); // the answer's body tells nothing: the receiver reports the nonce itself
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer in ${Math.round(timeoutMs / 1000)} s`)));
    req.on('error', reject);
    req.end();
  });

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
