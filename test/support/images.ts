/**
 * Test images built in Node and pushed to a real registry through the distribution HTTP API, the way a real
 * client pushes: HEAD to skip blobs already there, POST to open an upload (or mount from another
 * repository), one PUT for small blobs or PATCH chunks + a closing PUT for large ones, then PUT of the
 * manifest with its media type. Layers stream from the tar writer through the compressor into a spool
 * (memory while small, a temp file past `spillBytes`), hashing on the way, so a 1 GiB layer never sits in memory.
 */
import { spawn } from 'node:child_process';
import { createHash, type Hash } from 'node:crypto';
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { FIXED_MTIME, TarState, tarEntries, type FileSpec } from './tar-build.ts';

export type { FileSpec } from './tar-build.ts';

export const MediaType = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerLayerTar: 'application/vnd.docker.image.rootfs.diff.tar',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayerTar: 'application/vnd.oci.image.layer.v1.tar',
  inToto: 'application/vnd.in-toto+json',
} as const;

/** Every image's `created` and history dates (same instant as the tar entries' mtime). */
export const CREATED = new Date(FIXED_MTIME * 1000).toISOString().replace('.000Z', 'Z');

export type Compression = 'gzip' | 'zstd' | 'none';

export interface LayerSpec {
  files: FileSpec[];
  compression: Compression;
  /** gzip/zstd level; defaults 6 (gzip) and 3 (zstd), what the usual tools use. */
  level?: number;
  /**
   * Compress as this many concatenated gzip members (or zstd frames), split at file boundaries; the last
   * one carries the end-of-archive blocks. Like eStargz layers and `pigz --independent` output.
   */
  members?: number;
  /** zstd only: each frame states its content size, as `zstd FILE` writes (from a pipe it cannot). */
  zstdContentSize?: boolean;
  /** The manifest states the layer's inflated size in eStargz's annotation
   *  (`io.containers.estargz.uncompressed-size`). */
  statesSize?: boolean;
  /** The history entry's `created_by`; defaults to a BuildKit-style `COPY`. */
  createdBy?: string;
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface ContainerConfig {
  User?: string;
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  WorkingDir?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Volumes?: Record<string, Record<string, never>>;
  Labels?: Record<string, string>;
  StopSignal?: string;
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ImageSpec {
  format: 'docker' | 'oci';
  layers: LayerSpec[];
  /** Defaults to linux/amd64. */
  platform?: Platform;
  config?: ContainerConfig;
  /**
   * Whole history, when one entry per layer is not wanted (real builds add `empty_layer` entries for ENV,
   * CMD, …). Must hold exactly as many non-empty entries as there are layers.
   */
  history?: HistoryEntry[];
}

export interface PushedLayer {
  digest: string;
  /** Compressed size, the blob as served. */
  size: number;
  mediaType: string;
  compression: Compression;
  diffId: string;
  /** Size of the tar before compression. */
  uncompressedSize: number;
  /** Compressed size of each gzip member / zstd frame, in order (one entry for a plain single stream). */
  memberSizes: number[];
}

export interface PushedImage {
  /** `127.0.0.1:PORT` */
  registry: string;
  repository: string;
  /** null when pushed by digest only (an index's child). */
  tag: string | null;
  /** `host/repository:tag`, or `host/repository@digest` without a tag: what skopeo or a pull takes. */
  reference: string;
  manifestDigest: string;
  manifestMediaType: string;
  manifestBytes: Uint8Array;
  configDigest: string;
  configMediaType: string;
  configBytes: Uint8Array;
  platform: Platform;
  diffIds: string[];
  layers: PushedLayer[];
  /** What it was built from, so tests can tell which files to expect. */
  spec: ImageSpec;
}

export interface IndexEntry {
  image: PushedImage;
  /** Defaults to the image's own platform. */
  platform?: Platform;
}

export interface PushedIndex {
  registry: string;
  repository: string;
  tag: string;
  reference: string;
  digest: string;
  mediaType: string;
  bytes: Uint8Array;
  manifests: { image: PushedImage; platform: Platform }[];
  /** Same images keyed `os/arch` or `os/arch/variant`. */
  byPlatform: Record<string, PushedImage>;
  /** BuildKit-style attestation manifests, one per image, in index order after the images. */
  attestations: { digest: string; size: number; manifestBytes: Uint8Array; refersTo: string }[];
}

/** Where to push: a registry URL, or anything with `url` and per-repository auth headers (a started Registry). */
export type RegistryTarget = string | { url: string; authHeaders?(repository: string): Record<string, string> };

export interface PushOptions {
  /**
   * Sent with every request; a function gets the repository being pushed (token auth scopes tokens per
   * repository). A target's own `authHeaders` are used when this is absent.
   */
  headers?: Record<string, string> | ((repository: string) => Record<string, string>);
  /** Shorthand for a Basic Authorization header (htpasswd registries). */
  basicAuth?: { username: string; password: string };
  /** Blobs larger than this go up as PATCH chunks of this size; smaller ones in a single PUT. Default 4 MiB. */
  chunkSize?: number;
  /** Repository to cross-mount blobs from when they are missing here (`POST …?mount=&from=`). */
  mountFrom?: string;
  /** Compressed layers larger than this are spooled to a temp file instead of memory. Default 32 MiB. */
  spillBytes?: number;
}

export const platformKey = (p: Platform) => [p.os, p.architecture, p.variant].filter(Boolean).join('/');

const DEFAULT_CHUNK = 4 << 20;
const DEFAULT_SPILL = 32 << 20;
const encoder = new TextEncoder();

const sha256 = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

// ---------------------------------------------------------------- registry client

/** Talks to one repository of one registry. */
class Client {
  readonly base: string;
  readonly host: string;
  private readonly headers: Record<string, string>;

  constructor(
    target: RegistryTarget,
    readonly repository: string,
    opts: PushOptions,
  ) {
    const url = typeof target === 'string' ? target : target.url;
    this.base = url.replace(/\/+$/, '');
    this.host = new URL(this.base).host;
    const given = opts.headers ?? (typeof target === 'string' ? undefined : target.authHeaders?.bind(target));
    this.headers = { ...(typeof given === 'function' ? given(repository) : given) };
    if (opts.basicAuth) {
      const { username, password } = opts.basicAuth;
      this.headers.Authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    }
  }

  async request(method: string, url: string, init: { headers?: Record<string, string>; body?: Uint8Array } = {}) {
    const res = await fetch(new URL(url, `${this.base}/`), {
      method,
      headers: { ...this.headers, ...init.headers },
      // Never backed by a SharedArrayBuffer here; the DOM typing of BodyInit just cannot tell.
      body: init.body as Uint8Array<ArrayBuffer> | undefined,
      redirect: 'manual',
    });
    const text = method === 'HEAD' ? '' : await res.text(); // always drain, so the connection is reused
    return { status: res.status, headers: res.headers, text };
  }

  async expect(what: string, status: number[], method: string, url: string, init?: Parameters<Client['request']>[2]) {
    const res = await this.request(method, url, init);
    if (!status.includes(res.status)) {
      throw new Error(`${what}: ${method} ${url} answered ${res.status} ${res.text.slice(0, 500)}`);
    }
    return res;
  }

  location(res: { headers: Headers }, what: string): string {
    const loc = res.headers.get('location');
    if (!loc) throw new Error(`${what}: no Location header`);
    return new URL(loc, `${this.base}/`).toString();
  }
}

/** Appends `digest=` to an upload Location, which already carries the registry's own query (`_state=…`). */
const withDigest = (location: string, digest: string) =>
  `${location}${location.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`;

/** A blob waiting to be pushed: in memory, or in a spool file read back chunk by chunk. */
interface BlobSource {
  digest: string;
  size: number;
  chunks(chunkSize: number): AsyncIterable<Uint8Array>;
}

function bytesSource(bytes: Uint8Array, digest = sha256(bytes)): BlobSource {
  return {
    digest,
    size: bytes.length,
    async *chunks(chunkSize) {
      for (let at = 0; at < bytes.length; at += chunkSize) yield bytes.subarray(at, at + chunkSize);
    },
  };
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of chunks) parts.push(c);
  return Buffer.concat(parts);
}

async function uploadBlob(client: Client, blob: BlobSource, opts: PushOptions): Promise<void> {
  const repository = client.repository;
  const what = `blob ${blob.digest} to ${repository}`;
  const head = await client.request('HEAD', `/v2/${repository}/blobs/${blob.digest}`);
  if (head.status === 200) return;
  if (head.status !== 404) throw new Error(`${what}: HEAD answered ${head.status}`);

  let location: string | undefined;
  if (opts.mountFrom && opts.mountFrom !== repository) {
    const q = `mount=${encodeURIComponent(blob.digest)}&from=${encodeURIComponent(opts.mountFrom)}`;
    const res = await client.request('POST', `/v2/${repository}/blobs/uploads/?${q}`);
    if (res.status === 201) return; // mounted
    // 202: the source lacks the blob and an upload was opened instead. Anything else (a token without pull
    // on the source, say): upload normally, as docker push does.
    if (res.status === 202) location = client.location(res, what);
  }
  if (!location) {
    const res = await client.expect(what, [202], 'POST', `/v2/${repository}/blobs/uploads/`);
    location = client.location(res, what);
  }

  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK;
  const octet = { 'Content-Type': 'application/octet-stream' };
  if (blob.size <= chunkSize) {
    const body = await collect(blob.chunks(chunkSize));
    await client.expect(what, [201], 'PUT', withDigest(location, blob.digest), { headers: octet, body });
    return;
  }
  let offset = 0;
  for await (const chunk of blob.chunks(chunkSize)) {
    // distribution wants `start-end` (inclusive, no `bytes=`) and checks that start is the current size.
    const range = `${offset}-${offset + chunk.length - 1}`;
    const res = await client.expect(what, [202], 'PATCH', location, {
      headers: { ...octet, 'Content-Range': range },
      body: chunk,
    });
    location = client.location(res, what);
    offset += chunk.length;
  }
  if (offset !== blob.size) throw new Error(`${what}: sent ${offset} bytes of ${blob.size}`);
  await client.expect(what, [201], 'PUT', withDigest(location, blob.digest), { headers: octet });
}

async function uploadManifest(
  client: Client,
  reference: string,
  mediaType: string,
  bytes: Uint8Array,
): Promise<string> {
  const digest = sha256(bytes);
  const what = `manifest ${client.repository}:${reference}`;
  const res = await client.expect(what, [201], 'PUT', `/v2/${client.repository}/manifests/${reference}`, {
    headers: { 'Content-Type': mediaType },
    body: bytes,
  });
  const echoed = res.headers.get('docker-content-digest');
  if (echoed && echoed !== digest) throw new Error(`${what}: registry says ${echoed}, we computed ${digest}`);
  return digest;
}

// ---------------------------------------------------------------- layers

/** Collects compressed output with its sha256; moves to a temp file once it outgrows `spillBytes`. */
class Spool {
  size = 0;
  constructor(private readonly spillBytes: number) {}
  private readonly hash: Hash = createHash('sha256');
  private parts: Uint8Array[] = [];
  private file?: { dir: string; path: string; handle: FileHandle };

