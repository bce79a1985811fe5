/**
 * The image indexes an archive's OCI part holds (`skopeo copy --all … oci-archive:`, Docker ≥ 25 `docker save`
 * of a multi-platform image, Skiff's pull of every platform): the index bytes as they are, the images it names,
 * and the other manifests it names (attestations), each with its blobs — so a push can put the index back
 * byte for byte, same digest. What the index names but the archive lacks is listed, not guessed.
 */
import { sha256Of, verifyDigest } from '../codecs/sha256.ts';
import { SkiffError } from '../errors.ts';
import { checkDigest } from '../image/digest.ts';
import {
  type Descriptor,
  type ImageManifest,
  MAX_MANIFEST_BYTES,
  parseManifest,
  runnableEntries,
} from '../image/manifest.ts';
import type { RandomAccessBlob } from './random-access.ts';
import type { TarIndex } from './tar-read.ts';

/** One blob of a manifest kept as it is (an attestation's config and statements). */
export interface ArchiveBlob {
  path: string;
  digest: string;
  size: number;
  mediaType: string;
  blob: RandomAccessBlob;
  offset: number;
}

/** A manifest an index names that is not a runnable image (an attestation), with its blobs, config first. */
export interface ArchiveRawManifest {
  bytes: Uint8Array;
  digest: string;
  mediaType: string;
  blobs: ArchiveBlob[];
}

export interface ArchiveIndex {
  /** Which tar of a .zip kit it came from; empty for a plain tar. */
  source: string;
  /** The name index.json gives it (`docker.io/library/x:1`), when it gives one. */
  repoTags: string[];
  bytes: Uint8Array;
  digest: string;
  mediaType: string;
  /** The runnable images it names, as numbers into the archive's images. */
  images: number[];
  /** The other manifests it names (attestations), pushed byte for byte with their blobs. */
  others: ArchiveRawManifest[];
  /** Digests of manifests or blobs it names that the archive does not hold: it cannot go up as it is. */
  missing: string[];
}

/** An image manifest of the OCI part, and the name index.json gives it. */
export interface OciManifest {
  bytes: Uint8Array;
  digest: string;
  mediaType: string;
  value: ImageManifest;
  refName?: string;
}

type Json = Record<string, unknown>;

export const blobPath = (digest: string) => `blobs/sha256/${digest.slice(7)}`;

/** Reads a non-runnable manifest and finds its blobs; what is absent goes to `missing`. */
export async function readRawManifest(
  tar: TarIndex,
  descriptor: Descriptor,
  missing: string[],
): Promise<ArchiveRawManifest | undefined> {
  const entry = tar.find(blobPath(descriptor.digest));
  if (!entry) {
    missing.push(descriptor.digest);
    return undefined;
  }
  const what = `Manifest ${descriptor.digest}`;
  const bytes = await tar.read(entry, MAX_MANIFEST_BYTES, what);
  verifyDigest(await sha256Of(bytes), descriptor.digest, what);
  const parsed = parseManifest(bytes, descriptor.mediaType, { anyLayerTypes: true });
  if (parsed.kind !== 'image') {
    missing.push(descriptor.digest);
    return undefined;
  }
  const blobs: ArchiveBlob[] = [];
  for (const d of [parsed.config, ...parsed.layers]) {
    const file = tar.find(blobPath(d.digest));
    if (!file) missing.push(d.digest);
    else
      blobs.push({
        path: blobPath(d.digest),
        digest: d.digest,
        size: d.size,
        mediaType: d.mediaType,
        blob: tar.open(file),
        offset: file.offset,
      });
  }
  return { bytes, digest: descriptor.digest, mediaType: parsed.mediaType, blobs };
}

/** Every image manifest index.json leads to (through nested indexes), each checked against its digest, and
 *  the indexes it names at its top level. */
export async function readOciManifests(
  tar: TarIndex,
  source: string,
  indexJson: unknown,
): Promise<{ manifests: OciManifest[]; indexes: ArchiveIndex[] }> {
  const index = (indexJson ?? {}) as Json;
  const indexes: ArchiveIndex[] = [];
  if (!Array.isArray(index.manifests)) throw new SkiffError('bad-manifest', 'index.json has no manifests array');
  const out: OciManifest[] = [];
  const visit = async (descriptor: unknown, refName: string | undefined, depth: number) => {
    const d = descriptor as Json;
    const digest = checkDigest(d.digest, 'An index.json entry');
    const annotations = (typeof d.annotations === 'object' && d.annotations ? d.annotations : {}) as Json;
    const name =
      typeof annotations['io.containerd.image.name'] === 'string'
        ? (annotations['io.containerd.image.name'] as string)
        : typeof annotations['org.opencontainers.image.ref.name'] === 'string'
          ? (annotations['org.opencontainers.image.ref.name'] as string)
          : refName;
    const path = blobPath(digest);
    const entry = tar.find(path);
    if (!entry) return; // layouts may name manifests they do not hold (other platforms): skip those
    const bytes = await tar.read(entry, MAX_MANIFEST_BYTES, `Manifest ${digest}`);
    verifyDigest(await sha256Of(bytes), digest, `Manifest ${digest}`);
    const parsed = parseManifest(bytes, typeof d.mediaType === 'string' ? d.mediaType : undefined);
    if (parsed.kind === 'index') {
      if (depth >= 2) throw new SkiffError('bad-manifest', 'Indexes nest too deep in index.json');
      const runnable = new Set<Descriptor>(runnableEntries(parsed));
      if (depth > 0) {
        for (const child of runnable) await visit(child, name, depth + 1);
        return;
      }
      const kept: ArchiveIndex = {
        source,
        repoTags: name ? tagFromRefName(name) : [],
        bytes,
        digest,
        mediaType: parsed.mediaType,
        images: [],
        others: [],
        missing: [],
      };
      for (const child of parsed.manifests) {
        if (!runnable.has(child)) {
          const other = await readRawManifest(tar, child, kept.missing);
          if (other) kept.others.push(other);
        } else if (!tar.has(blobPath(child.digest))) kept.missing.push(child.digest);
        else {
          const before = out.length;
          await visit(child, name, depth + 1);
          for (let i = before; i < out.length; i++) kept.images.push(i);
        }
      }
      indexes.push(kept);
      return;
    }
    out.push({ bytes, digest, mediaType: parsed.mediaType, value: parsed, ...(name ? { refName: name } : {}) });
  };
  for (const descriptor of index.manifests) await visit(descriptor, undefined, 0);
  return { manifests: out, indexes };
}

/** An OCI ref name is a full name (`docker.io/library/x:1`, podman's `localhost/x:1`) or a bare tag (`1`): only the first names an image. */
export function tagFromRefName(name: string): string[] {
  return name.includes(':') ? [name] : [];
}
