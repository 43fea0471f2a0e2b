/**
 * Flood control for the receiver: a token bucket over every delivery that reaches the webhook
 * path with the right token. One bucket for all, not one per client: everything arrives through
 * the tunnel from 127.0.0.1, so there is no client address to tell senders apart.
 *
 * The bucket holds `perMinute` deliveries and refills at `perMinute` a minute, so a burst of a
 * whole minute's allowance passes at once, and a flood is held to that rate. A refused delivery
 * is answered 429 with Retry-After before its body is read or the history is touched.
 */

export type Admission = { ok: true } | { ok: false; retryAfterSeconds: number };

export interface RateLimiterOptions {
  /** null = no limit. */
  perMinute: number | null;
  /** Monotonic milliseconds; the wall clock may jump. */
  now?: () => number;
  /** Throttling is over this long after the last refusal. */
  quietMs?: number;
  /** Told when throttling starts (true) and when it is over (false). */
  onThrottleChange?: (throttled: boolean) => void;
}

export interface RateLimiter {
  /** Takes one delivery's place in the bucket, or says when to come back. */
  take(): Admission;
  /** A delivery was refused less than `quietMs` ago. */
  readonly throttled: boolean;
  /** Deliveries refused since the start. */
  readonly refused: number;
  /** A new limit applies at once; the bucket keeps what it holds, up to the new size. */
  configure(perMinute: number | null): void;
  /** Stops the timer that ends throttling (on shutdown). */
  stop(): void;
}

export const DEFAULT_QUIET_MS = 10_000;

export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const now = options.now ?? (() => performance.now());
  const quietMs = options.quietMs ?? DEFAULT_QUIET_MS;
  let perMinute = options.perMinute;
  let tokens = perMinute ?? 0;
  let refilledAt = now();
  let refused = 0;
  let lastRefusedAt: number | null = null;
  let throttled = false;
  let quietTimer: NodeJS.Timeout | null = null;

  function refill(at: number): void {
    if (perMinute === null) return;
    tokens = Math.min(perMinute, tokens + ((at - refilledAt) * perMinute) / 60_000);
    refilledAt = at;
  }

  function setThrottled(on: boolean): void {
    if (throttled === on) return;
    throttled = on;
    options.onThrottleChange?.(on);
  }

  // Checks back once the last refusal is `quietMs` old; a refusal meanwhile pushes the end back.
  function armQuietTimer(delay: number): void {
    quietTimer = setTimeout(() => {
      quietTimer = null;
      const since = lastRefusedAt === null ? quietMs : now() - lastRefusedAt;
      if (since >= quietMs) setThrottled(false);
      else armQuietTimer(quietMs - since);
    }, delay);
    quietTimer.unref();
  }

  return {
    take() {
      if (perMinute === null) return { ok: true };
      const at = now();
      refill(at);
      if (tokens >= 1) {
        tokens -= 1;
        return { ok: true };
      }
      refused++;
      lastRefusedAt = at;
      if (!throttled) {
        setThrottled(true);
        if (!quietTimer) armQuietTimer(quietMs);
      }
      const msToNextToken = ((1 - tokens) * 60_000) / perMinute;
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(msToNextToken / 1000)) };
    },
    get throttled() {
      return throttled;
    },
    get refused() {
      return refused;
    },
    configure(next) {
      const at = now();
      refill(at);
      // Turning a limit on starts with a full bucket; changing it keeps the bucket's level.
      tokens = next === null ? 0 : perMinute === null ? next : Math.min(tokens, next);
      perMinute = next;
      refilledAt = at;
    },
    stop() {
      if (quietTimer) clearTimeout(quietTimer);
      quietTimer = null;
    },
  };
}
