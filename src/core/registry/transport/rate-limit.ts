import { parseRetryAfter } from './retry.ts';

/**
 * Docker Hub's pull quota, as it reports it on manifest answers: `ratelimit-limit: 100;w=21600` and
 * `ratelimit-remaining: 76;w=21600` (count; window in seconds), and on a refusal (429) the wait, where a
 * registry says it (`Retry-After`, or the IETF draft's `ratelimit-reset`). Other registries send nothing.
 */
export interface RateLimit {
  remaining: number;
  limit?: number;
  /** The quota's window in seconds, when given. */
  windowSeconds?: number;
}

/** What a 429 said about the quota: any of the counts, and in how many seconds it resets when told. */
export type QuotaRefusal = Partial<RateLimit> & { resetSeconds?: number };

export function parseQuotaRefusal(headers: Headers, now = Date.now()): QuotaRefusal {
  const retryAfter = parseRetryAfter(headers.get('retry-after'), now);
  const reset = /^\s*(\d+)\s*$/.exec(headers.get('ratelimit-reset') ?? '')?.[1];
  const resetSeconds = retryAfter !== undefined ? Math.ceil(retryAfter / 1000) : reset ? Number(reset) : undefined;
  return { ...parseRateLimit(headers), ...(resetSeconds !== undefined ? { resetSeconds } : {}) };
}

export function parseRateLimit(headers: Headers): RateLimit | undefined {
  const remaining = parseCount(headers.get('ratelimit-remaining'));
  if (!remaining) return undefined;
  const limit = parseCount(headers.get('ratelimit-limit'));
  const windowSeconds = remaining.window ?? limit?.window;
  return {
    remaining: remaining.count,
    ...(limit ? { limit: limit.count } : {}),
    ...(windowSeconds !== undefined ? { windowSeconds } : {}),
  };
}

function parseCount(value: string | null): { count: number; window?: number } | undefined {
  const match = /^\s*(\d+)\s*(?:;\s*w\s*=\s*(\d+))?/i.exec(value ?? '');
  if (!match) return undefined;
  return { count: Number(match[1]), ...(match[2] ? { window: Number(match[2]) } : {}) };
}

/** The tighter of two reports: the one with fewer pulls left. */
export function lowerRateLimit(a: RateLimit | undefined, b: RateLimit | undefined): RateLimit | undefined {
  if (!a) return b;
  if (!b) return a;
  return b.remaining < a.remaining ? b : a;
}