  async write(chunk: Uint8Array): Promise<void> {
    this.hash.update(chunk);
    this.size += chunk.length;
    if (!this.file && this.size > this.spillBytes) {
      const dir = await mkdtemp(join(tmpdir(), 'skiff-layer-'));
      const path = join(dir, 'blob');
      this.file = { dir, path, handle: await open(path, 'w+') };
      for (const part of this.parts) await this.file.handle.write(part);
      this.parts = [];
    }
    if (this.file) await this.file.handle.write(chunk);
    else this.parts.push(chunk);
  }

  finish(): BlobSource {
    const digest = `sha256:${this.hash.digest('hex')}`;
    const { size, file, parts } = this;
    if (!file) return bytesSource(Buffer.concat(parts), digest);
    return {
      digest,
      size,
      async *chunks(chunkSize) {
        for (let at = 0; at < size;) {
          const buf = Buffer.allocUnsafe(Math.min(chunkSize, size - at));
          const { bytesRead } = await file.handle.read(buf, 0, buf.length, at);
          if (bytesRead !== buf.length) throw new Error(`spool file shrank at ${at}`);
          yield buf;
          at += bytesRead;
        }
      },
    };
  }

  async dispose(): Promise<void> {
    if (!this.file) return;
    await this.file.handle.close();
    await rm(this.file.dir, { recursive: true, force: true });
  }
}

/** Passes chunks through unchanged while hashing and counting them (the uncompressed tar → diff_id). */
function tap(hash: Hash, count: { bytes: number }) {
  return async function* (source: AsyncIterable<Uint8Array>) {
    for await (const chunk of source) {
      hash.update(chunk);
      count.bytes += chunk.length;
      yield chunk;
    }
  };
}

async function compressMember(
  tar: Iterable<Uint8Array>,
  compression: Compression,
  level: number | undefined,
  hash: Hash,
  count: { bytes: number },
  spool: Spool,
  zstdContentSize = false,
): Promise<void> {
  if (zstdContentSize && compression !== 'zstd') throw new Error('zstdContentSize is for zstd layers');
  // The size must be told before the data: such members are generated in memory first (small fixtures).
  const whole = zstdContentSize ? Array.from(tar, (c) => Buffer.from(c)) : undefined;
  const sizeFlags = whole ? [`--stream-size=${whole.reduce((n, c) => n + c.byteLength, 0)}`] : [];
  // Object mode counts chunks, not bytes: the default of 16 would queue 16 MiB of generated data.
  const source = () => Readable.from(whole ?? tar, { highWaterMark: 2 });
  const sink = async (compressed: AsyncIterable<Uint8Array>) => {
    for await (const chunk of compressed) await spool.write(chunk);
  };
  if (compression === 'none') {
    await pipeline(source(), tap(hash, count), sink);
  } else if (compression === 'gzip') {
    await pipeline(source(), tap(hash, count), createGzip({ level: level ?? 6 }), sink);
  } else {
    // The zstd CLI, fed through pipes: Node 20 has no zstd in zlib.
    const child = spawn('zstd', ['-c', '-q', `-${level ?? 3}`, ...sizeFlags], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`zstd exited ${code}: ${stderr}`))));
    });
    try {
      await Promise.all([pipeline(source(), tap(hash, count), child.stdin), sink(child.stdout), exited]);
    } finally {
      if (child.exitCode === null) child.kill();
    }
  }
}

