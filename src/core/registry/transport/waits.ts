/**
 * One policy for every wait of the transport — token, manifest, config, blob; HEAD, GET and push's uploads —
 * so that a person learns within about a minute that a host does not answer, answers too slowly, or keeps
 * stalling, with the host named. The numbers live here, each with why:
 */
import { SkiffError, abortError } from '../../errors.ts';
import { sleep } from './fetcher.ts';

export interface WaitPolicy {
  /** How long one try of a request may wait for its answer's headers. */
  answerMs: number;
  /** A body that sends nothing for this long, or less than `minBytesPerSecond` over a window this long, is stalled. */
  idleMs: number;
  minBytesPerSecond: number;
  /** Tries of one request in all, the first included, whichever layers retry it (they share one count). */
  attempts: number;
  /** A request that has made no useful progress for this long ends: its tries, its body and its resumes together. */
  deadlineMs: number;
  /** Bytes a second an upload's body may be sent at: its answer may come that much later. */
  uploadBytesPerSecond: number;
}

export const DEFAULT_WAITS: Readonly<WaitPolicy> = {
  // Registries send headers in well under a second even from far away; 20 s covers a cold start or a slow
  // TLS handshake, and leaves room for three tries within the deadline.
  answerMs: 20_000,
  // Long enough for TCP to ride out a lost packet (its back-off reaches 16 s), short enough that three windows
  // fit the deadline. A slow but steady link is never cut: only silence or a trickle below the rate is.
  idleMs: 20_000,
  // Far below any usable link (a 2G modem moves 5 KiB/s), far above a drip of one byte a second.
  minBytesPerSecond: 1024,
  // A cut connection or a 5xx usually heals at once; a fourth failure in a row is the host, not luck.
  attempts: 4,
  // About a minute: what a person waits before deciding that something is wrong.
  deadlineMs: 60_000,
  // A push's 4 MiB chunk gets 64 s more on top of the answer time: a slower uplink than 64 KiB/s is not one
  // anyone pushes images over, and a host that never answers is still found out within a few minutes.
  uploadBytesPerSecond: 64 * 1024,
};

/** The options that set waits, old and new: each keeps working. */
export interface WaitOptions {
  waits?: Partial<WaitPolicy>;
  /** Legacy: `attempts` and `timeoutMs` (= answerMs). */
  retry?: { attempts?: number; timeoutMs?: number };
  /** Legacy: a blob body silent this long is stalled (= idleMs). */
  idleTimeoutMs?: number;
  minBytesPerSecond?: number;
}

/**
 * The policy for a client or a pull. A longer idle time-out than a third of the deadline (a host's own
 * setting) stretches the deadline to three windows, so a stall can still be tried again twice.
 */
export function waitPolicy(options: WaitOptions = {}): WaitPolicy {
  const given = options.waits ?? {};
  const idleMs = options.idleTimeoutMs || given.idleMs || DEFAULT_WAITS.idleMs;
  const deadlineMs = given.deadlineMs ?? Math.max(DEFAULT_WAITS.deadlineMs, 3 * idleMs);
  return {
    answerMs: options.retry?.timeoutMs ?? given.answerMs ?? DEFAULT_WAITS.answerMs,
    idleMs,
    minBytesPerSecond: options.minBytesPerSecond ?? given.minBytesPerSecond ?? DEFAULT_WAITS.minBytesPerSecond,
    attempts: Math.max(1, options.retry?.attempts ?? given.attempts ?? DEFAULT_WAITS.attempts),
    deadlineMs,
    uploadBytesPerSecond: given.uploadBytesPerSecond ?? DEFAULT_WAITS.uploadBytesPerSecond,
  };
}

/** Every wait scaled to one deadline (a CLI or page setting; tests use a few seconds). */
export function scaledWaits(deadlineMs: number): Partial<WaitPolicy> {
  return { deadlineMs, answerMs: deadlineMs / 3, idleMs: deadlineMs / 3 };
}

/** What a give-up says about the host: it did not answer, it answered too slowly, or it kept stalling. */
export type WaitKind = 'no-answer' | 'too-slow' | 'stalling';

