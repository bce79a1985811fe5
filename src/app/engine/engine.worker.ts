/**
 * The engine's own thread: one job off the page's thread, with its hashing on the page's hashing thread.
 * A download's pull (fetch, verify, inflate, tar — or the zip kit): the archive goes back to the page in
 * WRITE_CHUNK pieces, transferred (not copied), at most MAX_IN_FLIGHT of them unacknowledged, so memory
 * stays flat and a slow file slows the network. A push: the posted File is read here in slices and pushed.
 * The page ends this worker when the job ends; that also stops every request it has open. A cancel is told
 * first, so that a push can close its unfinished upload at the registry.
 */
import { type Sha256Factory, createSha256 } from '../../core/codecs/sha256.ts';
import type { TransferProgress } from '../../core/pull.ts';
import { ChunkWriter } from '../../core/archive/chunks.ts';
import { writeArchiveJob } from './archive-job.ts';
import {
  type PageMessage,
  type PortableJob,
  type WorkerMessage,
  portableError,
  revivedError,
  revivedJob,
} from './engine-protocol.ts';
import { runPushJob } from './push-job.ts';
import { portSha256, startSha256Worker } from './hashing.ts';
import { MAX_HOLD_MS, WRITE_CHUNK } from './sink.ts';

const MAX_IN_FLIGHT = 1;
/** Buffers the page gave back, kept to be filled again. */
const POOL = MAX_IN_FLIGHT + 2;

const scope = globalThis as unknown as {
  postMessage(message: WorkerMessage, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<PageMessage>) => void): void;
};
const post = (message: WorkerMessage, transfer: Transferable[] = []) => scope.postMessage(message, transfer);

/** Inflated layers are hashed on the page's hashing thread when the page lends it, else on one of our own. */
async function layerHashing(port: MessagePort | undefined): Promise<Sha256Factory> {
  if (port) return portSha256(port);
  return (await startSha256Worker().catch(() => ({ factory: createSha256 }))).factory;
}

/**
 * Hands the archive to the page. A tar's pull already writes fresh WRITE_CHUNK buffers that nothing else
 * holds (`owned`): they are transferred as they are. The kit's writes (zip.js) are gathered into pieces.
 */
class Forwarder {
  owned = false;
  private inFlight = 0;
  private wake: (() => void) | undefined;
  private readonly spare: Uint8Array[] = [];
  /** A WRITE_CHUNK buffer for the next piece: one the page gave back, else a fresh one. */
  readonly buffer = (size: number): Uint8Array =>
    (size === WRITE_CHUNK ? this.spare.pop() : undefined) ?? new Uint8Array(size);
  // The first bytes (and a slow pull's progress) reach the file without waiting for a full piece.
  private readonly gathered = new ChunkWriter((chunk) => this.transfer(chunk), WRITE_CHUNK, MAX_HOLD_MS, this.buffer);

  acked(returned?: Uint8Array): void {
    if (returned?.byteLength === WRITE_CHUNK && this.spare.length < POOL) this.spare.push(returned);
    this.inFlight--;
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private async transfer(chunk: Uint8Array): Promise<void> {
    while (this.inFlight >= MAX_IN_FLIGHT) await new Promise<void>((resolve) => (this.wake = resolve));
    this.inFlight++;
    // A view that does not cover its whole buffer is copied: the page must get exactly these bytes.
    const out =
      chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength
        ? (chunk as Uint8Array<ArrayBuffer>)
        : chunk.slice();
    post({ type: 'data', chunk: out }, [out.buffer]);
  }

  stream(): WritableStream<Uint8Array> {
    return new WritableStream<Uint8Array>({
      write: (chunk) => (this.owned ? this.transfer(chunk) : this.gathered.write(chunk)),
      close: () => this.gathered.flush(),
    });
  }
}

const cancelled = new AbortController();

async function run(portable: PortableJob, hashPort: MessagePort | undefined, forwarder: Forwarder): Promise<void> {
  const { job, transport } = revivedJob(portable);
  const sha256 = await layerHashing(hashPort);
  const signal = cancelled.signal;
  if (job.kind === 'push') {
    const onProgress = (progress: TransferProgress) => post({ type: 'progress', item: 0, progress });
    post({ type: 'done', result: await runPushJob(job, { transport, signal, sha256, onProgress }) });
    return;
  }
  const onProgress = (item: number, progress: TransferProgress) => post({ type: 'progress', item, progress });
  // A tar's pull writes fresh WRITE_CHUNK pieces that can be transferred as they are.
  forwarder.owned = job.kind === 'tar';
  const result = await writeArchiveJob(job, forwarder.stream(), {
    signal,
    sha256,
    onProgress,
    transport,
    writeBuffer: forwarder.buffer,
  });
  post({ type: 'done', result });
}

const forwarder = new Forwarder();
scope.addEventListener('message', (event) => {
  const message = event.data;
  if (message.type === 'ack') forwarder.acked(message.chunk);
  else if (message.type === 'cancel') cancelled.abort(revivedError(message.reason));
  else if (message.type === 'start')
    run(message.job, message.hashPort, forwarder).catch((error: unknown) =>
      post({ type: 'error', error: portableError(error) }),
    );
});
// Ready only once hashing (WebAssembly) works here: a host's CSP header may forbid it in workers, and the
// page then runs the pull itself instead of failing.
void createSha256()
  .then(async (hash) => {
    hash.update(new TextEncoder().encode('abc'));
    if ((await hash.digest()) === 'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
      post({ type: 'ready' });
  })
  .catch(() => {});