/** Splits `files` into `n` runs of near-equal length, keeping order. */
function splitFiles(files: FileSpec[], n: number): FileSpec[][] {
  const groups: FileSpec[][] = [];
  for (let i = 0; i < n; i++) {
    groups.push(files.slice(Math.round((i * files.length) / n), Math.round(((i + 1) * files.length) / n)));
  }
  return groups;
}

function layerMediaType(format: ImageSpec['format'], compression: Compression): string {
  if (format === 'docker') {
    if (compression === 'zstd') throw new Error('Docker v2s2 has no zstd layer type; use format: "oci"');
    return compression === 'gzip' ? MediaType.dockerLayerGzip : MediaType.dockerLayerTar;
  }
  return { gzip: MediaType.ociLayerGzip, zstd: MediaType.ociLayerZstd, none: MediaType.ociLayerTar }[compression];
}

/** Builds one layer and pushes its blob, keeping only its description. */
async function pushLayer(
  client: Client,
  format: ImageSpec['format'],
  layer: LayerSpec,
  opts: PushOptions,
): Promise<PushedLayer> {
  const members = layer.members ?? 1;
  if (members < 1 || !Number.isInteger(members)) throw new Error(`members must be a positive integer`);
  if (members > 1 && layer.compression === 'none') throw new Error('an uncompressed layer has no members');
  const mediaType = layerMediaType(format, layer.compression);
  const diff = createHash('sha256');
  const count = { bytes: 0 };
  const spool = new Spool(opts.spillBytes ?? DEFAULT_SPILL);
  try {
    const state = new TarState();
    const memberSizes: number[] = [];
    const groups = splitFiles(layer.files, members);
    for (const [i, group] of groups.entries()) {
      const before = spool.size;
      const tar = tarEntries(group, state, i === groups.length - 1);
      await compressMember(tar, layer.compression, layer.level, diff, count, spool, layer.zstdContentSize);
      memberSizes.push(spool.size - before);
    }
    const blob = spool.finish();
    await uploadBlob(client, blob, opts);
    return {
      digest: blob.digest,
      size: blob.size,
      mediaType,
      compression: layer.compression,
      diffId: `sha256:${diff.digest('hex')}`,
      uncompressedSize: count.bytes,
      memberSizes,
    };
  } finally {
    await spool.dispose();
  }
}

