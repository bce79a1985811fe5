/**
 * The engine's one error type. Every failure the engine can foresee ends in a SkiffError whose `code`
 * says what kind of thing went wrong (for the UI to pick advice) and whose message says it in plain words.
 */
export type SkiffErrorCode =
  | 'invalid-reference'
  | 'invalid-argument'
  | 'unauthorized'
  | 'denied'
  | 'not-found'
  | 'network'
  | 'timeout'
  | 'http'
  | 'rate-limited'
  | 'bad-challenge'
  | 'bad-token'
  | 'bad-manifest'
  | 'unsupported'
  | 'platform-not-found'
  | 'digest-mismatch'
  | 'size-mismatch'
  | 'bad-layer'
  | 'malformed-layer'
  | 'relay-refused'
  | 'too-large'
  | 'aborted';

export interface RelayRefusal {
  code: string;
  host?: string;
}

/** With `rate-limited`: what the registry said about its quota (counts, window, reset), as far as it did. */
export interface QuotaReport {
  remaining?: number;
  limit?: number;
  windowSeconds?: number;
  resetSeconds?: number;
}

/** With a give-up on waiting: the host, and whether it did not answer, answered too slowly, or kept stalling. */
export interface WaitFailure {
  host: string;
  kind: 'no-answer' | 'too-slow' | 'stalling';
}

export class SkiffError extends Error {
  override readonly name = 'SkiffError';
  /** With `platform-not-found`: the platforms that do exist (`linux/arm64`, …), for the UI to offer. */
  readonly platforms?: string[];
  /** With `relay-refused`: the relay's own error code (`host-not-allowed`, …) and the host it names. */
  readonly relay?: RelayRefusal;
  readonly quota?: QuotaReport;
  readonly wait?: WaitFailure;
  constructor(
    readonly code: SkiffErrorCode,
    message: string,
    options?: { cause?: unknown; platforms?: string[]; relay?: RelayRefusal; quota?: QuotaReport; wait?: WaitFailure },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    if (options?.platforms) this.platforms = options.platforms;
    if (options?.relay) this.relay = options.relay;
    if (options?.quota) this.quota = options.quota;
    if (options?.wait) this.wait = options.wait;
  }
}

export function isSkiffError(error: unknown, code?: SkiffErrorCode): error is SkiffError {
  return error instanceof SkiffError && (code === undefined || error.code === code);
}

/** The error an aborted operation should end with: the signal's own reason when it is a SkiffError. */
export function abortError(signal: AbortSignal | undefined): SkiffError {
  const reason: unknown = signal?.reason;
  if (reason instanceof SkiffError) return reason;
  return new SkiffError('aborted', 'The pull was cancelled.', { cause: reason });
}
