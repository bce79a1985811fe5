import { SkiffError, abortError } from '../../errors.ts';
import { type Fetcher, discard, sleep } from './fetcher.ts';
import { RequestWait, type WaitPolicy, isGivenUp, sendMs, waitOf } from './waits.ts';

export interface RetryOptions {
  /** Tries in all, the first included (the wait policy's `attempts`). */
  attempts?: number;
  /** How long to wait for a response's headers before giving the attempt up (the wait policy's `answerMs`). */
  timeoutMs?: number;
  /** Longest wait a Retry-After may impose before we give up instead. */
  maxRetryAfterMs?: number;
  /** Told when a request is tried again, and why (for a CLI or a page to say that it is waiting). */
  onWait?: (message: string) => void;
}

const RETRY_STATUS = new Set([408, 429, 500, 502, 503, 504]);

/**
 * Retries what a registry or network means as temporary: connection failures, answers that never come,
 * 429 (honouring Retry-After) and 5xx gateways. Backs off exponentially, and stops at once on abort.
 * Its tries and time are the request's (waits.ts): a layer above that tries again spends the same ones, and
 * a give-up is never tried again above.
 */
export function withRetry(next: Fetcher, policy: WaitPolicy, options: RetryOptions = {}): Fetcher {
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;
  return async (url, init) => {
    const signal = init.signal ?? undefined;
    const wait = waitOf(init) ?? RequestWait.of(policy, url, init);
    // An upload's answer comes after its body is sent: that may take a while on a slow uplink.
    const sending = sendMs(policy, init);
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw abortError(signal);
      wait.tries++;
      let response: Response | undefined;
      let failure: SkiffError | undefined;
      try {
        const timeoutMs = Math.max(1, Math.min(policy.answerMs + sending, wait.left()));
        // The message names the policy's time, not a last try's that the deadline shortened.
        response = await fetchWithTimeout(next, url, init, timeoutMs, policy.answerMs + sending);
      } catch (error) {
        if (signal?.aborted) throw abortError(signal);
        if (isGivenUp(error)) throw error;
        if (error instanceof SkiffError && error.code !== 'timeout' && error.code !== 'network') throw error;
        failure = error instanceof SkiffError ? error : networkError(url, error);
      }
      if (response && !RETRY_STATUS.has(response.status)) return response;
      let waitMs = Math.min(250 * 2 ** (attempt - 1), 8_000);
      if (response) {
        const retryAfter = parseRetryAfter(response.headers.get('retry-after'));
        if (retryAfter !== undefined) waitMs = retryAfter;
        if (!wait.canRetry(retryAfter === undefined ? 0 : -Infinity) || waitMs > maxRetryAfterMs) return response;
        discard(response);
        options.onWait?.(
          `${wait.host} answered HTTP ${response.status}; trying again (${wait.tries + 1} of ${policy.attempts})`,
        );
      } else {
        if (!wait.canRetry(waitMs))
          throw wait.giveUp(failure!, failure!.code === 'timeout' ? 'no-answer' : undefined, new URL(url).host);
        options.onWait?.(`${failure!.message}; trying again (${wait.tries + 1} of ${policy.attempts})`);
      }
      await sleep(waitMs, signal).catch(() => {
        throw abortError(signal);
      });
    }
  };
}

async function fetchWithTimeout(
  next: Fetcher,
  url: string,
  init: RequestInit,
  timeoutMs: number,
  labelMs: number,
): Promise<Response> {
  // The timer guards the wait for headers only; once they arrive, the body belongs to the caller's signal.
  const controller = new AbortController();
  const outer = init.signal;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  try {
    return await next(url, { ...init, signal: outer ? follow(outer, controller.signal) : controller.signal });
  } catch (error) {
    if (timedOut) {
      throw new SkiffError('timeout', `${new URL(url).host} did not answer within ${Math.round(labelMs / 1000)} s`);
    }
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A signal that aborts with either. AbortSignal.any holds its sources weakly: a listener added to the pull's
 * one signal per request (and never removed, since the body still needs it) piles up past Node's limit of
 * 10 and prints MaxListenersExceededWarning.
 */
function follow(outer: AbortSignal, inner: AbortSignal): AbortSignal {
  if (typeof AbortSignal.any === 'function') return AbortSignal.any([outer, inner]);
  const controller = new AbortController();
  const forward = (signal: AbortSignal) => () => controller.abort(signal.reason);
  if (outer.aborted) controller.abort(outer.reason);
  outer.addEventListener('abort', forward(outer), { once: true, signal: controller.signal });
  inner.addEventListener('abort', forward(inner), { once: true, signal: controller.signal });
  return controller.signal;
}

export function networkError(url: string, error: unknown): SkiffError {
  const cause =
    error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
  return new SkiffError(
    'network',
    `Could not reach ${new URL(url).host} (${cause}). In a browser this is also how a registry without CORS headers looks: use a relay.`,
    { cause: error },
  );
}

/** Retry-After is seconds or an HTTP date; anything else is ignored. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
