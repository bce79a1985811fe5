/**
 * Copy registry → registry, for a machine that reaches both: each blob streams from the source's GET into
 * the target's upload, checked against its digest on the way (committed only when it matches), nothing in
 * between on disk. Manifests are copied byte for byte, so every digest stays the same. One platform of an
 * index, or the whole index with every image it lists.
 */
import { createSha256, sha256Of, verifyDigest } from './codecs/sha256.ts';
import { checkDigest } from './digest.ts';
import { SkiffError, abortError } from './errors.ts';
import { choosePlatform, parseManifest } from './manifest.ts';
import { isForeignLayer } from './media-types.ts';
import type { Platform } from './platform.ts';
import { type ImageReference, formatReference, parseReference } from './reference.ts';
import { RegistryClient, type TransportOptions } from './registry.ts';
import { resumableBody } from './transport/resume.ts';
import { BlobStalls } from './transport/watched-body.ts';
import { type BlobStream, tryMount, uploadBlob } from './upload.ts';
import { parsePushTarget } from './push.ts';

export interface CopyOptions extends TransportOptions {
  /** Credentials for the target registry when they differ from the source's (`credentials` then serves the source). */
  targetCredentials?: TransportOptions['credentials'];
  /** One platform of an index (default linux/amd64), or `all` for the whole index. */
  platform?: Platform | 'all';
  signal?: AbortSignal;
  chunkBytes?: number;
  onProgress?: (progress: CopyProgress) => void;
}

export interface CopyProgress {
  /** Blobs done (copied, found, mounted) / to do, and bytes copied. */
  blobsDone: number;
  blobs: number;
  bytes: number;
  current?: string;
}

export interface CopyResult {
  target: string;
  /** The digest of what the target tag now names (the same as the source's). */
  digest: string;
  mediaType: string;
  copied: number;
  existing: number;
  mounted: number;
  bytes: number;
}

interface Blob {
  digest: string;
  size: number;
}

interface ManifestDoc {
  digest: string;
  bytes: Uint8Array;
  mediaType: string;
}

const MAX_MANIFEST = 4 * 1024 * 1024;

/** The blobs a manifest names, without judging their media types (attestations have their own). */
function blobsOf(bytes: Uint8Array, what: string): { config: Blob; layers: Blob[] } {
  let json: { config?: { digest?: unknown; size?: unknown }; layers?: unknown };
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new SkiffError('bad-manifest', `${what} is not valid JSON`);
  }
  const blob = (value: unknown, name: string): Blob => {
    const v = value as { digest?: unknown; size?: unknown; mediaType?: unknown; urls?: unknown };
    if (typeof v?.size !== 'number' || !Number.isSafeInteger(v.size) || v.size < 0)
      throw new SkiffError('bad-manifest', `${name} of ${what} has no valid size`);
    return { digest: checkDigest(v.digest, `${name} of ${what}`), size: v.size };
  };
  if (!Array.isArray(json.layers)) throw new SkiffError('bad-manifest', `${what} has no layers`);
  const layers = json.layers
    // Foreign layers are not the registry's to copy (docker push leaves them out too).
    .filter((l: { mediaType?: unknown }) => !(typeof l?.mediaType === 'string' && isForeignLayer(l.mediaType)))
    .map((l: unknown, i: number) => blob(l, `Layer ${i + 1}`));
  return { config: blob(json.config, 'The config'), layers };
}

