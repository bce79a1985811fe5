/** The transfer's one vocabulary — progress and result for pull, push and copy alike — and a pull's options. */
import type { NativeGunzip } from '../codecs/native-gunzip.ts';
import type { Sha256Factory } from '../codecs/sha256.ts';
import type { PlatformSelection } from '../image/image-list.ts';
import type { Platform } from '../image/platform.ts';
import type { ResolveOptions } from '../registry/resolve.ts';
import type { RateLimit } from '../registry/transport/rate-limit.ts';

/** `kept` (default): layers as the registry served them wherever every `docker load` reads them (gzip,
 *  tar), zstd ones inflated; digests kept. `uncompressed`: every layer inflated, as `docker save` writes.
 *  `as-pulled`: every layer as served, zstd too (Docker before 23 cannot load zstd). */
export type LayerMode = 'kept' | 'uncompressed' | 'as-pulled';

export const LAYER_MODES: readonly LayerMode[] = ['kept', 'uncompressed', 'as-pulled'];

export interface PullOptions extends ResolveOptions {
  /** How layers are stored (see LayerMode; default `kept`). */
  layers?: LayerMode;
  /** Platforms of a multi-platform image for inputs that name none: `all`, or a list (default: one,
   *  `platform` or linux/amd64). */
  platforms?: PlatformSelection;
  /** Of several platforms, the one `manifest.json` names (what `docker load` tags); default linux/amd64,
   *  else the first selected. */
  loadPlatform?: Platform;
  /** Inflate layers kept as served to check their diff_ids too (kept mode leaves that to `docker load`). */
  checkDiffIds?: boolean;
  onProgress?: (progress: TransferProgress) => void;
  /** The most one layer may inflate to (default 64 GiB): bounds a gzip bomb without refusing zeros. */
  maxLayerBytes?: number;
  /** Milliseconds between progress events while bytes flow (state changes are always reported). */
  progressIntervalMs?: number;
  /** A blob download that sends nothing for this long is cut and resumed (default 60 s). */
  idleTimeoutMs?: number;
  /** A blob download slower than this over an `idleTimeoutMs` is cut and resumed too (default 1024 B/s). */
  minBytesPerSecond?: number;
  /** Where inflated layers are hashed: a hasher on another thread lets hashing and inflating use two cores.
   *  Its `update` must be done with the bytes when it settles: the engine reuses its buffers after that. */
  sha256?: Sha256Factory;
  /** The host's own gunzip for gzip layers it inflates, where it beats pako (codecs/native-gunzip.ts):
   *  `DecompressionStream` in a browser, zlib in Node. Default: pako. */
  gunzip?: NativeGunzip;
  /** The sink receives the archive in writes of this many bytes (default 1 MiB), each a fresh buffer it
   *  may keep or transfer; smaller only at the end and when bytes were held for half a second. */
  writeChunkBytes?: number;
  /** Where those buffers come from, when not fresh: a pool the sink gives them back to once it is done
   *  with their bytes. Each must be `size` bytes that nothing else touches any more. */
  writeBuffer?: (size: number) => Uint8Array;
  /** as-pulled only: `false` skips inflating each layer to check its diff_id (and its tar structure);
   *  blob digests are still verified. Much faster for large layers, but an image whose config does not
   *  match its layers is then only found out by `docker load`. Default true. */
  verifyDiffIds?: boolean;
  /** Blob requests in flight at once (default 4; 1 = one connection, one layer after another). Several
   *  layers download at once, and a big blob is fetched as several Range segments. */
  parallel?: number;
  /** Bytes fetched ahead of the archive writer may wait in memory up to this much (default 64 MiB);
   *  beyond it, fetching pauses until the writer catches up. */
  memoryBudgetBytes?: number;
  /** Size of one Range segment of a big blob (default 8 MiB; never more than the memory budget). */
  segmentBytes?: number;
}

/** Where one blob is: at the source, being moved, checked, or needing no move at all. */
export type BlobState =
  'waiting' | 'checking' | 'downloading' | 'uploading' | 'verifying' | 'exists' | 'mounted' | 'done' | 'shared';

/** One blob's row in the progress of any transfer (pull, push, copy). */
export interface BlobProgress {
  /** Index of the image it belongs to (a push's target). */
  image: number;
  /** Its digest at the source ('' when it is only known once moved: a layer gzipped on the way). */
  digest: string;
  /** Its path in the archive it is read from (push). */
  path?: string;
  mediaType: string;
  /** Bytes of the blob at the source. */
  size: number;
  /** Bytes of it moved so far (a measuring pass counts too, so it can exceed size). */
  bytes: number;
  state: BlobState;
  /** While a stalled or cut transfer is being picked up again: why. */
  stalled?: string;
}

/** The one progress event every transfer sends. */
export interface TransferProgress {
  blobs: BlobProgress[];
  /** Source bytes moved / to move over the whole transfer (blobs the destination has count as moved). */
  bytes: number;
  totalBytes: number;
  /** Bytes written to the destination file so far (archive destinations). */
  written?: number;
  /** The registry's pull quota as it last reported it (Docker Hub sends it with manifests). */
  rateLimit?: RateLimit;
}

/** One image as it arrived at the destination. */
export interface TransferredImage {
  /** What it is called there: the pulled reference, or the registry target (`registry/repo:tag`). */
  reference: string;
  /** `name:tag` as `docker load` tags it (archive destinations; empty when untagged). */
  repoTags: string[];
  /** The image ID docker shows: the config digest. */
  configDigest: string;
  manifestDigest: string;
  mediaType: string;
  platform: string;
  /** The index the archive holds for this image's platforms, when it holds one. */
  indexDigest?: string;
  /** `docker pull registry/repo@sha256:…` (registry destinations). */
  pullCommand?: string;
}

export interface TransferStats {
  /** Blob requests made (segments, whole blobs, resumes, trailer reads). */
  requests: number;
  /** Most bytes that waited in memory for the archive writer at any one time. */
  peakBufferedBytes: number;
  /** Blobs that fell back to one stream because Range was refused or answered wrong. */
  singleStreamFallbacks: number;
}

/** The one result every transfer returns. */
export interface TransferResult {
  images: TransferredImage[];
  /** Layers moved, found already at the destination, and mounted from another repository of it. */
  copied: number;
  existing: number;
  mounted: number;
  /** Source bytes moved. */
  bytes: number;
  /** Bytes of the file written (archive destinations). */
  bytesWritten?: number;
  /** Things the user should know (an untagged image, a layer kept compressed and why). */
  notes: string[];
  /** The lowest pull quota left that a registry reported, when one did (`ratelimit-remaining`). */
  rateLimit?: RateLimit;
  /** How the blobs were fetched (registry sources). */
  transfer?: TransferStats;
}

/** A pull's result: always an archive's, with its fetch statistics. */
export type PullResult = TransferResult & { bytesWritten: number; transfer: TransferStats };
