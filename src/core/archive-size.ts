/**
 * The exact byte size of the tar an as-pulled pull will write, known before the first byte: every blob is
 * written as served, so its size is in the manifest. The browser can then be told the size up front (a
 * service-worker download sends it as Content-Length), and a file cut short can never look finished.
 * Uncompressed mode has no such size: inflated layer sizes are only learned while pulling.
 *
 * It writes the same archive with the same ArchiveWriter and TarWriter, blob contents left out, so headers
 * and index files are counted by the code that writes them; the order of calls follows PullRun.run, and
 * archive-size.test.ts holds the two to the same bytes.
 */
import { ArchiveWriter } from './archive.ts';
import { familiarName } from './reference.ts';
import type { ResolvedImage } from './resolve.ts';
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
    await archive.addBlob(image.manifest.digest, image.manifest.bytes);
    const { reference } = image;
    const tagged = reference.tag !== undefined;
    archive.addImage({
      repoTags: tagged ? [`${familiarName(reference)}:${reference.tag}`] : [],
      ...(tagged
        ? { fullName: `${reference.registry}/${reference.repository}:${reference.tag}`, tag: reference.tag }
        : {}),
      configDigest: image.config.digest,
      layerDigests: image.layers.map((l) => l.descriptor.digest),
      manifest: {
        mediaType: image.manifest.mediaType,
        digest: image.manifest.digest,
        size: image.manifest.bytes.byteLength,
      },
    });
  }
  await archive.finish();
  return tar.bytesWritten;
}