const given = new WeakSet<Error>();

/** A give-up: no layer above tries it again (retries do not multiply). */
export function isGivenUp(error: unknown): boolean {
  return error instanceof Error && given.has(error);
}

/** The error that ends a request; with a `kind` when it ended for waiting (a refused connection did not). */
export function giveUp(error: SkiffError, host: string, kind: WaitKind | undefined, suffix = ''): SkiffError {
  const final = new SkiffError(error.code, `${error.message}${suffix}`, {
    cause: error,
    ...(kind ? { wait: { host, kind } } : {}),
  });
  given.add(final);
  return final;
}

const WAIT = Symbol('skiff.wait');

/**
 * One request's share of patience: its tries and its deadline, spent by every layer that retries it (the
 * retry layer, a token request made for it, a body read again). It rides on the RequestInit, which each
 * layer passes on with `{ ...init }` (spread copies symbol keys).
 */
export class RequestWait {
  tries = 0;
  readonly started = Date.now();
  private readonly deadline: number;

  constructor(
    readonly policy: WaitPolicy,
    readonly host: string,
    /** Another end than the policy's: earlier for a resume of a blob that already stalls, later for an upload. */
    deadline?: number,
  ) {
    this.deadline = deadline ?? this.started + policy.deadlineMs;
  }

  /** A request's patience: the policy's deadline, plus the time its body may take to send. */
  static of(policy: WaitPolicy, url: string, init: RequestInit): RequestWait {
    return new RequestWait(policy, new URL(url).host, Date.now() + policy.deadlineMs + sendMs(policy, init));
  }

  /** A 401 challenge is an answer, the protocol's first step, not a failed try. */
  challenged(): void {
    this.tries = Math.max(0, this.tries - 1);
  }

  left(): number {
    return this.deadline - Date.now();
  }

  /** Whether another try may start after a pause of `pauseMs`. */
  canRetry(pauseMs = 0): boolean {
    return this.tries < this.policy.attempts && this.left() > pauseMs;
  }

  /** The failure that ends this request, saying after how many tries. */
  giveUp(error: SkiffError, kind: WaitKind | undefined, host = this.host): SkiffError {
    if (isGivenUp(error)) return error;
    return giveUp(error, host, kind, this.tries > 1 ? ` (gave up after ${this.tries} tries)` : '');
  }
}

export function withWait(init: RequestInit, wait: RequestWait): RequestInit {
  return { ...init, [WAIT]: wait } as RequestInit;
}

export function waitOf(init: RequestInit): RequestWait | undefined {
  return (init as { [WAIT]?: RequestWait })[WAIT];
}

/** How long a request's body may take to send (uploads send Uint8Arrays; other bodies are small). */
export function sendMs(policy: WaitPolicy, init: RequestInit): number {
  const body = init.body;
  const bytes =
    body instanceof ArrayBuffer || ArrayBuffer.isView(body)
      ? body.byteLength
      : typeof body === 'string'
        ? body.length
        : 0;
  return (bytes / policy.uploadBytesPerSecond) * 1000;
}

/**
 * Runs `attempt` again while it fails transiently (a body that broke off or came too slowly), within the
 * request's one share of tries and time: then the last failure, saying how many tries it took. Other
 * failures, and a cancel, end it at once.
 */
export async function retryTransient<T>(
  wait: RequestWait,
  signal: AbortSignal | undefined,
  attempt: () => Promise<T>,
  options: { host?: string; onRetry?: (message: string) => void } = {},
): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      if (signal?.aborted) throw abortError(signal);
      if (isGivenUp(error)) throw error;
      const transient = error instanceof SkiffError && (error.code === 'network' || error.code === 'timeout');
      if (!transient) throw error;
      const pause = Math.min(250 * 2 ** (n - 1), 4_000);
      if (!wait.canRetry(pause))
        throw wait.giveUp(error, error.code === 'timeout' ? 'too-slow' : undefined, options.host);
      options.onRetry?.(`${error.message}; trying again (${wait.tries + 1} of ${wait.policy.attempts})`);
      await sleep(pause, signal).catch(() => {
        throw abortError(signal);
      });
    }
  }
}
