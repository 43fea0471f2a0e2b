import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import type { SignatureMode } from '../../shared/settings.ts';

/**
 * Optional proof that a delivery comes from the sender that holds the signing secret, checked on
 * the raw body before it is parsed. Two schemes:
 * - Standard Webhooks (standardwebhooks.com), through the `standardwebhooks` library: an HMAC over
 *   `webhook-id.webhook-timestamp.body`; timestamps more than 5 minutes old or ahead are refused,
 *   so a captured delivery cannot be replayed later, and within that window the (signed)
 *   `webhook-id` makes a replay a duplicate of the original.
 * - A plain HMAC-SHA256 of the body in a header of the user's choosing (hex or base64, optionally
 *   `sha256=`-prefixed, as GitHub and Shopify send it). It signs no time, so it cannot refuse a
 *   replay; the content-based dedupe stores a replayed event once. The `webhook-id` header is not
 *   signed in this scheme, so it is not taken as the delivery id here (a replay under a new one
 *   would otherwise be stored again): the body's own id fields or its hash are, and those are signed.
 */

export interface SignatureConfig {
  mode: SignatureMode;
  /** The HMAC header in 'hmac-sha256' mode, any case. */
  header: string;
  secret: string | null;
}

/**
 * Go on (with the delivery id the signature vouches for; null when it vouches for none, and then
 * no header is trusted as one), or answer: 401 for a request
 * that is not signed as it should be, 503 when verification is on but cannot run (no usable
 * secret), so that the sender retries while the person fixes the settings instead of losing events.
 */
export type SignatureCheck = { ok: true; deliveryId: string | null } | { ok: false; status: 401 | 503; reason: string };

export type SignatureVerifier = (body: Uint8Array, headers: IncomingHttpHeaders) => SignatureCheck;

/** The receiver keeps delivery ids up to this length; a signed one that is longer is refused. */
export const MAX_DELIVERY_ID_LENGTH = 256;

/** Why this mode cannot run with this secret, in one line for the person; null when it can. */
export function signatureProblem(mode: SignatureMode, secret: string | null): string | null {
  if (mode === 'off') return null;
  if (secret === null || secret === '') return 'set the signing secret before turning signature verification on';
  if (mode === 'standard-webhooks') {
    try {
      new Webhook(secret);
    } catch {
      return 'a Standard Webhooks signing secret is base64, usually starting with whsec_';
    }
  }
  return null;
}

/** The verifier for a configuration, or null when verification is off. */
export function createSignatureVerifier(config: SignatureConfig): SignatureVerifier | null {
  if (config.mode === 'off') return null;
  if (config.secret === null || signatureProblem(config.mode, config.secret) !== null) {
    return () => ({ ok: false, status: 503, reason: 'signature verification is on but has no usable secret' });
  }
  return config.mode === 'standard-webhooks'
    ? standardWebhooksVerifier(config.secret)
    : hmacSha256Verifier(config.secret, config.header);
}

/**
 * The headers a sender that holds the secret puts on a delivery (for the monitor's own test event);
 * none when verification is off or cannot run.
 */
export function signDelivery(
  config: SignatureConfig,
  body: string,
  deliveryId: string,
  atMs: number,
): Record<string, string> {
  if (config.mode === 'off' || config.secret === null || signatureProblem(config.mode, config.secret)) return {};
  if (config.mode === 'hmac-sha256') {
    return {
      [config.header.toLowerCase()]: `sha256=${createHmac('sha256', config.secret).update(body).digest('hex')}`,
    };
  }
  const at = new Date(atMs);
  return {
    'webhook-id': deliveryId,
    'webhook-timestamp': String(Math.floor(atMs / 1000)),
    'webhook-signature': new Webhook(config.secret).sign(deliveryId, at, body),
  };
}

function standardWebhooksVerifier(secret: string): SignatureVerifier {
  const webhook = new Webhook(secret);
  return (body, headers) => {
    const id = headerValue(headers, 'webhook-id');
    const timestamp = headerValue(headers, 'webhook-timestamp');
    const signature = headerValue(headers, 'webhook-signature');
    if (!id || !timestamp || !signature) {
      return refuse('unsigned: webhook-id, webhook-timestamp and webhook-signature are required');
    }
    if (id.length > MAX_DELIVERY_ID_LENGTH) return refuse('webhook-id is too long');
    // The library reads the timestamp with parseInt, which takes "17e9" or "1700000000abc" as
    // numbers; only whole seconds are a timestamp.
    if (!/^\d{1,12}$/.test(timestamp)) return refuse('webhook-timestamp is not a Unix time in seconds');
    try {
      webhook.verify(
        body,
        { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signature },
        { jsonParse: false },
      );
    } catch (error) {
      // The library's messages name the failure ("Message timestamp too old", "No matching
      // signature found") and never the secret or the expected signature.
      return refuse(error instanceof WebhookVerificationError ? error.message : 'the signature could not be checked');
    }
    return { ok: true, deliveryId: id };
  };
}

function hmacSha256Verifier(secret: string, header: string): SignatureVerifier {
  const key = Buffer.from(secret, 'utf8');
  const name = header.toLowerCase();
  return (body, headers) => {
    const given = headerValue(headers, name);
    if (!given) return refuse(`unsigned: the ${name} header is required`);
    const digest = decodeDigest(given);
    if (!digest) return refuse(`${name} is not a SHA-256 HMAC in hex or base64`);
    const expected = createHmac('sha256', key).update(body).digest();
    // Both are 32 bytes here, so the comparison takes the same time wherever they differ.
    if (!timingSafeEqual(digest, expected)) return refuse('the signature does not match');
    return { ok: true, deliveryId: null };
  };
}

/** 32 bytes from `sha256=<hex>`, `<hex>`, `sha256=<base64>` or `<base64>`; null otherwise. */
function decodeDigest(value: string): Buffer | null {
  const text = value.trim().replace(/^sha256=/i, '');
  if (/^[0-9a-f]{64}$/i.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/]{43}=$/.test(text)) return Buffer.from(text, 'base64');
  if (/^[A-Za-z0-9_-]{43}$/.test(text)) return Buffer.from(text, 'base64url');
  return null;
}

/** A header's text; absent, empty or (for set-cookie style headers) an array counts as missing. */
function headerValue(headers: IncomingHttpHeaders, name: string): string | null {
  const value = headers[name];
  return typeof value === 'string' && value.length > 0 ? value : null;
}

function refuse(reason: string): SignatureCheck {
  return { ok: false, status: 401, reason };
}