// ---------------------------------------------------------------- images and indexes

/**
 * docker push (distribution's schema2 package) indents manifests with three spaces, BuildKit writes compact
 * JSON: both are seen in the wild, and a reader must hash the bytes as served, never re-serialised JSON.
 */
const manifestJson = (format: ImageSpec['format'], value: unknown) =>
  encoder.encode(format === 'docker' ? JSON.stringify(value, null, 3) : JSON.stringify(value));

function buildHistory(spec: ImageSpec): HistoryEntry[] {
  if (!spec.history) {
    return spec.layers.map((layer, i) => ({
      created: CREATED,
      created_by: layer.createdBy ?? `COPY layer${i} / # buildkit`,
      comment: 'buildkit.dockerfile.v0',
    }));
  }
  const nonEmpty = spec.history.filter((h) => !h.empty_layer).length;
  if (nonEmpty !== spec.layers.length) {
    throw new Error(`history has ${nonEmpty} non-empty entries for ${spec.layers.length} layers`);
  }
  return spec.history.map((h) => ({ created: CREATED, ...h }));
}

/**
 * Builds the image's layers, config and manifest and pushes them under `tag` (or by digest only when tag
 * is null, for an index's children). Layers are built and pushed one at a time.
 */
export async function pushImage(
  target: RegistryTarget,
  repository: string,
  tag: string | null,
  spec: ImageSpec,
  opts: PushOptions = {},
): Promise<PushedImage> {
  const client = new Client(target, repository, opts);
  const platform = spec.platform ?? { os: 'linux', architecture: 'amd64' };
  const history = buildHistory(spec);

  const layers: PushedLayer[] = [];
  for (const layer of spec.layers) layers.push(await pushLayer(client, spec.format, layer, opts));
  const diffIds = layers.map((l) => l.diffId);

  const config = {
    architecture: platform.architecture,
    ...(platform.variant ? { variant: platform.variant } : {}),
    os: platform.os,
    created: CREATED,
    config: spec.config ?? {},
    rootfs: { type: 'layers', diff_ids: diffIds },
    history,
  };
  const configBytes = encoder.encode(JSON.stringify(config));
  const configMediaType = spec.format === 'docker' ? MediaType.dockerConfig : MediaType.ociConfig;
  const configBlob = bytesSource(configBytes);
  await uploadBlob(client, configBlob, opts);

  const manifestMediaType = spec.format === 'docker' ? MediaType.dockerManifest : MediaType.ociManifest;
  const manifestBytes = manifestJson(spec.format, {
    schemaVersion: 2,
    mediaType: manifestMediaType,
    config: { mediaType: configMediaType, digest: configBlob.digest, size: configBlob.size },
    layers: layers.map((l, i) => ({
      mediaType: l.mediaType,
      digest: l.digest,
      size: l.size,
      ...(spec.layers[i]!.statesSize
        ? { annotations: { 'io.containers.estargz.uncompressed-size': String(l.uncompressedSize) } }
        : {}),
    })),
  });
  const manifestDigest = sha256(manifestBytes);
  await uploadManifest(client, tag ?? manifestDigest, manifestMediaType, manifestBytes);

  return {
    registry: client.host,
    repository,
    tag,
    reference: tag === null ? `${client.host}/${repository}@${manifestDigest}` : `${client.host}/${repository}:${tag}`,
    manifestDigest,
    manifestMediaType,
    manifestBytes,
    configDigest: configBlob.digest,
    configMediaType,
    configBytes,
    platform,
    diffIds,
    layers,
    spec,
  };
}

