/**
 * sha256 on another thread, so that hashing and inflating use both cores. The protocol and both ends live
 * here; the thread itself is the host's (a Web Worker in a page, worker_threads in Node), joined through a
 * minimal channel, so the engine stays free of DOM and Node APIs.
 */
import { createSHA256 } from 'hash-wasm';
import type { Sha256, Sha256Factory } from './sha256.ts';

type Hasher = Awaited<ReturnType<typeof createSHA256>>;

/**
 * `chunk` is transferred, not copied, and comes back in the `consumed` reply for the sender to fill again:
 * hashing a GiB leaves no GiB of copies behind for either side's collector.
 */
export type HashRequest = { id: number; chunk: Uint8Array } | { id: number; end: true };
export type HashReply =
  { id: number; consumed: number; chunk?: Uint8Array } | { id: number; digest: string } | { id: number; error: string };

export interface HashChannel {
  /** `transfer` lists buffers to move rather than copy (a host may copy them anyway; that is only slower). */
  post(message: HashRequest, transfer?: Transferable[]): void;
  onReply(handler: (reply: HashReply) => void): void;
}

/** What to transfer along with a reply: the chunk's buffer goes back to the sender. */
export function replyTransfer(reply: HashReply): Transferable[] {
  return 'chunk' in reply && reply.chunk ? [reply.chunk.buffer as ArrayBuffer] : [];
}

/** The worker's side: call it with each request, post back what it returns (with `replyTransfer`). */
export function createHashService(): (request: HashRequest) => Promise<HashReply> {
  const hashers = new Map<number, Promise<Hasher>>();
  return async (request) => {
    try {
      let hasher = hashers.get(request.id);
      if (!hasher) {
        hasher = createSHA256().then((h) => h.init());
        hashers.set(request.id, hasher);
      }
      const h = await hasher;
      if ('chunk' in request) {
        h.update(request.chunk);
        return { id: request.id, consumed: request.chunk.byteLength, chunk: request.chunk };
      }
      hashers.delete(request.id);
      return { id: request.id, digest: `sha256:${h.digest('hex')}` };
    } catch (error) {
      return { id: request.id, error: String(error) };
    }
  };
}

/** Bytes per piece sent to the worker. */
const PIECE = 1024 * 1024;
/** Pieces kept for reuse once they come back. */
const KEEP = 4;

interface Stream {
  queued: number;
  /** The piece being filled, and how far. */
  piece?: Uint8Array<ArrayBuffer>;
  fill: number;
  wake?: () => void;
  done?: (digest: string) => void;
  fail?: (e: Error) => void;
  failed?: Error;
}

/**
 * The engine's side: hashers whose work runs behind `channel`. `update` copies the caller's bytes into
 * pieces that travel to the worker and back, so the caller may reuse its chunk as soon as `update`
 * returns. Once more than `maxQueued` bytes wait for the worker, `update` returns a promise that settles
 * when the worker has caught up to half of that.
 */
export function workerSha256Factory(channel: HashChannel, maxQueued = 4 * 2 ** 20): Sha256Factory {
  let nextId = 1;
  const streams = new Map<number, Stream>();
  const spare: Uint8Array<ArrayBuffer>[] = [];
  const piece = () => spare.pop() ?? new Uint8Array(PIECE);
  channel.onReply((reply) => {
    if ('chunk' in reply && reply.chunk && reply.chunk.buffer.byteLength === PIECE && spare.length < KEEP) {
      spare.push(new Uint8Array(reply.chunk.buffer as ArrayBuffer));
    }
    const stream = streams.get(reply.id);
    if (!stream) return;
    if ('consumed' in reply) {
      stream.queued -= reply.consumed;
      if (stream.queued <= maxQueued / 2) stream.wake?.();
    } else if ('digest' in reply) {
      streams.delete(reply.id);
      stream.done?.(reply.digest);
    } else {
      streams.delete(reply.id);
      stream.failed = new Error(`sha256 worker: ${reply.error}`);
      stream.wake?.();
      stream.fail?.(stream.failed);
    }
  });
  const send = (id: number, stream: Stream) => {
    const chunk = stream.piece!.subarray(0, stream.fill);
    stream.piece = undefined;
    stream.queued += stream.fill;
    stream.fill = 0;
    channel.post({ id, chunk }, [chunk.buffer]);
  };
  return async (): Promise<Sha256> => {
    const id = nextId++;
    const stream: Stream = { queued: 0, fill: 0 };
    streams.set(id, stream);
    const caughtUp = () =>
      new Promise<void>((resolve) => {
        stream.wake = () => {
          stream.wake = undefined;
          resolve();
        };
      });
    return {
      update(chunk) {
        if (stream.failed) return Promise.reject(stream.failed);
        // Everything is copied now, so the caller may reuse its chunk as soon as this returns.
        for (let at = 0; at < chunk.byteLength;) {
          stream.piece ??= piece();
          const n = Math.min(PIECE - stream.fill, chunk.byteLength - at);
          stream.piece.set(chunk.subarray(at, at + n), stream.fill);
          stream.fill += n;
          at += n;
          if (stream.fill === PIECE) send(id, stream);
        }
        if (stream.queued <= maxQueued) return;
        return (async () => {
          while (stream.queued > maxQueued) {
            await caughtUp();
            if (stream.failed) throw stream.failed;
          }
        })();
      },
      digest() {
        return new Promise<string>((resolve, reject) => {
          if (stream.failed) return reject(stream.failed);
          stream.done = resolve;
          stream.fail = reject;
          if (stream.fill > 0) send(id, stream);
          channel.post({ id, end: true });
        });
      },
    };
  };
}

/** The page's side for a Web Worker running sha256.worker.ts. */
export function webWorkerSha256(worker: {
  postMessage(message: unknown, transfer: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
}): Sha256Factory {
  return workerSha256Factory({
    post: (message, transfer = []) => worker.postMessage(message, transfer),
    onReply: (handler) => worker.addEventListener('message', (event) => handler(event.data as HashReply)),
  });
}
