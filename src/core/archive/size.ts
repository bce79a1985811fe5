/**
 * The exact byte size of the tar an as-pulled pull will write, known before the first byte: every blob is
 * written as served, so its size is in the manifest. The browser can then be told the size up front (a
 * service-worker download sends it as Content-Length), and a file cut short can never look finished.
 * Uncompressed mode has no such size: inflated layer sizes are only learned while pulling.
 *
 * It writes the same archive with the same ArchiveWriter, TarWriter, writeManifest and archiveEntryFor, blob
 * contents left out, so headers and index files are counted by the code that writes them; the order of
 * calls follows the pull's run (transfer/to-archive.ts), and archive-size.test.ts holds the two to the same bytes.
 */
import { ArchiveWriter } from './writer.ts';
import { archiveEntryFor, writeManifest } from './image-entry.ts';
import type { ResolvedImage } from '../registry/resolve.ts';
import { TarWriter } from './tar.ts';

const ZEROS = new Uint8Array(1 << 20);

export async function asPulledArchiveSize(images: ResolvedImage[]): Promise<number> {
  const tar = new TarWriter({ write: async () => {} });
  const archive = new ArchiveWriter(tar);
  await archive.start();
  for (const image of images) {
    await archive.addBlob(image.config.digest, image.config.bytes);
    for (const { descriptor } of image.layers) {
      if (archive.has(descriptor.digest)) continue;
      const entry = await archive.beginBlob(descriptor.digest, descriptor.size);
      for (let left = descriptor.size; left > 0; left -= ZEROS.byteLength)
        await entry.write(left >= ZEROS.byteLength ? ZEROS : ZEROS.subarray(0, left));
      await entry.end();
    }
    // as-pulled keeps every layer as served, so the registry's own manifest goes in.
    const layers = image.layers.map(({ descriptor }) => ({ descriptor, asServed: true }));
    archive.addImage(archiveEntryFor(image, await writeManifest(archive, image, layers)).entry);
  }
  await archive.finish();
  return tar.bytesWritten;
}