/** A BuildKit-style attestation manifest (unknown/unknown config, one in-toto provenance layer) for `image`. */
async function pushAttestation(client: Client, image: PushedImage, opts: PushOptions) {
  const statement = encoder.encode(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v0.1',
      predicateType: 'https://slsa.dev/provenance/v0.2',
      subject: [
        {
          name: `pkg:docker/${client.repository}?platform=${encodeURIComponent(platformKey(image.platform))}`,
          digest: { sha256: image.manifestDigest.slice('sha256:'.length) },
        },
      ],
      predicate: { builder: { id: '' }, buildType: 'https://mobyproject.org/buildkit@v1', metadata: {} },
    }),
  );
  const layer = bytesSource(statement);
  await uploadBlob(client, layer, opts);
  const config = bytesSource(
    encoder.encode(
      JSON.stringify({
        architecture: 'unknown',
        os: 'unknown',
        config: {},
        rootfs: { type: 'layers', diff_ids: [layer.digest] },
      }),
    ),
  );
  await uploadBlob(client, config, opts);
  const manifestBytes = encoder.encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: config.digest, size: config.size },
      layers: [
        {
          mediaType: MediaType.inToto,
          digest: layer.digest,
          size: layer.size,
          annotations: { 'in-toto.io/predicate-type': 'https://slsa.dev/provenance/v0.2' },
        },
      ],
    }),
  );
  const digest = sha256(manifestBytes);
  await uploadManifest(client, digest, MediaType.ociManifest, manifestBytes);
  return { digest, size: manifestBytes.length, manifestBytes, refersTo: image.manifestDigest };
}

/**
 * Pushes a Docker manifest list or OCI index over images already pushed to the same repository (the
 * registry checks that every child exists there). `attestations` adds BuildKit's unknown/unknown
 * attestation manifests after the images (OCI only, as BuildKit does).
 */
export async function pushIndex(
  target: RegistryTarget,
  repository: string,
  tag: string,
  entries: IndexEntry[],
  opts: PushOptions & { format: 'docker' | 'oci'; attestations?: boolean },
): Promise<PushedIndex> {
  if (opts.attestations && opts.format === 'docker') throw new Error('attestations need an OCI index');
  const client = new Client(target, repository, opts);
  const manifests = entries.map((e) => ({ image: e.image, platform: e.platform ?? e.image.platform }));
  for (const { image } of manifests) {
    if (image.repository !== repository) {
      throw new Error(`index ${repository}:${tag}: child ${image.reference} lives in another repository`);
    }
  }
  const attestations = [];
  if (opts.attestations) {
    for (const { image } of manifests) attestations.push(await pushAttestation(client, image, opts));
  }
  const mediaType = opts.format === 'docker' ? MediaType.dockerManifestList : MediaType.ociIndex;
  const bytes = manifestJson(opts.format, {
    schemaVersion: 2,
    mediaType,
    manifests: [
      ...manifests.map(({ image, platform }) => ({
        mediaType: image.manifestMediaType,
        digest: image.manifestDigest,
        size: image.manifestBytes.length,
        platform,
      })),
      ...attestations.map((a) => ({
        mediaType: MediaType.ociManifest,
        digest: a.digest,
        size: a.size,
        annotations: { 'vnd.docker.reference.digest': a.refersTo, 'vnd.docker.reference.type': 'attestation-manifest' },
        platform: { architecture: 'unknown', os: 'unknown' },
      })),
    ],
  });
  const digest = await uploadManifest(client, tag, mediaType, bytes);
  return {
    registry: client.host,
    repository,
    tag,
    reference: `${client.host}/${repository}:${tag}`,
    digest,
    mediaType,
    bytes,
    manifests,
    byPlatform: Object.fromEntries(manifests.map((m) => [platformKey(m.platform), m.image])),
    attestations,
  };
}

// ---------------------------------------------------------------- the standard catalogue

