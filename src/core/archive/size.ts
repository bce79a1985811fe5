/**
 * The byte size of the tar a pull will write, before the first byte. As-pulled, every blob is written as
 * served, so its size is in the manifest and the size is exact: the browser is told it up front (a
 * service-worker download sends it as Content-Length), and a file cut short can never look finished.
 * Uncompressed, a layer's inflated size is known only when the manifest annotates it or the caller has
 * read it (the gzip trailer, zstd frame headers): with every size known it is exact too, else an estimate
 * that counts the unknown layers as served.
 *
 * It writes the same archive with the same ArchiveWriter, TarWriter, writeManifest and archiveEntryFor, blob
 * contents left out, so headers and index files are counted by the code that writes them; the order of
 * calls follows the pull's run (transfer/to-archive.ts), and archive-size.test.ts holds the two to the same bytes.
 */
import { ArchiveWriter } from './writer.ts';
import { MediaType } from '../image/media-types.ts';
import { type ArchivedLayer, archiveEntryFor, writeManifest } from './image-entry.ts';
import { type PlannedLayer, planPull } from '../transfer/plan.ts';
import type { LayerMode } from '../transfer/types.ts';
import type { ResolvedImage } from '../registry/resolve.ts';
import { TarWriter } from './tar.ts';

const ZEROS = new Uint8Array(1 << 20);

export interface ArchiveSize {
  bytes: number;
  /** False when some layer's inflated size was not known and it was counted as served. */
  exact: boolean;
}

export async function asPulledArchiveSize(images: ResolvedImage[]): Promise<number> {
  return (await archiveSize(images, 'as-pulled')).bytes;
}

/** `inflatedSizes`: layers' inflated sizes by blob digest, where the caller has learned them. */
export async function archiveSize(
  images: ResolvedImage[],
  mode: LayerMode,
  inflatedSizes: Record<string, number> = {},
): Promise<ArchiveSize> {
  const tar = new TarWriter({ write: async () => {} });
  const archive = new ArchiveWriter(tar);
  const plan = planPull(images, mode);
  const archived: ArchivedLayer[] = [];
  let exact = true;
  await archive.start();
  let index = 0;
  for (const image of images) {
    await archive.addBlob(image.config.digest, image.config.bytes);
    const layers: ArchivedLayer[] = [];
    for (let n = 0; n < image.layers.length; n++, index++) {
      const layer = plan[index]!;
      if (layer.sharedWith !== undefined) {
        layers.push(archived[layer.sharedWith]!);
        continue;
      }
      const size = inflatedSize(layer, inflatedSizes);
      if (size === undefined && layer.action.kind !== 'as-served' && layer.action.kind !== 'keep-compressed')
        exact = false;
      const stored: ArchivedLayer =
        size === undefined
          ? { descriptor: layer.descriptor, asServed: true }
          : { descriptor: { mediaType: MediaType.ociLayer, digest: layer.diffId, size }, asServed: false };
      await writeZeros(archive, stored.descriptor.digest, stored.descriptor.size);
      archived[index] = stored;
      layers.push(stored);
    }
    archive.addImage(archiveEntryFor(image, await writeManifest(archive, image, layers)).entry);
  }
  await archive.finish();
  return { bytes: tar.bytesWritten, exact };
}

/** The size a layer is written at when inflated; undefined when it goes in as served (or is not known). */
function inflatedSize(layer: PlannedLayer, known: Record<string, number>): number | undefined {
  const { action, descriptor } = layer;
  if (action.kind === 'inflate') return action.size ?? known[descriptor.digest];
  if (action.kind === 'measure-then-inflate') return known[descriptor.digest];
  return undefined;
}

async function writeZeros(archive: ArchiveWriter, digest: string, size: number): Promise<void> {
  const entry = await archive.beginBlob(digest, size);
  for (let left = size; left > 0; left -= ZEROS.byteLength)
    await entry.write(left >= ZEROS.byteLength ? ZEROS : ZEROS.subarray(0, left));
  await entry.end();
}
