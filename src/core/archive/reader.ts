/**
 * Finds the images in an archive people carry: Skiff's own tars, `docker save` (Docker < 25: manifest.json
 * and `<id>/layer.tar`; Docker ≥ 25: an OCI layout beside manifest.json), skopeo and podman docker-archive
 * and oci-archive, crane tarballs, the same compressed with gzip or zstd, and Skiff's .zip offline kit.
 * Only JSON files are read whole; layers stay where they are, as slices of the file, until pushed.
 */
import { GunzipDecoder } from '../codecs/gunzip.ts';
import { sha256Of, verifyDigest } from '../codecs/sha256.ts';
import { ZstdDecoder } from '../codecs/zstd.ts';
import {
  type RandomAccessBlob,
  SequentialDecompressedBlob,
  readBytes,
  sniff,
  unsupportedCompression,
} from './random-access.ts';
import { SkiffError } from '../errors.ts';
import { type ImageConfig, type ImageManifest, MAX_MANIFEST_BYTES, parseConfig } from '../image/manifest.ts';
import type { LayerCompression } from '../image/media-types.ts';
import { type Platform, normalizePlatform } from '../image/platform.ts';
import { type ArchiveIndex, type OciManifest, readOciManifests, tagFromRefName } from './oci-index.ts';
import { TarIndex, isTarHeader, walkTar } from './tar-read.ts';
import { zipMembers } from './zip-read.ts';

export interface ArchiveLayer {
  /** Path of the layer file in its tar. */
  path: string;
  blob: RandomAccessBlob;
  /** Offset in the tar: a sequential (compressed) tar is read in this order. */
  offset: number;
  size: number;
  diffId: string;
  /** How the file is compressed, from its first bytes. */
  compression: LayerCompression;
  /** The file's own sha256 when the archive names it (content-addressed names, or uncompressed: the diff_id). */
  digest?: string;
  /** Its media type in the archive's own manifest, when there is one. */
  mediaType?: string;
}

export interface ArchiveImageEntry {
  /** Which tar of a .zip kit it came from; empty for a plain tar. */
  source: string;
  /** `name:tag` as the archive gives it (manifest.json RepoTags, or the OCI ref name). */
  repoTags: string[];
  config: { digest: string; bytes: Uint8Array; value: ImageConfig };
  platform: Platform;
  layers: ArchiveLayer[];
  /** The image's manifest as the archive holds it (OCI layouts): pushed unchanged when the layers are. */
  manifest?: { bytes: Uint8Array; digest: string; mediaType: string; value: ImageManifest };
  /** Sum of the layer files' sizes. */
  size: number;
}

export interface ArchiveContents {
  images: ArchiveImageEntry[];
  /** What the archive is: `tar`, `tar+gzip`, `tar+zstd`, `zip`. */
  format: string;
  /** A compressed tar is read in order: each layer push decompresses up to it (Skiff keeps the order). */
  sequential: boolean;
  /** The image indexes its OCI part holds (multi-platform images), each naming some of `images`. */
  indexes: ArchiveIndex[];
}

type TarImages = Pick<ArchiveContents, 'images' | 'indexes'>;

const JSON_LIMIT = MAX_MANIFEST_BYTES;
/** Small files kept during the walk of a sequential tar: configs and manifests are far smaller. */
const KEEP_SMALL = 256 * 1024;

/** Opens an archive file and lists its images. */
export async function readArchive(file: RandomAccessBlob, signal?: AbortSignal): Promise<ArchiveContents> {
  const head = await readBytes(file, 0, 512);
  const kind = sniff(head);
  if (kind === 'bzip2' || kind === 'xz') throw unsupportedCompression(kind, 'This archive');
  if (kind === 'zip') {
    const members = await zipMembers(file);
    const images: ArchiveImageEntry[] = [];
    const indexes: ArchiveIndex[] = [];
    for (const member of members) {
      const contents = await readTar(member.blob, member.name, signal);
      const first = images.length;
      indexes.push(...contents.indexes.map((index) => ({ ...index, images: index.images.map((i) => i + first) })));
      images.push(...contents.images);
    }
    if (!images.length) throw new SkiffError('bad-manifest', 'The .zip holds no image tars');
    return { images, indexes, format: 'zip', sequential: false };
  }
  if (kind === 'gzip' || kind === 'zstd') {
    const what = 'The compressed archive';
    const view = new SequentialDecompressedBlob(file, () =>
      kind === 'gzip' ? new GunzipDecoder(what) : new ZstdDecoder(what),
    );
    return { ...(await readTar(view, '', signal, true)), format: `tar+${kind}`, sequential: true };
  }
  if (!isTarHeader(head)) {
    throw new SkiffError(
      'bad-manifest',
      'This file is not a tar archive (nor a gzip- or zstd-compressed tar, nor a .zip): choose the file `docker save`, `podman save`, skopeo or Skiff wrote',
    );
  }
  return { ...(await readTar(file, '', signal)), format: 'tar', sequential: false };
}

