import { SkiffError } from './errors.ts';

/** How long a body read whole may go without a byte before we give up on it. */
export const BODY_IDLE_TIMEOUT_MS = 60_000;

/**
 * Reads a whole stream, but never more than `limit` bytes, so an answer from outside cannot fill memory:
 * past the limit it returns undefined, or with `truncate` the first `limit` bytes (cancelling the rest).
 * A stream that sends nothing for `idleMs` is cancelled and ends in a `timeout` SkiffError naming `what`.
 */
export async function readAtMost(
  stream: ReadableStream<Uint8Array>,
  limit: number,
  options: { what?: string; idleMs?: number; truncate?: boolean } = {},
): Promise<Uint8Array<ArrayBuffer> | undefined> {
  const idleMs = options.idleMs ?? BODY_IDLE_TIMEOUT_MS;
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    let result: ReadableStreamReadResult<Uint8Array>;
    try {
      result = await readWithin(reader, idleMs, options.what ?? 'The answer');
    } catch (error) {
      reader.cancel().catch(() => {});
      throw error;
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
export async function readTextAtMost(response: Response, limit: number, what: string): Promise<string> {
  if (!response.body) return '';
  const bytes = await readAtMost(response.body, limit, { what, truncate: true });
  return new TextDecoder().decode(bytes);
}
