/**
 * The archive layout `docker save` writes since Docker 25: an OCI image layout (`oci-layout`, `index.json`,
 * `blobs/sha256/…`) and, pointing into the same blobs, Docker's `manifest.json` plus `repositories` for older
 * loaders. Docker (graphdriver and containerd stores), podman and skopeo all read it. Knows nothing of HTTP.
 */
import { digestHex } from '../image/digest.ts';
import { MediaType } from '../image/media-types.ts';
import { ChunkWriter } from './chunks.ts';
import { type EntryWriter, TarWriter } from './tar.ts';

/**
 * Where a pull writes its images: blobs by digest, then the indexes that name the images. The docker-archive
 * tar stream (`dockerArchive`, below) is one; an OCI layout in a folder would be another, in a file of its
 * own, handed to `pull()` in place of the stream.
 */
export interface ArchiveDestination {
  start(): Promise<void>;
  /** True when a blob is already written: layers shared by images are stored once. */
  has(digest: string): boolean;
  addBlob(digest: string, bytes: Uint8Array): Promise<void>;
  /** Starts a streamed blob of a known size; the caller writes exactly `size` bytes and ends it. */
  beginBlob(digest: string, size: number): Promise<EntryWriter>;
  addImage(image: ArchiveImage): void;
  /** Writes the indexes that name the images and closes the destination: only now is it complete. */
  finish(): Promise<void>;
  /** Gives up: nothing written may look finished. */
  abort(reason: unknown): Promise<void>;
  /** Bytes written so far. */
  readonly bytesWritten: number;
}

export interface ArchiveImage {
  /** `name:tag` as docker shows it (`nginx:1.27`, `ghcr.io/x/y:v1`); empty for an image pulled by digest only. */
  repoTags: string[];
  /** Full name for the containerd store (`docker.io/library/nginx:1.27`), when there is a tag. */
  fullName?: string;
  tag?: string;
  configDigest: string;
  /** Digests of the layer blobs in the archive, bottom first. */
  layerDigests: string[];
  /** The manifest blob (already written) that index.json points to. */
  manifest: { mediaType: string; digest: string; size: number };
}

export function blobPath(digest: string): string {
  return `blobs/sha256/${digestHex(digest)}`;
}

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

/** The layout itself, over any tar writer (size.ts counts it without writing). */
export class ArchiveWriter {
  private readonly written = new Set<string>();
  private readonly images: ArchiveImage[] = [];

  constructor(private readonly tar: TarWriter) {}

  async start(): Promise<void> {
    await this.tar.addFile('oci-layout', json({ imageLayoutVersion: '1.0.0' }));
    await this.tar.addDirectory('blobs');
    await this.tar.addDirectory('blobs/sha256');
  }

  /** True when a blob is already in the archive: layers shared by images are stored once. */
  has(digest: string): boolean {
    return this.written.has(digest);
  }

  async addBlob(digest: string, bytes: Uint8Array): Promise<void> {
    if (this.has(digest)) return;
    this.written.add(digest);
    await this.tar.addFile(blobPath(digest), bytes);
  }

  /** Starts a streamed blob of a known size; the caller writes exactly `size` bytes and ends it. */
  async beginBlob(digest: string, size: number): Promise<EntryWriter> {
    this.written.add(digest);
    return this.tar.beginEntry({ name: blobPath(digest), size });
  }

  addImage(image: ArchiveImage): void {
    this.images.push(image);
  }

  /** Writes the indexes that name the images, then ends the tar. */
  async finish(): Promise<void> {
    const manifestJson = this.images.map((image) => ({
      Config: blobPath(image.configDigest),
      RepoTags: image.repoTags,
      Layers: image.layerDigests.map(blobPath),
    }));
    const index = {
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: this.images.map((image) => ({
        mediaType: image.manifest.mediaType,
        digest: image.manifest.digest,
        size: image.manifest.size,
        ...(image.fullName && image.tag
          ? {
              annotations: {
                'io.containerd.image.name': image.fullName,
                'org.opencontainers.image.ref.name': image.tag,
              },
            }
          : {}),
      })),
    };
    // Old loaders read `repositories`: name → tag → the top layer's ID.
    const repositories: Record<string, Record<string, string>> = {};
    for (const image of this.images) {
      const top = image.layerDigests.at(-1);
      for (const repoTag of image.repoTags) {
        const at = repoTag.lastIndexOf(':');
        (repositories[repoTag.slice(0, at)] ??= {})[repoTag.slice(at + 1)] = top
          ? digestHex(top)
          : digestHex(image.configDigest);
      }
    }
    await this.tar.addFile('index.json', json(index));
    await this.tar.addFile('manifest.json', json(manifestJson));
    if (Object.keys(repositories).length) await this.tar.addFile('repositories', json(repositories));
    await this.tar.finish();
  }
}

export interface DockerArchiveOptions {
  /** The stream receives writes of this many bytes, each a fresh buffer it may keep or transfer. */
  writeChunkBytes: number;
  /** Bytes held longer than this go out with the next write, so the first bytes reach the file at once. */
  holdMs: number;
  /** Where the pieces come from, when not fresh buffers: see PullOptions.writeBuffer. */
  writeBuffer?: (size: number) => Uint8Array;
}

/** The docker-archive tar (with its OCI layout) written into a stream, in fresh pieces of `writeChunkBytes`. */
export function dockerArchive(sink: WritableStream<Uint8Array>, options: DockerArchiveOptions): ArchiveDestination {
  const writer = sink.getWriter();
  const chunks = new ChunkWriter(
    (chunk) => writer.write(chunk),
    options.writeChunkBytes,
    options.holdMs,
    options.writeBuffer,
  );
  const tar = new TarWriter({ write: (chunk) => chunks.write(chunk) });
  const archive = new ArchiveWriter(tar);
  return {
    start: () => archive.start(),
    has: (digest) => archive.has(digest),
    addBlob: (digest, bytes) => archive.addBlob(digest, bytes),
    beginBlob: (digest, size) => archive.beginBlob(digest, size),
    addImage: (image) => archive.addImage(image),
    finish: async () => {
      await archive.finish();
      await chunks.flush();
      await writer.close();
    },
    abort: (reason) => writer.abort(reason).catch(() => {}),
    get bytesWritten() {
      return tar.bytesWritten;
    },
  };
}