async function readTar(
  blob: RandomAccessBlob,
  source: string,
  signal?: AbortSignal,
  sequential = false,
): Promise<TarImages> {
  const entries = await walkTar(blob, {
    ...(sequential ? { keepSmallFiles: KEEP_SMALL } : {}),
    ...(signal ? { signal } : {}),
  });
  const tar = new TarIndex(blob, entries);
  const reader = new ImageReader(tar, source);
  let images: ArchiveImageEntry[];
  // An OCI part holding an index (every platform) is read through index.json: manifest.json lists one platform.
  if (tar.has('manifest.json') && !(await reader.holdsIndex())) images = await reader.fromManifestJson();
  else if (tar.has('index.json')) images = await reader.fromOciIndex();
  else
    throw new SkiffError(
      'bad-manifest',
      `${source || 'The archive'} is a tar but holds neither manifest.json nor an OCI index.json: it is not a saved image`,
    );
  if (!images.length) throw new SkiffError('bad-manifest', `${source || 'The archive'} lists no images`);
  return { images, indexes: reader.indexes };
}

type Json = Record<string, unknown>;

function parseJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new SkiffError('bad-manifest', `${what} is not valid JSON`);
  }
}

/** The digest a content-addressed name gives: `blobs/sha256/<hex>`, `sha256:<hex>`, `<hex>.json`, `<hex>.tar.gz`. */
export function digestFromName(path: string): string | undefined {
  const base = path.split('/').at(-1) ?? '';
  const blobs = /(?:^|\/)blobs\/sha256\/([a-f0-9]{64})$/.exec(path);
  if (blobs) return `sha256:${blobs[1]}`;
  const match = /^(?:sha256:)?([a-f0-9]{64})(?:\.json|\.tar\.gz|\.tar|\.tar\.zst)?$/.exec(base);
  return match ? `sha256:${match[1]}` : undefined;
}

class ImageReader {
  /** The indexes index.json names at its top level, filled by `ociImageManifests`. */
  readonly indexes: ArchiveIndex[] = [];
  private manifests?: Promise<OciManifest[]>;

  constructor(
    private readonly tar: TarIndex,
    private readonly source: string,
  ) {}

  private async json(path: string, what: string): Promise<unknown> {
    const entry = this.tar.require(path, what);
    return parseJson(await this.tar.read(entry, JSON_LIMIT, what), what);
  }

  /** Reads a config file, checks it against its content-addressed name, and parses it. */
  private async config(path: string, expected?: string): Promise<ArchiveImageEntry['config']> {
    const entry = this.tar.require(path, 'The image config');
    const bytes = await this.tar.read(entry, JSON_LIMIT, `The image config ${path}`);
    const digest = await sha256Of(bytes);
    const named = expected ?? digestFromName(path);
    if (named) verifyDigest(digest, named, `The image config ${path}`);
    return { digest, bytes, value: parseConfig(bytes) };
  }

  private async layer(path: string, diffId: string, known: { digest?: string; mediaType?: string }) {
    const entry = this.tar.require(path, `Layer ${diffId}`);
    const blob = this.tar.open(entry);
    const kind = sniff(entry.data ?? entry.head ?? (await readBytes(blob, 0, 8)));
    if (kind === 'bzip2' || kind === 'xz') throw unsupportedCompression(kind, `Layer ${path}`);
    const compression: LayerCompression = kind === 'gzip' ? 'gzip' : kind === 'zstd' ? 'zstd' : 'none';
    const digest = known.digest ?? digestFromName(path) ?? (compression === 'none' ? diffId : undefined);
    const layer: ArchiveLayer = { path, blob, offset: entry.offset, size: entry.size, diffId, compression };
    if (digest) layer.digest = digest;
    if (known.mediaType) layer.mediaType = known.mediaType;
    return layer;
  }

