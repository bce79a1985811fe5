/**
 * Docker Hub's pull quota, as it reports it on manifest answers: `ratelimit-limit: 100;w=21600` and
 * `ratelimit-remaining: 76;w=21600` (count; window in seconds). Other registries send nothing.
 */
export interface RateLimit {
  remaining: number;
  limit?: number;
  /** The quota's window in seconds, when given. */
  windowSeconds?: number;
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
