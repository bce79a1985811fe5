/**
 * Per-client limits, kept in memory: a token bucket for the request rate and a count of requests in
 * flight (until their bodies end). On Workers each isolate keeps its own, so there they bound bursts
 * rather than give an exact global rate.
 */
import { RelayError } from './errors.ts';

interface ClientState {
  tokens: number;
  updated: number;
  active: number;
}

/** Past this many tracked clients, idle ones with full buckets are forgotten (they would start full anyway). */
const SWEEP_AT = 10_000;

export class ClientLimiter {
  private readonly clients = new Map<string, ClientState>();
  private readonly perMs: number;

  constructor(
    private readonly perMinute: number,
    private readonly maxActive: number,
    private readonly now: () => number = Date.now,
  ) {
    this.perMs = perMinute / 60_000;
  }

  /** Takes one request's token: undefined when admitted, else the seconds until one is available. */
  take(client: string): number | undefined {
    const state = this.state(client);
    if (state.tokens >= 1) {
      state.tokens -= 1;
      return undefined;
    }
    return Math.max(1, Math.ceil((1 - state.tokens) / this.perMs / 1000));
  }

  /** Counts a request in flight: a release function, or undefined when the client has too many already. */
  acquire(client: string): (() => void) | undefined {
    const state = this.state(client);
    if (state.active >= this.maxActive) return undefined;
    state.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      state.active--;
    };
  }

  private state(client: string): ClientState {
    const now = this.now();
    let state = this.clients.get(client);
    if (!state) {
      if (this.clients.size >= SWEEP_AT) this.sweep(now);
      state = { tokens: this.perMinute, updated: now, active: 0 };
      this.clients.set(client, state);
    } else {
      state.tokens = Math.min(this.perMinute, state.tokens + (now - state.updated) * this.perMs);
      state.updated = now;
    }
    return state;
  }

  private sweep(now: number): void {
    for (const [client, state] of this.clients) {
      const tokens = state.tokens + (now - state.updated) * this.perMs;
      if (state.active === 0 && tokens >= this.perMinute) this.clients.delete(client);
    }
  }
}

/**
 * The key per-client limits count under: the peer's address, or behind a proxy the header it sets. With a
 * list (X-Forwarded-For), the last entry is the one the nearest proxy added; earlier ones are the client's say-so.
 */
export function clientKey(header: string | undefined, request: Request, peer: string | undefined): string {
  return (header && request.headers.get(header)?.split(',').pop()?.trim()) || peer || 'unknown';
}

/** Takes a request's token, or refuses it (429 with Retry-After) past the per-client rate. */
export function admit(limiter: ClientLimiter, client: string): void {
  const wait = limiter.take(client);
  if (wait !== undefined) {
    throw new RelayError(429, 'rate-limited', `Too many requests from this client; try again in ${wait} s.`, {
      'retry-after': String(wait),
    });
  }
}

/** Counts a request in flight until the returned release is called, or refuses it past the per-client limit. */
export function holdSlot(limiter: ClientLimiter, client: string, limit: number): () => void {
  const release = limiter.acquire(client);
  if (release) return release;
  throw new RelayError(
    429,
    'too-many-in-flight',
    `More than ${limit} requests from this client are in progress; try again shortly.`,
    { 'retry-after': '1' },
  );
}