  private image(
    repoTags: string[],
    config: ArchiveImageEntry['config'],
    layers: ArchiveLayer[],
    manifest?: ArchiveImageEntry['manifest'],
  ): ArchiveImageEntry {
    if (layers.length !== config.value.diffIds.length) {
      throw new SkiffError(
        'bad-manifest',
        `The image ${config.digest} lists ${layers.length} layers but its config has ${config.value.diffIds.length} diff_ids`,
      );
    }
    const platform = normalizePlatform({
      os: config.value.os || 'linux',
      architecture: config.value.architecture || 'amd64',
      ...(config.value.variant ? { variant: config.value.variant } : {}),
    });
    return {
      source: this.source,
      repoTags,
      config,
      platform,
      layers,
      ...(manifest ? { manifest } : {}),
      size: layers.reduce((s, l) => s + l.size, 0),
    };
  }

  /** The OCI manifests the layout holds, by config digest: Docker ≥ 25 and Skiff write both indexes. */
  private async ociManifests(): Promise<Map<string, NonNullable<ArchiveImageEntry['manifest']>>> {
    const out = new Map<string, NonNullable<ArchiveImageEntry['manifest']>>();
    if (!this.tar.has('index.json')) return out;
    for (const manifest of await this.ociImageManifests()) out.set(manifest.value.config.digest, manifest);
    return out;
  }

  /** Whether index.json names an image index the archive holds. */
  async holdsIndex(): Promise<boolean> {
    if (!this.tar.has('index.json')) return false;
    await this.ociImageManifests().catch(() => []);
    return this.indexes.length > 0;
  }

  /** Every image manifest index.json leads to (through nested indexes), each checked against its digest. */
  private ociImageManifests(): Promise<OciManifest[]> {
    return (this.manifests ??= this.readOciImageManifests());
  }

  private async readOciImageManifests(): Promise<OciManifest[]> {
    const index = await this.json('index.json', 'index.json');
    const { manifests, indexes } = await readOciManifests(this.tar, this.source, index);
    this.indexes.push(...indexes);
    return manifests;
  }

  async fromManifestJson(): Promise<ArchiveImageEntry[]> {
    const list = await this.json('manifest.json', 'manifest.json');
    if (!Array.isArray(list)) throw new SkiffError('bad-manifest', 'manifest.json is not a list of images');
    const oci = await this.ociManifests().catch(() => new Map<string, NonNullable<ArchiveImageEntry['manifest']>>());
    const images: ArchiveImageEntry[] = [];
    for (const [i, item] of list.entries()) {
      const record = item as Json;
      if (typeof record.Config !== 'string' || !Array.isArray(record.Layers))
        throw new SkiffError('bad-manifest', `manifest.json entry ${i + 1} has no Config and Layers`);
      const config = await this.config(record.Config);
      const manifest = oci.get(config.digest);
      const repoTags = Array.isArray(record.RepoTags)
        ? record.RepoTags.filter((t): t is string => typeof t === 'string')
        : [];
      const layers: ArchiveLayer[] = [];
      for (const [j, path] of record.Layers.entries()) {
        const diffId = config.value.diffIds[j];
        if (typeof path !== 'string' || !diffId)
          throw new SkiffError('bad-manifest', `manifest.json entry ${i + 1} lists more layers than its config`);
        const described = manifest?.value.layers[j];
        layers.push(
          await this.layer(path, diffId, described ? { digest: described.digest, mediaType: described.mediaType } : {}),
        );
      }
      // The archive's own manifest is usable only if it names exactly these files.
      const usable =
        manifest &&
        manifest.value.layers.length === layers.length &&
        layers.every((l) => l.digest === manifest.value.layers[layers.indexOf(l)]!.digest);
      images.push(this.image(repoTags, config, layers, usable ? manifest : undefined));
    }
    return images;
  }

  async fromOciIndex(): Promise<ArchiveImageEntry[]> {
    const images: ArchiveImageEntry[] = [];
    for (const manifest of await this.ociImageManifests()) {
      const config = await this.config(
        `blobs/sha256/${manifest.value.config.digest.slice(7)}`,
        manifest.value.config.digest,
      );
      const layers: ArchiveLayer[] = [];
      for (const [j, descriptor] of manifest.value.layers.entries()) {
        layers.push(
          await this.layer(`blobs/sha256/${descriptor.digest.slice(7)}`, config.value.diffIds[j] ?? '', {
            digest: descriptor.digest,
            mediaType: descriptor.mediaType,
          }),
        );
      }
      const { refName, ...kept } = manifest;
      images.push(this.image(refName ? tagFromRefName(refName) : [], config, layers, kept));
    }
    return images;
  }
}
