/**
 * sha256 on another thread, so that hashing and inflating use both cores. The protocol and both ends live
 * here; the thread itself is the host's (a Web Worker in a page, worker_threads in Node), joined through a
 * minimal channel, so the engine stays free of DOM and Node APIs.
 */
import { createSHA256 } from 'hash-wasm';
import type { Sha256, Sha256Factory } from './sha256.ts';

type Hasher = Awaited<ReturnType<typeof createSHA256>>;

export type HashRequest = { id: number; chunk: Uint8Array } | { id: number; end: true };
export type HashReply = { id: number; consumed: number } | { id: number; digest: string } | { id: number; error: string };

export interface HashChannel {
  post(message: HashRequest): void;
  onReply(handler: (reply: HashReply) => void): void;
}

/** The worker's side: call it with each request, post back what it returns. */
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
        return { id: request.id, consumed: request.chunk.byteLength };
      }
      hashers.delete(request.id);
      return { id: request.id, digest: `sha256:${h.digest('hex')}` };
    } catch (error) {
      return { id: request.id, error: String(error) };
    }
  };
}

/**
 * The engine's side: hashers whose work runs behind `channel`. At most `maxQueued` bytes wait for the
 * worker; past that `update` returns a promise that settles once the worker has caught up.
 */
export function workerSha256Factory(channel: HashChannel, maxQueued = 8 * 2 ** 20): Sha256Factory {
  let nextId = 1;
  const streams = new Map<number, { queued: number; wake?: () => void; done?: (digest: string) => void; fail?: (e: Error) => void }>();
  channel.onReply((reply) => {
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
      stream.fail?.(new Error(`sha256 worker: ${reply.error}`));
    }
  });
  return async (): Promise<Sha256> => {
    const id = nextId++;
    const stream: { queued: number; wake?: () => void; done?: (digest: string) => void; fail?: (e: Error) => void } = { queued: 0 };
    streams.set(id, stream);
    return {
      update(chunk) {
        // Structured clone copies the bytes: the caller keeps its chunk for the archive.
        channel.post({ id, chunk });
        stream.queued += chunk.byteLength;
        if (stream.queued <= maxQueued) return;
        return new Promise<void>((resolve) => {
          stream.wake = () => {
            stream.wake = undefined;
            resolve();
          };
        });
      },
      digest() {
        return new Promise<string>((resolve, reject) => {
          stream.done = resolve;
          stream.fail = reject;
          channel.post({ id, end: true });
        });
      },
    };
  };
}

/** The page's side for a Web Worker running sha256.worker.ts. */
export function webWorkerSha256(worker: { postMessage(message: unknown): void; addEventListener(type: 'message', listener: (event: MessageEvent) => void): void }): Sha256Factory {
  return workerSha256Factory({
    post: (message) => worker.postMessage(message),
    onReply: (handler) => worker.addEventListener('message', (event) => handler(event.data as HashReply)),
  });
}