export interface Fixtures {
  registryUrl: string;
  /** `127.0.0.1:PORT` */
  host: string;
  /** Seconds spent pushing. */
  seconds: number;
  small: { docker: PushedImage; oci: PushedImage };
  multi: { app: PushedIndex; list: PushedIndex };
  codec: { zstd: PushedImage; plain: PushedImage; multimember: PushedImage; mixed: PushedImage };
  names: { odd: PushedImage };
  many: { layers: PushedImage };
  shared: { a: PushedImage; b: PushedImage };
  /** Only with `{ big: true }`. */
  big?: { zeros: PushedImage; noise: PushedImage };
}

const GiB = 1 << 30;
/** Size of each big file: past 1 GiB, and not a multiple of the 1 MiB generator chunk. */
export const BIG_FILE_BYTES = Math.round(1.1 * GiB) + 12_345;

/**
 * big/zeros: one ~1.1 GiB file of zeros (gzip: about 1.1 MB on the wire, 1.1 GiB out of the inflater),
 * then a small layer.
 */
export function bigZerosSpec(): ImageSpec {
  return {
    format: 'docker',
    layers: [
      { compression: 'gzip', files: [{ path: 'big/zeros.bin', content: { zeros: BIG_FILE_BYTES } }] },
      { compression: 'gzip', files: [{ path: 'big/after.txt', content: 'after the big layer\n' }] },
    ],
  };
}

/**
 * big/noise: one ~1.1 GiB incompressible file, so the gzip blob is as big as the file: it is spooled to disk
 * and goes up in PATCH chunks. Level 0 (stored deflate blocks): no level shrinks noise (level 1 came out
 * 0.02 % larger) and level 1 took 20 s more here.
 */
export function bigNoiseSpec(): ImageSpec {
  return {
    format: 'oci',
    layers: [
      { compression: 'gzip', level: 0, files: [{ path: 'big/noise.bin', content: { noise: BIG_FILE_BYTES } }] },
      { compression: 'gzip', files: [{ path: 'big/after.txt', content: 'after the big layer\n' }] },
    ],
  };
}

/** Text of a given length that compresses about as well as real prose (seeded, so the same every run). */
export function prose(bytes: number, seed = 'skiff'): string {
  const words = [
    'layer',
    'registry',
    'manifest',
    'digest',
    'blob',
    'tar',
    'image',
    'config',
    'index',
    'platform',
    'gzip',
    'zstd',
    'member',
    'frame',
    'whiteout',
    'opaque',
    'symlink',
    'hardlink',
    'header',
    'pax',
    seed,
  ];
  let x = 0;
  for (const c of seed) x = (Math.imul(x, 31) + c.charCodeAt(0)) >>> 0;
  const parts: string[] = [];
  for (let length = 0; length < bytes;) {
    x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0; // a plain LCG: enough variety, no dependency
    const word = `${words[(x >>> 16) % words.length]}${(x >>> 8) % 7 === 0 ? String((x >>> 4) % 1000) : ''}`;
    const sep = (x & 15) === 0 ? '.\n' : ' ';
    parts.push(word, sep);
    length += word.length + sep.length;
  }
  return parts.join('').slice(0, bytes);
}

/** The two layers of small/docker and small/oci: every entry type, both whiteout kinds. */
export function smallLayers(compression: Compression = 'gzip'): LayerSpec[] {
  return [
    {
      compression,
      createdBy: 'COPY rootfs/ / # buildkit',
      files: [
        { path: 'etc', type: 'dir' },
        { path: 'etc/os-release', content: 'NAME="Skiff Test"\nID=skiff\nVERSION_ID=1\n' },
        { path: 'etc/hostname', content: 'layer-one\n' },
        { path: 'bin/hello', content: '#!/bin/sh\necho "hello from skiff"\n', mode: 0o755 },
        { path: 'bin/hi', type: 'symlink', linkname: 'hello' },
        { path: 'bin/hello-again', type: 'hardlink', linkname: 'bin/hello' },
        { path: 'app/removed', content: 'deleted by a whiteout in layer 2\n' },
        { path: 'app/data', type: 'dir', mode: 0o750 },
        { path: 'app/data/old-1.txt', content: 'hidden by the opaque whiteout\n' },
        { path: 'app/data/old-2.txt', content: 'hidden by the opaque whiteout\n' },
        { path: 'home/user/notes.txt', content: 'owned by 1000:1000\n', uid: 1000, gid: 1000 },
        { path: 'tmp', type: 'dir', mode: 0o1777 },
      ],
    },
    {
      compression,
      createdBy: 'RUN rm /app/removed && rm -rf /app/data/* && echo new > /app/data/new.txt # buildkit',
      files: [
        { path: 'app/.wh.removed' },
        { path: 'app/data', type: 'dir', mode: 0o750 },
        { path: 'app/data/.wh..wh..opq' },
        { path: 'app/data/new.txt', content: 'new\n' },
        { path: 'app/config.json', content: '{"greeting":"hello"}\n' },
        { path: 'etc/hostname', content: 'layer-two\n' },
        { path: 'usr/share/doc/skiff/README', content: prose(20_000) },
      ],
    },
  ];
}

