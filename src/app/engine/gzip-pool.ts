/**
 * gzip of a layer over several cores in the page: a few Web Workers (gzip.worker.ts), each making gzip
 * members of 1 MiB blocks with the browser's CompressionStream, joined in order (core/codecs/gzip-members.ts).
 * One CompressionStream keeps one core busy; a 1 GB layer then waits on it. Where no worker starts (a host's
 * CSP, an old browser), the single CompressionStream of the engine does it, slower but the same kind of gzip.
 */
import { type Gzip, gzipChunks } from '../../core/codecs/gzip.ts';
import { type CompressBlock, memberGzip } from '../../core/codecs/gzip-members.ts';
import type { GzipReply, GzipRequest } from './gzip.worker.ts';

/** At most this many workers: the engine's thread and the hashing thread need cores too. */
const MAX_WORKERS = 4;
/** Blocks in flight per worker, per layer: enough to keep each busy while the engine's thread is slow to answer. */
const BLOCKS_PER_WORKER = 2;
const START_TIMEOUT_MS = 5000;

export interface GzipPool {
  gzip: Gzip;
  /** Ends the workers (once the push is over). */
  close(): void;
}

/** Workers started on first use; the default gzip when none answers (or for levels CompressionStream lacks). */
export function gzipPool(size = defaultSize()): GzipPool {
  let started: Promise<CompressBlock | undefined> | undefined;
  const workers: Worker[] = [];
  let closed = false;
  const start = async (): Promise<CompressBlock | undefined> => {
    if (typeof Worker === 'undefined' || typeof CompressionStream !== 'function' || size < 2) return undefined;
    try {
      for (let i = 0; i < size; i++)
        workers.push(new Worker(new URL('./gzip.worker.ts', import.meta.url), { type: 'module', name: 'gzip' }));
    } catch {
      for (const worker of workers) worker.terminate();
      return undefined;
    }
    const compress = pooled(workers);
    // A tiny member from each worker proves it runs before a layer depends on it.
    const probe = Promise.all(workers.map(() => compress(new Uint8Array(16))));
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('no answer')), START_TIMEOUT_MS),
    );
    const ok = await Promise.race([probe, timeout]).then(
      () => true,
      () => false,
    );
    if (ok && !closed) return compress;
    for (const worker of workers) worker.terminate();
    return undefined;
  };
  return {
    gzip: async function* (source, level = 6) {
      // CompressionStream has zlib's default level only; another level goes through pako, on this thread.
      const compress = level === 6 ? await (started ??= start()) : undefined;
      yield* compress ? memberGzip(compress, BLOCKS_PER_WORKER * size)(source) : gzipChunks(source, level);
    },
    close() {
      closed = true;
      for (const worker of workers) worker.terminate();
    },
  };
}

function defaultSize(): number {
  const cores = typeof navigator === 'undefined' ? 1 : navigator.hardwareConcurrency || 1;
  return Math.min(MAX_WORKERS, cores);
}

interface Waiter {
  worker: number;
  resolve(reply: { member: Uint8Array; spare: ArrayBuffer }): void;
  reject(error: Error): void;
}

/** Blocks go to the worker with the fewest waiting; each is transferred there and its buffer comes back. */
function pooled(workers: Worker[]): CompressBlock {
  let nextId = 1;
  const waiting = new Map<number, Waiter>();
  const load = workers.map(() => 0);
  const settle = (reply: GzipReply) => {
    const waiter = waiting.get(reply.id);
    if (!waiter) return;
    waiting.delete(reply.id);
    load[waiter.worker]!--;
    if ('error' in reply) waiter.reject(new Error(`gzip worker: ${reply.error}`));
    else waiter.resolve(reply);
  };
  workers.forEach((worker, i) => {
    worker.addEventListener('message', (event: MessageEvent<GzipReply>) => settle(event.data));
    worker.addEventListener('error', (event) => {
      event.preventDefault();
      for (const [id, waiter] of waiting) if (waiter.worker === i) settle({ id, error: event.message || 'failed' });
    });
  });
  return (block) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      const i = load.indexOf(Math.min(...load));
      load[i]!++;
      waiting.set(id, { worker: i, resolve, reject });
      workers[i]!.postMessage({ id, block } satisfies GzipRequest, [block.buffer]);
    });
}
