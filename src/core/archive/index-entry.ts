/**
 * The index an archive holds for a multi-platform image: the registry's own bytes when every platform was
 * taken and every manifest is written as served (same digest, so a push gives the registry the same index),
 * else an index of just what the archive holds, naming the manifests as written (a new digest).
 */
import type { ArchiveDestination } from './writer.ts';
import { sha256Of } from '../codecs/sha256.ts';
import { formatPlatform } from '../image/platform.ts';
import { formatReference } from '../image/reference.ts';
import { MediaType } from '../image/media-types.ts';
import { type WrittenManifest, archiveEntryFor } from './image-entry.ts';
import type { TransferredImage } from '../transfer/types.ts';
import { type ResolvedSet, loadImageOf } from '../registry/resolve-set.ts';
import type { Platform } from '../image/platform.ts';

/** Names a set in the archive once its blobs are written: manifest.json gets the image `docker load` loads,
 *  index.json the index when the set has one (the other platforms are in it), else that image's manifest. */
export async function addSet(
  archive: Pick<ArchiveDestination, 'addBlob' | 'addImage'>,
  set: ResolvedSet,
  written: Map<string, WrittenManifest>,
  notes: string[],
  loadPlatform?: Platform,
): Promise<TransferredImage[]> {
  const loaded = loadImageOf(set, loadPlatform);
  const { entry, note } = archiveEntryFor(loaded, written.get(loaded.manifest.digest)!);
  if (note) notes.push(note);
  let indexDigest: string | undefined;
  if (set.index) {
    const index = await writeIndex(archive, { ...set, index: set.index }, written);
    if (index.note) notes.push(index.note);
    entry.manifest = { mediaType: index.mediaType, digest: index.digest, size: index.size };
    indexDigest = index.digest;
    if (set.images.length > 1)
      notes.push(
        `${formatReference(set.reference)}: docker load loads ${formatPlatform(loaded.platform)}; the other platforms are in the archive's OCI index.`,
      );
  }
  archive.addImage(entry);
  return set.images.map((image) => {
    const manifest = written.get(image.manifest.digest)!;
    return {
      reference: formatReference(image.reference),
      repoTags: image === loaded ? entry.repoTags : [],
      configDigest: image.config.digest,
      manifestDigest: manifest.digest,
      mediaType: manifest.mediaType,
      platform: formatPlatform(image.platform),
      ...(indexDigest ? { indexDigest } : {}),
    };
  });
}

export interface WrittenIndex {
  mediaType: string;
  digest: string;
  size: number;
  /** Why it is not the registry's index, when it is not. */
  note?: string;
}

/** `written`: each selected image's manifest as the archive holds it, by the registry's manifest digest. */
export async function writeIndex(
  archive: Pick<ArchiveDestination, 'addBlob'>,
  set: ResolvedSet & { index: NonNullable<ResolvedSet['index']> },
  written: Map<string, WrittenManifest>,
): Promise<WrittenIndex> {
  const { index } = set;
  const rewritten = [...written].filter(([digest, manifest]) => digest !== manifest.digest);
  if (set.selection === 'all' && rewritten.length === 0) {
    await archive.addBlob(index.digest, index.bytes);
    return { mediaType: index.mediaType, digest: index.digest, size: index.bytes.byteLength };
  }
  const kept = new Set([...written.keys(), ...set.artifacts.map((a) => a.descriptor.digest)]);
  const json = JSON.parse(new TextDecoder().decode(index.bytes)) as { mediaType?: string; manifests: Entry[] };
  json.manifests = json.manifests
    .filter((entry) => kept.has(entry.digest))
    .map((entry) => {
      const manifest = written.get(entry.digest);
      if (!manifest || manifest.digest === entry.digest) return entry;
      return { ...entry, mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.size };
    });
  // A Docker manifest list may only name Docker manifests; ours written anew are OCI.
  const mediaType = rewritten.length ? MediaType.ociIndex : index.mediaType;
  if (json.mediaType !== undefined || mediaType !== index.mediaType) json.mediaType = mediaType;
  const bytes = new TextEncoder().encode(JSON.stringify(json));
  const digest = await sha256Of(bytes);
  await archive.addBlob(digest, bytes);
  const name = formatReference(set.reference);
  const platforms = set.images.map((image) => formatPlatform(image.platform)).join(', ');
  const why = rewritten.length
    ? `its manifests name layers stored differently from the registry's`
    : `it holds only ${platforms}`;
  return {
    mediaType,
    digest,
    size: bytes.byteLength,
    note: `${name}: the archive's index is ${digest}, not the registry's ${index.digest}: ${why}. Pushed back, it gets the new digest.`,
  };
}

interface Entry {
  mediaType: string;
  digest: string;
  size: number;
}