export const SMALL_CONFIG: ContainerConfig = {
  Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'GREETING=hello world'],
  Entrypoint: ['/bin/hello'],
  Cmd: ['--verbose', 'two words'],
  WorkingDir: '/app',
  ExposedPorts: { '8080/tcp': {}, '53/udp': {} },
  Labels: { 'org.opencontainers.image.title': 'skiff small', 'com.example.quote': 'it\'s "quoted"' },
};

/** BuildKit's history for the small images: ENV/WORKDIR/… entries are `empty_layer`. */
const SMALL_HISTORY: HistoryEntry[] = [
  { created_by: 'COPY rootfs/ / # buildkit', comment: 'buildkit.dockerfile.v0' },
  { created_by: 'ENV GREETING=hello world', comment: 'buildkit.dockerfile.v0', empty_layer: true },
  { created_by: 'RUN rm /app/removed && … # buildkit', comment: 'buildkit.dockerfile.v0' },
  { created_by: 'WORKDIR /app', comment: 'buildkit.dockerfile.v0', empty_layer: true },
  { created_by: 'EXPOSE map[53/udp:{} 8080/tcp:{}]', comment: 'buildkit.dockerfile.v0', empty_layer: true },
  { created_by: 'ENTRYPOINT ["/bin/hello"]', comment: 'buildkit.dockerfile.v0', empty_layer: true },
  { created_by: 'CMD ["--verbose" "two words"]', comment: 'buildkit.dockerfile.v0', empty_layer: true },
];

/** Paths that stress tar writers and readers: PAX names, unicode, quoting, depth. */
export function oddNameFiles(): FileSpec[] {
  const over100 = `long/${'n'.repeat(120)}.txt`;
  const over255 = `long/${'a'.repeat(100)}/${'b'.repeat(100)}/${'c'.repeat(80)}.txt`;
  const deep = `${Array.from({ length: 40 }, (_, i) => `d${i}`).join('/')}/leaf.txt`;
  return [
    { path: over100, content: 'name over 100 bytes\n' },
    { path: over255, content: 'path over 255 bytes\n' },
    { path: `long/${'l'.repeat(110)}`, type: 'symlink', linkname: `/${over255}` },
    { path: 'long/hardlink-to-long', type: 'hardlink', linkname: over100 },
    { path: 'unicode/中文文件.txt', content: '中文内容\n' },
    { path: 'unicode/emoji-🐳🚀.txt', content: '🐳\n' },
    { path: 'unicode/café.txt', content: 'NFC é\n' },
    { path: 'unicode/cafe\u0301.txt', content: 'NFD e + U+0301, a different file\n' },
    { path: 'unicode/目录/ファイル', content: 'inside a non-ASCII directory\n' },
    { path: 'unicode/链接', type: 'symlink', linkname: '中文文件.txt' },
    { path: 'odd/with space.txt', content: 'space\n' },
    { path: 'odd/ leading and trailing ', content: 'spaces at both ends\n' },
    { path: 'odd/quote"double.txt', content: 'double quote\n' },
    { path: "odd/it's.txt", content: 'single quote\n' },
    { path: 'odd/back\\slash.txt', content: 'backslash\n' },
    { path: 'odd/semi;colon&amp$dollar.txt', content: 'shell characters\n' },
    { path: 'odd/percent%20and#hash?.txt', content: 'URL characters\n' },
    { path: 'odd/-dash-first', content: 'looks like an option\n' },
    { path: deep, content: 'forty directories down\n' },
  ];
}

/**
 * Pushes the standard catalogue to a fresh registry (nothing is cached across runs). The big image is
 * opt-in: it streams 1.1 GiB through gzip.
 */