export async function copyImage(source: string, target: string, options: CopyOptions = {}): Promise<CopyResult> {
  const src = parseReference(source);
  const dst = parsePushTarget(target);
  const { signal } = options;
  const from = new RegistryClient(src.registry, options);
  const to = new RegistryClient(
    dst.registry,
    options.targetCredentials !== undefined ? { ...options, credentials: options.targetCredentials } : options,
    { push: true },
  );
  const counts = { copied: 0, existing: 0, mounted: 0, bytes: 0 };
  const fetchManifest = async (reference: string, expected?: string): Promise<ManifestDoc> => {
    const got = await from.getManifest(src.repository, reference, signal);
    const digest = await sha256Of(got.bytes);
    if (expected) verifyDigest(digest, expected, `Manifest ${expected}`);
    const parsed = parseManifestLoose(got.bytes, got.contentType);
    return { digest, bytes: got.bytes, mediaType: parsed };
  };

  const top = await fetchManifest(src.digest ?? src.tag ?? 'latest', src.digest);
  // What to copy: the chosen image, or the whole index (its images first, then the index itself).
  const children: ManifestDoc[] = [];
  let head = top;
  if (isIndexType(top.mediaType)) {
    const index = parseManifest(top.bytes, top.mediaType);
    if (index.kind !== 'index') throw new SkiffError('bad-manifest', 'The index is not an index');
    if (options.platform === 'all') {
      for (const entry of index.manifests) {
        const child = await fetchManifest(entry.digest, entry.digest);
        if (isIndexType(child.mediaType))
          throw new SkiffError('unsupported', `The index ${top.digest} nests another index; copy that one by digest`);
        children.push(child);
      }
    } else {
      const entry = choosePlatform(index, options.platform);
      head = await fetchManifest(entry.digest, entry.digest);
      children.push(head);
    }
  } else {
    children.push(top);
  }

  const plan = children.map((c) => ({
    doc: c,
    blobs: (() => {
      const b = blobsOf(c.bytes, `Manifest ${c.digest}`);
      return [b.config, ...b.layers];
    })(),
  }));
  const total = new Set(plan.flatMap((p) => p.blobs.map((b) => b.digest))).size;
  const done = new Set<string>();
  const report = (current?: string) =>
    options.onProgress?.({ blobsDone: done.size, blobs: total, bytes: counts.bytes, ...(current ? { current } : {}) });

  for (const { blobs } of plan) {
    for (const blob of blobs) {
      if (done.has(blob.digest)) continue;
      if (signal?.aborted) throw abortError(signal);
      report(blob.digest);
      await copyBlob(blob);
      done.add(blob.digest);
      report();
    }
  }
  // The images of a copied index go in by digest before the index names them; a single image goes under the tag.
  if (options.platform === 'all') {
    for (const { doc } of plan) await to.putManifest(dst.repository, doc.digest, doc.bytes, doc.mediaType, signal);
  }
  const tagged = options.platform === 'all' ? top : head;
  const answered = await to.putManifest(dst.repository, dst.tag ?? 'latest', tagged.bytes, tagged.mediaType, signal);
  if (answered && answered !== tagged.digest)
    throw new SkiffError('digest-mismatch', `The target stored the manifest as ${answered}, not ${tagged.digest}`);
  return {
    target: formatReference({ ...dst, tag: dst.tag ?? 'latest' }),
    digest: tagged.digest,
    mediaType: tagged.mediaType,
    ...counts,
  };

  async function copyBlob(blob: Blob): Promise<void> {
    if (await to.hasBlob(dst.repository, blob.digest, signal)) {
      counts.existing++;
      return;
    }
    if (src.registry === dst.registry && src.repository !== dst.repository) {
      if (await tryMount(to, dst.repository, blob.digest, src.repository, signal)) {
        counts.mounted++;
        return;
      }
    }
    await uploadBlob(
      to,
      dst.repository,
      () =>
        blobStream(from, src, blob, signal, (n) => {
          counts.bytes += n;
        }),
      {
        ...(options.chunkBytes ? { chunkBytes: options.chunkBytes } : {}),
        ...(signal ? { signal } : {}),
      },
    );
    counts.copied++;
  }
}

/** A source blob as an upload stream: resumed with Range when the GET is cut, hashed, size-checked. */
function blobStream(
  from: RegistryClient,
  src: ImageReference,
  blob: Blob,
  signal: AbortSignal | undefined,
  onBytes: (n: number) => void,
): BlobStream {
  let digest: string | undefined;
  let size = 0;
  async function* produce(): AsyncGenerator<Uint8Array> {
    const hash = await createSha256();
    const body = resumableBody(
      (offset, wait) => from.openBlob(src.repository, blob.digest, offset, signal, undefined, wait),
      {
        size: blob.size,
        what: `Blob ${blob.digest}`,
        stalls: new BlobStalls(from.waits, new URL(from.baseUrl).host),
        ...(signal ? { signal } : {}),
      },
    );
    for await (const chunk of body) {
      size += chunk.byteLength;
      await hash.update(chunk);
      onBytes(chunk.byteLength);
      yield chunk;
    }
    digest = await hash.digest();
  }
  return {
    chunks: produce(),
    done: async () => {
      if (!digest) throw new SkiffError('bad-layer', `Blob ${blob.digest} was not read to its end`);
      if (size !== blob.size)
        throw new SkiffError('size-mismatch', `Blob ${blob.digest} is ${size} bytes, not ${blob.size}`);
      verifyDigest(digest, blob.digest, `Blob ${blob.digest}`);
      return { digest, size };
    },
  };
}

function isIndexType(mediaType: string): boolean {
  return mediaType.includes('manifest.list') || mediaType.includes('image.index');
}

/** The media type of a manifest or index, from the header or the document (layer types not judged). */
function parseManifestLoose(bytes: Uint8Array, contentType: string | null): string {
  if (bytes.byteLength > MAX_MANIFEST) throw new SkiffError('too-large', 'The manifest is over 4 MiB');
  const header = contentType?.split(';')[0]?.trim();
  let json: { mediaType?: unknown; manifests?: unknown; schemaVersion?: unknown };
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new SkiffError('bad-manifest', 'The manifest is not valid JSON');
  }
  if (json.schemaVersion !== 2) throw new SkiffError('unsupported', 'Only schema 2 manifests can be copied');
  if (typeof json.mediaType === 'string') return json.mediaType;
  if (header && header !== 'application/json') return header;
  return Array.isArray(json.manifests)
    ? 'application/vnd.oci.image.index.v1+json'
    : 'application/vnd.oci.image.manifest.v1+json';
}
