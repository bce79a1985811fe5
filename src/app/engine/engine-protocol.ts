/**
 * What the page and the engine worker (engine.worker.ts) say to each other, for a download and for a push
 * alike: start a job, hear its progress, its result or its error, cancel it. A download: the page resolves
 * images and owns the file; the worker pulls (fetch, verify, inflate, tar or zip) and hands the archive
 * back in large transferred chunks, at most MAX_IN_FLIGHT (engine.worker.ts) unacknowledged, each
 * acknowledged once the file has taken it — with the chunk's buffer transferred back when the file copied
 * the bytes (File System Access, a Blob), for the worker to fill again: a GB pulled then leaves no GB of
 * buffers for either thread's collector. A push: the page posts the File (a handle, not its bytes); the
 * worker reads it in slices and pushes it.
 */
import { type QuotaReport, SkiffError, type SkiffErrorCode, type WaitFailure } from '../../core/errors.ts';
import type { KitResult, TransferProgress, TransferResult } from '../../core/pull.ts';
import { parsePushTarget } from '../../core/push.ts';
import type { TransportOptions } from '../../core/registry/client.ts';
import type { Credentials } from '../../core/registry/transport/auth.ts';
import type { WaitPolicy } from '../../core/registry/transport/waits.ts';
import type { DownloadJob } from './archive-job.ts';
import type { PushJob } from './push-job.ts';

export interface PortableTransport {
  relay?: string;
  dockerHubMirror?: string;
  plainHttp: string[];
  /** Credentials by registry name, for the registries of the images pulled or pushed to. */
  credentials: Record<string, Credentials>;
  waits?: Partial<WaitPolicy>;
}

/** What the engine worker runs: a download (tar or kit) or a push. */
export type EngineJob = DownloadJob | PushJob;

/** A job as it crosses to the worker: plain data, with what the worker needs to reach the registries. */
export type PortableJob = (DownloadJob | PushJob) & { transport: PortableTransport };

/** A download's progress per image of a kit (`item`; 0 for a tar), a push's for the whole push (`item` 0). */
export type JobProgress = TransferProgress;

/**
 * `hashPort` reaches the page's hashing thread (see hashing.ts); without it the worker hashes on its own.
 * `cancel`: stop, and let the registries know (an unfinished upload is cancelled), before the page ends the worker.
 */
export type PageMessage =
  | { type: 'start'; job: PortableJob; hashPort?: MessagePort }
  | { type: 'ack'; chunk?: Uint8Array<ArrayBuffer> }
  | { type: 'cancel'; reason: PortableError };

export interface PortableError {
  name: string;
  message: string;
  code?: SkiffErrorCode;
  platforms?: string[];
  quota?: QuotaReport;
  wait?: WaitFailure;
}

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'data'; chunk: Uint8Array<ArrayBuffer> }
  | { type: 'progress'; item: number; progress: JobProgress }
  | { type: 'done'; result: TransferResult | KitResult }
  | { type: 'error'; error: PortableError };

/** The registries a job talks to: its images' (a download), or its targets' (a push). */
function registriesOf(job: EngineJob): string[] {
  if (job.kind === 'push') {
    const targets = job.targets.filter((t): t is string => !!t?.trim());
    if (job.prefix) targets.push(`${job.prefix.replace(/\/+$/, '')}/x:1`);
    return targets.map((t) => parsePushTarget(t.trim()).registry);
  }
  return job.images.map((image) => image.reference.registry);
}

/** The job as plain data (resolved images are): credentials only for the registries it talks to. */
export function portableJob(job: EngineJob, transport: TransportOptions): PortableJob {
  const credentials: Record<string, Credentials> = {};
  for (const registry of registriesOf(job)) {
    const lookup = transport.credentials;
    const found = typeof lookup === 'function' ? lookup(registry) : lookup;
    if (found) credentials[registry] = { username: found.username, password: found.password };
  }
  const portable: PortableTransport = {
    plainHttp: [...(transport.plainHttp ?? [])],
    credentials,
    ...(transport.relay ? { relay: transport.relay } : {}),
    ...(transport.dockerHubMirror ? { dockerHubMirror: transport.dockerHubMirror } : {}),
    ...(transport.waits ? { waits: { ...transport.waits } } : {}),
  };
  if (job.kind === 'push') return { ...job, targets: [...job.targets], transport: portable };
  return job.kind === 'zip'
    ? { ...job, tarNames: [...job.tarNames], transport: portable }
    : { ...job, transport: portable };
}

/** The worker's side: the job, and the transport options its registry clients are made from. */
export function revivedJob(portable: PortableJob): { job: EngineJob; transport: TransportOptions } {
  const { transport: t, ...job } = portable;
  const transport: TransportOptions = {
    plainHttp: t.plainHttp,
    credentials: (registry) => t.credentials[registry],
    ...(t.relay ? { relay: t.relay } : {}),
    ...(t.dockerHubMirror ? { dockerHubMirror: t.dockerHubMirror } : {}),
    ...(t.waits ? { waits: t.waits } : {}),
  };
  return { job, transport };
}

export function portableError(error: unknown): PortableError {
  if (error instanceof SkiffError) {
    return {
      name: error.name,
      message: error.message,
      code: error.code,
      ...(error.platforms ? { platforms: error.platforms } : {}),
      ...(error.quota ? { quota: error.quota } : {}),
      ...(error.wait ? { wait: { ...error.wait } } : {}),
    };
  }
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: 'Error', message: String(error) };
}

export function revivedError(error: PortableError): Error {
  if (error.code)
    return new SkiffError(error.code, error.message, {
      ...(error.platforms ? { platforms: error.platforms } : {}),
      ...(error.quota ? { quota: error.quota } : {}),
      ...(error.wait ? { wait: error.wait } : {}),
    });
  if (error.name === 'AbortError') return new DOMException(error.message, 'AbortError');
  const revived = new Error(error.message);
  revived.name = error.name;
  return revived;
}
