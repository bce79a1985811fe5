/** What reaching a registry needs — and nothing else: a verb's own options are picked down to these. */
import type { Credentials } from './auth.ts';
import type { Fetcher } from './fetcher.ts';
import type { RetryOptions } from './retry.ts';
import type { WaitPolicy } from './waits.ts';

export interface TransportOptions {
  /** CORS relay base URL (`https://host/relay`); empty = talk to registries directly. */
  relay?: string;
  /** Host[:port] that serves Docker Hub images instead of registry-1.docker.io. */
  dockerHubMirror?: string;
  /** Registry hosts to reach over plain http (loopback ones always are, as Docker does). */
  plainHttp?: string[];
  /** Credentials per registry (as in the reference: `docker.io`, `harbor.corp`), or one set for all. */
  credentials?: Credentials | ((registry: string) => Credentials | undefined);
  retry?: RetryOptions;
  /** Every wait's bounds (waits.ts); `retry`, `idleTimeoutMs` and `minBytesPerSecond` still set theirs. */
  waits?: Partial<WaitPolicy>;
  /** A blob body that sends nothing for this long is stalled (the wait policy's `idleMs`). */
  idleTimeoutMs?: number;
  /** A blob body slower than this over an `idleTimeoutMs` is stalled too (default 1024 B/s). */
  minBytesPerSecond?: number;
  /** How long one try of a manifest, config, token or gzip trailer may take to arrive whole (default: the
   *  wait policy's deadline, which bounds all tries together). */
  bodyDeadlineMs?: number;
  /** The fetch to build on (the platform's by default). */
  fetch?: Fetcher;
}

const KEYS = [
  'relay',
  'dockerHubMirror',
  'plainHttp',
  'credentials',
  'retry',
  'waits',
  'idleTimeoutMs',
  'minBytesPerSecond',
  'bodyDeadlineMs',
  'fetch',
] as const;

/** The transport options out of a verb's options (which also carry progress callbacks, parallelism…). */
export function transportOf(options: TransportOptions): TransportOptions {
  const picked: Record<string, unknown> = {};
  for (const key of KEYS) if (options[key] !== undefined) picked[key] = options[key];
  return picked as TransportOptions;
}
