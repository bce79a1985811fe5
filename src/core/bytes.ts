import { SkiffError } from './errors.ts';

/** How long a body read whole may go without a byte before we give up on it. */
export const BODY_IDLE_TIMEOUT_MS = 60_000;
/**
 * How long a body read whole (manifest, config, token, error page: a few KiB to 4 MiB) may take in all:
 * idle timers alone let a registry that drips one byte a second hold a pull for hours.
 */
export const BODY_DEADLINE_MS = 120_000;

/**
 * Reads a whole stream, but never more than `limit` bytes, so an answer from outside cannot fill memory:
 * past the limit it returns undefined, or with `truncate` the first `limit` bytes (cancelling the rest).
 * A stream that sends nothing for `idleMs`, or is not done within `deadlineMs`, is cancelled and ends in a
 * `timeout` SkiffError naming `what`; one that breaks off ends in a `network` SkiffError saying after how much.
 */
export async function readAtMost(
  stream: ReadableStream<Uint8Array>,
  limit: number,
  options: { what?: string; idleMs?: number; deadlineMs?: number; truncate?: boolean } = {},
): Promise<Uint8Array<ArrayBuffer> | undefined> {
  const idleMs = options.idleMs ?? BODY_IDLE_TIMEOUT_MS;
  const deadlineMs = options.deadlineMs ?? BODY_DEADLINE_MS;
  const what = options.what ?? 'The answer';
  const deadline = Date.now() + deadlineMs;
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    let result: ReadableStreamReadResult<Uint8Array>;
    try {
      const left = deadline - Date.now();
      if (left <= 0) throw tooSlow(what, total, deadlineMs);
      result = await readWithin(reader, Math.min(idleMs, left), what).catch((error: unknown) => {
        // The shorter wait was the deadline's, not the idle time-out's.
        if (error instanceof SkiffError && error.code === 'timeout' && left < idleMs)
          throw tooSlow(what, total, deadlineMs);
        throw error;
      });
    } catch (error) {
      reader.cancel().catch(() => {});
      if (error instanceof SkiffError) throw error;
      throw new SkiffError('network', `${what}: the connection broke off after ${total} bytes (${messageOf(error)})`, {
        cause: error,
      });
    }
    if (result.done) break;
    if (total + result.value.byteLength > limit) {
      reader.cancel().catch(() => {});
      if (!options.truncate) return undefined;
      chunks.push(result.value.subarray(0, limit - total));
      total = limit;
      break;
    }
    total += result.value.byteLength;
    chunks.push(result.value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

function tooSlow(what: string, received: number, deadlineMs: number): SkiffError {
  return new SkiffError(
    'timeout',
    `${what}: only ${received} bytes arrived in ${Math.round(deadlineMs / 1000)} s; the registry sends too slowly`,
  );
}

export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.cause instanceof Error ? error.cause.message : error.message;
  return String(error);
}

/** One read that gives up with a `timeout` SkiffError when no data comes for `ms`. */
export async function readWithin(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  ms: number,
  what: string,
): Promise<ReadableStreamReadResult<Uint8Array>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const idle = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SkiffError('timeout', `${what}: no data for ${Math.round(ms / 1000)} s`)), ms);
  });
  try {
    return await Promise.race([reader.read(), idle]);
  } finally {
    clearTimeout(timer);
  }
}

/** The head of a body as text (error pages, token answers): at most `limit` bytes, within the idle time-out. */
export async function readTextAtMost(
  response: Response,
  limit: number,
  what: string,
  deadlineMs?: number,
): Promise<string> {
  if (!response.body) return '';
  const bytes = await readAtMost(response.body, limit, {
    what,
    truncate: true,
    ...(deadlineMs !== undefined ? { deadlineMs } : {}),
  });
  return new TextDecoder().decode(bytes);
}