export async function pushFixtures(
  target: RegistryTarget,
  opts: PushOptions & { big?: boolean } = {},
): Promise<Fixtures> {
  const started = performance.now();
  const { big, ...push } = opts;
  const image = (repository: string, tag: string | null, spec: ImageSpec, extra: PushOptions = {}) =>
    pushImage(target, repository, tag, spec, { ...push, ...extra });

  const small = async () => ({
    docker: await image('small/docker', 'v1', {
      format: 'docker',
      layers: smallLayers('gzip'),
      config: SMALL_CONFIG,
      history: SMALL_HISTORY,
    }),
    oci: await image('small/oci', 'v1', {
      format: 'oci',
      layers: smallLayers('gzip'),
      config: SMALL_CONFIG,
      history: SMALL_HISTORY,
    }),
  });

  const platformImage = (format: ImageSpec['format'], platform: Platform): ImageSpec => ({
    format,
    platform,
    layers: [
      { compression: 'gzip', files: [{ path: 'etc/motd', content: 'shared base layer\n' }] },
      {
        compression: 'gzip',
        files: [
          { path: 'platform', content: `${platformKey(platform)}\n` },
          {
            path: `opt/${platform.architecture}${platform.variant ?? ''}/payload`,
            content: prose(4096, platformKey(platform)),
          },
        ],
      },
    ],
    config: { Cmd: ['/bin/cat', '/platform'], Env: [`PLATFORM=${platformKey(platform)}`] },
  });

  const multi = async () => {
    const appPlatforms: Platform[] = [
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64', variant: 'v8' },
      { os: 'linux', architecture: 'arm', variant: 'v7' },
    ];
    const appImages = [];
    for (const p of appPlatforms) appImages.push({ image: await image('multi/app', null, platformImage('oci', p)) });
    const app = await pushIndex(target, 'multi/app', 'v1', appImages, { ...push, format: 'oci', attestations: true });
    const listImages = [];
    for (const p of appPlatforms.slice(0, 2)) {
      listImages.push({ image: await image('multi/list', null, platformImage('docker', p)) });
    }
    const list = await pushIndex(target, 'multi/list', 'v1', listImages, { ...push, format: 'docker' });
    return { app, list };
  };

  const codecFiles = (name: string): FileSpec[] => [
    { path: `codec/${name}/text.txt`, content: prose(200_000, name) },
    { path: `codec/${name}/zeros.bin`, content: { zeros: 300_000 } },
    { path: `codec/${name}/noise.bin`, content: { noise: 50_000 } },
    { path: `codec/${name}/small`, content: `${name}\n` },
  ];
  const codec = async () => ({
    zstd: await image('codec/zstd', 'v1', {
      format: 'oci',
      layers: [
        { compression: 'zstd', files: codecFiles('zstd-1') },
        { compression: 'zstd', files: codecFiles('zstd-2') },
      ],
    }),
    plain: await image('codec/plain', 'v1', {
      format: 'oci',
      layers: [
        { compression: 'none', files: codecFiles('plain-1') },
        { compression: 'none', files: codecFiles('plain-2') },
      ],
    }),
    multimember: await image('codec/multimember', 'v1', {
      format: 'oci',
      layers: [
        {
          compression: 'gzip',
          members: 3,
          files: [...codecFiles('mm-a'), ...codecFiles('mm-b'), ...codecFiles('mm-c')],
        },
      ],
    }),
    mixed: await image('codec/mixed', 'v1', {
      format: 'oci',
      layers: [
        { compression: 'gzip', files: codecFiles('mixed-gzip') },
        { compression: 'zstd', files: codecFiles('mixed-zstd') },
        { compression: 'none', files: codecFiles('mixed-none') },
      ],
    }),
  });

  const manyLayers = (): ImageSpec => ({
    format: 'oci',
    layers: Array.from({ length: 32 }, (_, i) => ({
      compression: 'gzip' as const,
      files: [
        { path: `layers/${String(i).padStart(2, '0')}.txt`, content: `layer ${i}\n` },
        { path: 'layers/last', content: `${i}\n` }, // overwritten by every later layer
      ],
    })),
  });

  const sharedBase: LayerSpec[] = [
    { compression: 'gzip', files: [{ path: 'base/one', content: prose(10_000, 'base-one') }] },
    { compression: 'gzip', files: [{ path: 'base/two', content: prose(10_000, 'base-two') }] },
  ];
  const shared = async () => {
    const a = await image('shared/a', 'v1', {
      format: 'oci',
      layers: [...sharedBase, { compression: 'gzip', files: [{ path: 'top', content: 'a\n' }] }],
    });
    // Mounted from shared/a, as docker push does for layers it knows are in a sibling repository.
    const b = await image(
      'shared/b',
      'v1',
      { format: 'oci', layers: [...sharedBase, { compression: 'gzip', files: [{ path: 'top', content: 'b\n' }] }] },
      { mountFrom: 'shared/a' },
    );
    return { a, b };
  };

  // Independent repositories go up in parallel; within each, pushes stay sequential.
  const [smallR, multiR, codecR, namesR, manyR, sharedR] = await Promise.all([
    small(),
    multi(),
    codec(),
    image('names/odd', 'v1', {
      format: 'oci',
      layers: [
        { compression: 'gzip', files: oddNameFiles() },
        { compression: 'gzip', files: [{ path: 'unicode/.wh.café.txt' }, { path: 'odd/more', content: 'x\n' }] },
      ],
    }),
    image('many/layers', 'v1', manyLayers()),
    shared(),
  ]);

  const bigR = big
    ? { zeros: await image('big/zeros', 'v1', bigZerosSpec()), noise: await image('big/noise', 'v1', bigNoiseSpec()) }
    : undefined;

  const registryUrl = (typeof target === 'string' ? target : target.url).replace(/\/+$/, '');
  return {
    registryUrl,
    host: new URL(registryUrl).host,
    seconds: (performance.now() - started) / 1000,
    small: smallR,
    multi: multiR,
    codec: codecR,
    names: { odd: namesR },
    many: { layers: manyR },
    shared: sharedR,
    ...(bigR ? { big: bigR } : {}),
  };
}
