/**
 * Runs the engine's work off the page's thread, in engine.worker.ts: a download (a tar of one or more
 * images, or the zip kit) written into `sink`, the page's file stream; or a push of an archive file into
 * registries. The page's thread is left to the page and the file; the worker fetches, reads, verifies,
 * inflates and uploads, and a third thread hashes. Where the worker cannot run (an old browser, a host's
 * CSP header that forbids it) the same work runs on the page, as before: slower, with the same result.
 */
import { abortError } from '../../core/errors.ts';
import type { KitResult, PullResult, TransferProgress, TransferResult } from '../../core/pull.ts';
import type { TransportOptions } from '../../core/registry/client.ts';
import type { SetProgress, SetResult } from '../../core/transfer/set-to-registry.ts';
import { type DownloadJob, type JobHooks, type JobResult, writeArchiveJob } from './archive-job.ts';
import {
  type JobProgress,
  type PageMessage,
  type PortableJob,
  type WorkerMessage,
  portableError,
  portableJob,
  revivedError,
} from './engine-protocol.ts';
import { pageHashPort, pageSha256 } from './hashing.ts';
import { bufferBack } from './sink.ts';
import { type PushJob, runPushJob } from './push-job.ts';

export type { DownloadJob } from './archive-job.ts';
export type { PushJob } from './push-job.ts';

/** `transport`: what the worker needs to reach the registries again (its own clients, its own tokens). */
export interface DownloadHooks extends JobHooks {
  transport: TransportOptions;
}

const READY_TIMEOUT_MS = 5000;
/** After a cancel, the worker has this long to close what it has open at the registries: a chunk on its way
 *  may finish first (CHUNK_FINISH_MS, core/registry/upload.ts), then the DELETE goes, on a loaded machine too. */
const CANCEL_GRACE_MS = 10_000;

/** What a push's caller hears, and how it stops it. */
export interface PushHooks {
  signal: AbortSignal;
  transport: TransportOptions;
  onProgress: (progress: SetProgress) => void;
}

/** Writes the archive into `sink` and closes it; on failure aborts it and rejects, as `pull` does. */
export async function writeArchive<J extends DownloadJob>(
  job: J,
  sink: WritableStream<Uint8Array>,
  options: DownloadHooks,
): Promise<JobResult<J>> {
  const worker = await startEngineWorker();
  if (options.signal.aborted) {
    worker?.terminate();
    await sink.abort(abortError(options.signal)).catch(() => {});
    throw abortError(options.signal);
  }
  if (!worker) return (await inPage(job, sink, options)) as JobResult<J>;
  const hashPort = await pageHashPort();
  const onProgress = (item: number, progress: JobProgress) => options.onProgress(item, progress as TransferProgress);
  const result = await inWorker(worker, portableJob(job, options.transport), hashPort, sink, {
    ...options,
    onProgress,
  });
  return result as JobResult<J>;
}

/** Pushes the units of the archive `job.file` as `job.targets` say; rejects as `pushSet` does. */
export async function pushFile(job: PushJob, options: PushHooks): Promise<SetResult> {
  const { signal, transport } = options;
  const worker = await startEngineWorker();
  if (signal.aborted) {
    worker?.terminate();
    throw abortError(signal);
  }
  if (!worker)
    return runPushJob(job, { transport, signal, sha256: await pageSha256(), onProgress: options.onProgress });
  const hashPort = await pageHashPort();
  const onProgress = (_item: number, progress: JobProgress) => options.onProgress(progress as SetProgress);
  return (await inWorker(worker, portableJob(job, transport), hashPort, undefined, {
    signal,
    onProgress,
  })) as SetResult;
}

/** A fresh engine worker that has said it runs, or undefined where none can start. */
async function startEngineWorker(): Promise<Worker | undefined> {
  if (typeof Worker === 'undefined') return undefined;
  let worker: Worker;
  try {
    worker = new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module', name: 'engine' });
  } catch {
    return undefined;
  }
  const ready = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), READY_TIMEOUT_MS);
    worker.addEventListener(
      'message',
      (event: MessageEvent<WorkerMessage>) => {
        if (event.data.type !== 'ready') return;
        clearTimeout(timer);
        resolve(true);
      },
      { once: true },
    );
    worker.addEventListener(
      'error',
      () => {
        clearTimeout(timer);
        resolve(false);
      },
      { once: true },
    );
  });
  if (ready) return worker;
  worker.terminate();
  return undefined;
}

/** A job in the worker; `sink` takes a download's archive (a push has none). */
function inWorker(
  worker: Worker,
  job: PortableJob,
  hashPort: MessagePort | undefined,
  sink: WritableStream<Uint8Array> | undefined,
  options: { signal: AbortSignal; onProgress: (item: number, progress: JobProgress) => void },
): Promise<PullResult | KitResult | TransferResult> {
  const writer = sink?.getWriter();
  const { signal } = options;
  const send = (message: PageMessage) => worker.postMessage(message);
  return new Promise((resolve, reject) => {
    let settled = false;
    // Chunks are written one after another, each acknowledged once the file has taken it.
    let chain = Promise.resolve();
    const end = (graceMs = 0) => {
      settled = true;
      const stop = () => {
        worker.terminate();
        // The hashing thread stays for the next job; this job's hashers on it are dropped. Not before the
        // worker ends: a cancelled push still hashes its way to the next request, which closes its upload.
        hashPort?.close();
      };
      if (graceMs) setTimeout(stop, graceMs);
      else stop();
      signal.removeEventListener('abort', onAbort);
    };
    const fail = (error: unknown, graceMs = 0) => {
      if (settled) return;
      end(graceMs);
      // Never a file that looks complete: the sink is aborted, whatever failed.
      void writer?.abort(error).catch(() => {});
      reject(error);
    };
    const onAbort = () => {
      const reason = abortError(signal);
      send({ type: 'cancel', reason: portableError(reason) });
      fail(reason, CANCEL_GRACE_MS);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    worker.addEventListener('message', (event: MessageEvent<WorkerMessage>) => {
      const message = event.data;
      switch (message.type) {
        case 'data':
          chain = chain
            .then(async () => {
              if (settled || !writer) return;
              await writer.write(message.chunk);
              if (settled) return;
              // A buffer the file is done with goes back to the worker to be filled again.
              const free = sink && bufferBack(sink, message.chunk);
              if (free?.byteLength)
                worker.postMessage({ type: 'ack', chunk: free as Uint8Array<ArrayBuffer> } satisfies PageMessage, [
                  free.buffer,
                ]);
              else send({ type: 'ack' });
            })
            .catch(fail);
          break;
        case 'progress':
          if (!settled) options.onProgress(message.item, message.progress);
          break;
        case 'done':
          chain = chain
            .then(async () => {
              if (settled) return;
              await writer?.close();
              if (settled) return;
              end();
              resolve(message.result);
            })
            .catch(fail);
          break;
        case 'error':
          fail(revivedError(message.error));
          break;
      }
    });
    worker.addEventListener('error', (event) =>
      fail(new Error(`The engine's worker failed: ${event.message || 'unknown error'}`)),
    );
    if (hashPort) worker.postMessage({ type: 'start', job, hashPort } satisfies PageMessage, [hashPort]);
    else send({ type: 'start', job });
  });
}

async function inPage(
  job: DownloadJob,
  sink: WritableStream<Uint8Array>,
  options: JobHooks & { transport: TransportOptions },
): Promise<PullResult | KitResult> {
  return writeArchiveJob(job, sink, {
    transport: options.transport,
    signal: options.signal,
    sha256: await pageSha256(),
    onProgress: options.onProgress,
  });
}
