/**
 * What the page and the engine worker (engine.worker.ts) say to each other. The page resolves images and
 * owns the file; the worker pulls (fetch, verify, inflate, tar or zip) and hands the archive back in large
 * transferred chunks, at most MAX_IN_FLIGHT (engine.worker.ts) unacknowledged, each acknowledged once the file
 * has taken it.
 */
import { SkiffError, type SkiffErrorCode } from '../../core/errors.ts';
import type { PullProgress, PullResult, LayerMode } from '../../core/pull.ts';
import type { ResolvedImage } from '../../core/resolve.ts';
import type { Credentials } from '../../core/transport/auth.ts';
import type { KitResult } from './zipkit.ts';

/** A resolved image without its registry client (the worker makes its own): plain data, cloneable. */
export type PortableImage = Omit<ResolvedImage, 'client'>;

export interface PortableTransport {
  relay?: string;
  dockerHubMirror?: string;
  plainHttp: string[];
  /** Credentials by registry name, for the registries of the images pulled. */
  credentials: Record<string, Credentials>;
}

export type EngineJob =
  | {
      kind: 'tar';
      images: PortableImage[];
      layers: LayerMode;
      transport: PortableTransport;
      idleTimeoutMs?: number;
      parallel?: number;
    }
  | {
      kind: 'zip';
      images: PortableImage[];
      tarNames: string[];
      layers: LayerMode;
      transport: PortableTransport;
      idleTimeoutMs?: number;
      parallel?: number;
    };

/** `hashPort` reaches the page's hashing thread (see hashing.ts); without it the worker hashes on its own. */
export type PageMessage = { type: 'start'; job: EngineJob; hashPort?: MessagePort } | { type: 'ack' };

export interface PortableError {
  name: string;
  message: string;
  code?: SkiffErrorCode;
  platforms?: string[];
}

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'data'; chunk: Uint8Array<ArrayBuffer> }
  | { type: 'progress'; item: number; progress: PullProgress }
  | { type: 'done'; result: PullResult | KitResult }
  | { type: 'error'; error: PortableError };

export function portableImage(image: ResolvedImage): PortableImage {
  const { client: _client, ...rest } = image;
  return rest;
}

export function portableError(error: unknown): PortableError {
  if (error instanceof SkiffError) {
    return {
      name: error.name,
      message: error.message,
      code: error.code,
      ...(error.platforms ? { platforms: error.platforms } : {}),
    };
  }
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: 'Error', message: String(error) };
}

export function revivedError(error: PortableError): Error {
  if (error.code)
    return new SkiffError(error.code, error.message, error.platforms ? { platforms: error.platforms } : undefined);
  if (error.name === 'AbortError') return new DOMException(error.message, 'AbortError');
  const revived = new Error(error.message);
  revived.name = error.name;
  return revived;
}
