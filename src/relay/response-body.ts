/**
 * Answers streamed back to the client: chunk by chunk (never gathered), counted for the log, with a stall
 * timeout, and capped where the answer must be small (token endpoints).
 */
export interface BodyOptions {
  /** Error the stream past this many bytes. */
  limit: number | undefined;
  idleMs: number;
  onIdle(): void;
  /** Called once when the body ends; bytes is undefined where the runtime moved them without counting. */
  onEnd(bytes: number | undefined, outcome: 'ok' | 'failed' | 'cancelled'): void;
}

type StreamPair = { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> };

/** workerd's own stream classes (absent elsewhere): its native pipes move bytes without running JS per chunk. */
const workerdStreams = globalThis as {
  FixedLengthStream?: new (length: number) => StreamPair;
  IdentityTransformStream?: new () => StreamPair;
};

/**
 * Streams a body to the client. On workerd, JS sees 4 KiB chunks (a pull loop there manages ~60 MB/s), so
 * registry bodies go through a native pipe (FixedLengthStream, which also keeps Content-Length, which workerd
 * drops for JS streams); the stall timeout is then the runtime's. Token answers, which must be capped, and
 * every body on other platforms go through relayBody.
 */
export function passThrough(
  source: ReadableStream<Uint8Array>,
  declared: string | null,
  options: BodyOptions,
): ReadableStream<Uint8Array> {
  const length = declared !== null && /^[0-9]+$/.test(declared) ? Number(declared) : undefined;
  const { FixedLengthStream: Fixed, IdentityTransformStream: Identity } = workerdStreams;
  if (options.limit === undefined && Fixed && Identity) {
    const pair = length !== undefined ? new Fixed(length) : new Identity();
    source.pipeTo(pair.writable).then(
      () => options.onEnd(length, 'ok'),
      () => options.onEnd(undefined, 'failed'),
    );
    return pair.readable;
  }
  const counted = relayBody(source, options);
  if (!Fixed || length === undefined) return counted;
  const pair = new Fixed(length);
  counted.pipeTo(pair.writable).catch(() => {});
  return pair.readable;
}

/** Streams a body chunk by chunk (no buffering), counting bytes, with a stall timeout and an end callback. */
export function relayBody(source: ReadableStream<Uint8Array>, options: BodyOptions): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let bytes = 0;
  let ended = false;
  const end = (outcome: 'ok' | 'failed' | 'cancelled') => {
    if (ended) return;
    ended = true;
    options.onEnd(bytes, outcome);
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        const idle = new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            options.onIdle();
            reject(new Error('the upstream body stalled'));
          }, options.idleMs);
        });
        const { done, value } = await Promise.race([reader.read(), idle]);
        if (done) {
          controller.close();
          end('ok');
          return;
        }
        bytes += value.byteLength;
        if (options.limit !== undefined && bytes > options.limit)
          throw new Error(`the answer is larger than ${options.limit} bytes`);
        controller.enqueue(value);
      } catch (error) {
        reader.cancel(error).catch(() => {});
        controller.error(error);
        end('failed');
      } finally {
        clearTimeout(timer);
      }
    },
    cancel(reason) {
      end('cancelled');
      return reader.cancel(reason);
    },
  });
}
