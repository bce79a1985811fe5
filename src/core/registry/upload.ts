/**
 * One blob into a registry: POST (or a cross-repository mount), PATCH chunks of at most `chunkBytes`
 * (GHCR refuses more than 4 MiB; some proxies refuse big monolithic PUTs), then PUT `?digest=`. A chunk
 * that fails on the way is resumed from what the registry says it holds; a lost session starts over from
 * the source. The source checks its own digests as it is read, and the blob is committed only after that
 * check passed: a tampered file is refused with nothing committed.
 */
import { SkiffError, abortError } from '../errors.ts';
import type { RegistryClient } from './client.ts';
import { cancelUpload, finishUpload, sendChunk, startUpload, uploadedBytes } from './upload-session.ts';

export const DEFAULT_CHUNK_BYTES = 4 * 1024 * 1024;
/** Times a chunk may fail and be resumed, and times a whole upload may start over. */
const CHUNK_RETRIES = 5;
const RESTARTS = 2;
/**
 * After a cancel, a chunk already on its way may finish for this long before it is cut: distribution keeps
 * the offset in the session's URL, and once a PATCH is cut part-way it refuses every request on that URL —
 * the DELETE that would close the upload too.
 */
export const CHUNK_FINISH_MS = 3000;

/** `signal`, but aborting `ms` after it does. */
function lingering(signal: AbortSignal, ms: number): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const onAbort = () => (timer = setTimeout(() => controller.abort(signal.reason), ms));
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    dispose: () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    },
  };
}

/** The bytes to upload, produced afresh for each attempt, with the checks that must pass at the end. */
export interface BlobStream {
  chunks: AsyncIterable<Uint8Array>;
  /** After the last chunk: the digest and size of what was produced; throws when a check failed. */
  done(): Promise<{ digest: string; size: number }>;
}

export interface UploadOptions {
  chunkBytes?: number;
  signal?: AbortSignal;
  /** Bytes the registry has taken so far in this attempt (it goes back to 0 when an upload starts over). */
  onSent?: (sent: number) => void;
}

/** Errors no retry can fix: the user must act (credentials, rights) or the source is bad. */
function isFinal(error: unknown): boolean {
  return (
    error instanceof SkiffError &&
    [
      'aborted',
      'unauthorized',
      'denied',
      'relay-refused',
      'digest-mismatch',
      'size-mismatch',
      'bad-layer',
      'bad-manifest',
    ].includes(error.code)
  );
}

export async function uploadBlob(
  client: RegistryClient,
  repository: string,
  open: () => BlobStream,
  options: UploadOptions = {},
): Promise<{ digest: string; size: number }> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await uploadOnce(client, repository, open(), options);
    } catch (error) {
      if (options.signal?.aborted) throw abortError(options.signal);
      if (isFinal(error) || attempt >= RESTARTS || !(error instanceof SessionLost)) {
        throw error instanceof SessionLost ? error.cause : error;
      }
    }
  }
}

/** The registry no longer knows the upload: start again from the beginning. */
class SessionLost extends Error {
  constructor(override readonly cause: unknown) {
    super('upload session lost');
  }
}

async function uploadOnce(
  client: RegistryClient,
  repository: string,
  stream: BlobStream,
  options: UploadOptions,
): Promise<{ digest: string; size: number }> {
  const { signal } = options;
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const started = await startUpload(client, repository, undefined, signal);
  if (started.mounted) throw new SkiffError('http', 'The registry mounted a blob it was not asked to mount');
  let session = started.session;
  let committed = 0; // bytes the registry holds
  // Two buffers: the next chunk fills (the source reads, hashes, compresses) while the last one is sent.
  const buffers = [new Uint8Array(chunkBytes), new Uint8Array(chunkBytes)];
  let buffer = buffers[0]!;
  let fill = 0;
  let sending: Promise<void> | undefined;
  const sent = async () => {
    const last = sending;
    sending = undefined;
    await last;
  };

  const chunkSignal = signal && lingering(signal, CHUNK_FINISH_MS);
  const send = async (bytes: Uint8Array) => {
    const start = committed;
    let failures = 0;
    let offset = 0; // how much of `bytes` the registry holds
    while (offset < bytes.byteLength) {
      if (signal?.aborted) throw abortError(signal);
      try {
        session = await sendChunk(client, session, bytes.subarray(offset), start + offset, chunkSignal?.signal);
        offset = bytes.byteLength;
      } catch (error) {
        if (signal?.aborted) throw abortError(signal);
        if (isFinal(error)) throw error;
        if (++failures > CHUNK_RETRIES) throw new SessionLost(error);
        // A cut PATCH may have landed in part: ask the registry what it holds and go on from there.
        const status = await uploadedBytes(client, session, signal).catch((e) => {
          if (isFinal(e)) throw e;
          return undefined;
        });
        if (!status) throw new SessionLost(error);
        if (status.bytes < start || status.bytes > start + bytes.byteLength) throw new SessionLost(error);
        session = status.session;
        offset = status.bytes - start;
      }
    }
    committed = start + bytes.byteLength;
    options.onSent?.(committed);
  };

  try {
    for await (const chunk of stream.chunks) {
      for (let at = 0; at < chunk.byteLength;) {
        const n = Math.min(chunkBytes - fill, chunk.byteLength - at);
        buffer.set(chunk.subarray(at, at + n), fill);
        fill += n;
        at += n;
        if (fill === chunkBytes) {
          await sent();
          sending = send(buffer);
          sending.catch(() => {}); // awaited before the next chunk; a failure is seen there
          buffer = buffer === buffers[0] ? buffers[1]! : buffers[0]!;
          fill = 0;
        }
      }
    }
    await sent();
    // The checks run before the last bytes go: a bad source never reaches the commit.
    const result = await stream.done();
    if (fill > 0) await send(buffer.subarray(0, fill));
    if (committed !== result.size)
      throw new SkiffError('size-mismatch', `Uploaded ${committed} bytes of a ${result.size}-byte blob`);
    try {
      await finishUpload(client, session, result.digest, signal);
    } catch (error) {
      if (signal?.aborted) throw abortError(signal);
      // The commit may have landed with its answer lost (a retried PUT then finds no session): ask.
      if (!isFinal(error) && (await client.hasBlob(repository, result.digest, signal).catch(() => false)))
        return result;
      // A registry that appended a retried chunk twice finds the digest wrong: start over from the source.
      if (error instanceof SkiffError && (error.code === 'http' || error.code === 'not-found'))
        throw new SessionLost(error);
      throw error;
    }
    return result;
  } catch (error) {
    // The chunk on its way finishes first (or is cut after CHUNK_FINISH_MS): the session's URL is then current.
    await sending?.catch(() => {});
    await cancelUpload(client, session);
    throw error;
  } finally {
    chunkSignal?.dispose();
  }
}

/** Tries to link a blob from another repository of the same registry; false when the registry will not. */
export async function tryMount(
  client: RegistryClient,
  repository: string,
  digest: string,
  from: string,
  signal?: AbortSignal,
): Promise<boolean> {
  try {
    const started = await startUpload(client, repository, { digest, from }, signal);
    if (started.mounted) return true;
    // 202: the registry opened an ordinary upload instead; it is not used, so close it.
    await cancelUpload(client, started.session);
    return false;
  } catch (error) {
    if (signal?.aborted) throw abortError(signal);
    // Harbor answers 401 for a source project that does not exist or is not readable: upload instead.
    if (error instanceof SkiffError && error.code !== 'aborted') return false;
    throw error;
  }
}
