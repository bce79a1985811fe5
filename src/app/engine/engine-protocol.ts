/**
 * What the page and the engine worker (engine.worker.ts) say to each other. The page resolves images and
 * owns the file; the worker pulls (fetch, verify, inflate, tar or zip) and hands the archive back in large
 * transferred chunks, at most MAX_IN_FLIGHT (engine.worker.ts) unacknowledged, each acknowledged once the file
 * has taken it.
 */
import { type QuotaReport, SkiffError, type SkiffErrorCode, type WaitFailure } from '../../core/errors.ts';
import type { PullProgress, PullResult } from '../../core/pull.ts';
import { RegistryClient, type TransportOptions } from '../../core/registry.ts';
import type { ResolvedImage } from '../../core/resolve.ts';
import type { Credentials } from '../../core/transport/auth.ts';
import type { WaitPolicy } from '../../core/transport/waits.ts';
import type { DownloadJob } from './archive-job.ts';
import type { KitResult } from './zipkit.ts';

/** A resolved image without its registry client (the worker makes its own): plain data, cloneable. */
export type PortableImage = Omit<ResolvedImage, 'client'>;

export interface PortableTransport {
  relay?: string;
  dockerHubMirror?: string;
  plainHttp: string[];
  /** Credentials by registry name, for the registries of the images pulled. */
  credentials: Record<string, Credentials>;
  waits?: Partial<WaitPolicy>;
}

/** A download job as it crosses to the worker: plain data, with what the worker needs to reach the registries. */
export type PortableJob = DownloadJob<PortableImage> & { transport: PortableTransport };

/** `hashPort` reaches the page's hashing thread (see hashing.ts); without it the worker hashes on its own. */
export type PageMessage = { type: 'start'; job: PortableJob; hashPort?: MessagePort } | { type: 'ack' };

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
  | { type: 'progress'; item: number; progress: PullProgress }
  | { type: 'done'; result: PullResult | KitResult }
  | { type: 'error'; error: PortableError };

/** The job without registry clients or functions; credentials only for the registries of its images. */
export function portableJob(job: DownloadJob, transport: TransportOptions): PortableJob {
  const credentials: Record<string, Credentials> = {};
  for (const image of job.images) {
    const lookup = transport.credentials;
    const found = typeof lookup === 'function' ? lookup(image.reference.registry) : lookup;
    if (found) credentials[image.reference.registry] = { username: found.username, password: found.password };
  }
  const portable: PortableTransport = {
    plainHttp: [...(transport.plainHttp ?? [])],
    credentials,
    ...(transport.relay ? { relay: transport.relay } : {}),
    ...(transport.dockerHubMirror ? { dockerHubMirror: transport.dockerHubMirror } : {}),
    ...(transport.waits ? { waits: { ...transport.waits } } : {}),
  };
  const images = job.images.map(({ client: _client, ...rest }) => rest);
  return job.kind === 'zip'
    ? { ...job, images, tarNames: [...job.tarNames], transport: portable }
    : { ...job, images, transport: portable };
}

/** The worker's side: the job again, each image with a registry client of the worker's own. */
export function revivedJob(portable: PortableJob): DownloadJob {
  const { transport: t, ...job } = portable;
  const transport: TransportOptions = {
    plainHttp: t.plainHttp,
    credentials: (registry) => t.credentials[registry],
    ...(t.relay ? { relay: t.relay } : {}),
    ...(t.dockerHubMirror ? { dockerHubMirror: t.dockerHubMirror } : {}),
    ...(t.waits ? { waits: t.waits } : {}),
  };
  const images = job.images.map((image) => ({
    ...image,
    client: new RegistryClient(image.reference.registry, transport),
  }));
  return { ...job, images };
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
