/** The .zip offline kit read back (archive/zip-kit.ts writes it): each tar inside as a slice of the file. */
import { SkiffError } from '../errors.ts';
import { type RandomAccessBlob, readBytes, subBlob } from './random-access.ts';

/** The tars inside a .zip offline kit, each as a slice of the zip (Skiff stores them uncompressed). */
export async function zipMembers(file: RandomAccessBlob): Promise<{ name: string; blob: RandomAccessBlob }[]> {
  const { ZipReader, Reader, configure } = await import('@zip.js/zip.js');
  configure({ useWebWorkers: false });
  class SourceReader extends Reader<RandomAccessBlob> {
    constructor(private readonly source: RandomAccessBlob) {
      super(source);
      this.size = source.size;
    }
    override readUint8Array(index: number, length: number): Promise<Uint8Array> {
      return readBytes(this.source, index, index + length);
    }
  }
  const zip = new ZipReader(new SourceReader(file));
  const entries = await zip.getEntries();
  const out: { name: string; blob: RandomAccessBlob }[] = [];
  for (const entry of entries) {
    if (entry.directory || !/\.tar$/i.test(entry.filename)) continue;
    if (entry.compressionMethod !== 0 || entry.encrypted) {
      throw new SkiffError(
        'unsupported',
        `${entry.filename} in the .zip is compressed or encrypted; Skiff reads the kits it writes (stored tars). Unzip it and choose the tar.`,
      );
    }
    // The data follows the local header, whose name and extra field lengths may differ from the central one's.
    const local = await readBytes(file, entry.offset, entry.offset + 30);
    const view = new DataView(local.buffer, local.byteOffset, local.byteLength);
    if (local.byteLength < 30 || view.getUint32(0, true) !== 0x04034b50)
      throw new SkiffError('bad-manifest', `The .zip's local header for ${entry.filename} is damaged`);
    const dataStart = entry.offset + 30 + view.getUint16(26, true) + view.getUint16(28, true);
    out.push({ name: entry.filename, blob: subBlob(file, dataStart, entry.uncompressedSize) });
  }
  await zip.close();
  return out;
}
