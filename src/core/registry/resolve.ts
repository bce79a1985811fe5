/**
 * Resolving a reference: manifest (through an index to the chosen platform), config and layer list, each
 * verified against its digest — everything the UI shows before a download, and everything a pull plans with.
 */
import { checkDigest } from '../image/digest.ts';
import { SkiffError } from '../errors.ts';
import {
  type Descriptor,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
  checkLayersMatchConfig,
  choosePlatform,
  parseConfig,
  parseManifest,
  runnableEntries,
} from '../image/manifest.ts';
import { type Platform, formatPlatform, normalizePlatform, samePlatform } from '../image/platform.ts';
import { type ImageReference, formatReference, parseReference } from '../image/reference.ts';
import { RegistryClients } from './pool.ts';
import type { TransportOptions } from './transport/options.ts';
import { sha256Of, verifyDigest } from '../codecs/sha256.ts';

export interface ResolveOptions extends TransportOptions {
  /** Which image of a multi-platform index (default linux/amd64). */
  platform?: Platform;
  signal?: AbortSignal;
  /** The run's clients (one per registry, so tokens are reused); made from the transport options if absent. */
  clients?: RegistryClients;
}

export interface ResolvedIndex {
  mediaType: string;
  digest: string;
  /** The runnable images it lists (attestations left out). */
  platforms: { platform: Platform; digest: string; mediaType: string; size: number }[];
}

/** Plain data (it crosses `postMessage` as it is): the client to reach it comes from a `RegistryClients`. */
export interface ResolvedImage {
  reference: ImageReference;
  /** Present when the reference named a manifest list or OCI index. */
  index?: ResolvedIndex;
  manifest: { mediaType: string; digest: string; bytes: Uint8Array; value: ImageManifest };
  config: { digest: string; bytes: Uint8Array; value: ImageConfig };
  platform: Platform;
  layers: { descriptor: Descriptor; diffId: string }[];
  /** Sum of the layer blobs' sizes as served. */
  compressedSize: number;
}

const MAX_INDEX_DEPTH = 2;

export async function resolve(input: string | ImageReference, options: ResolveOptions = {}): Promise<ResolvedImage> {
  const reference = typeof input === 'string' ? parseReference(input) : input;
  const client = (options.clients ?? new RegistryClients(options)).for(reference.registry);
  const { signal } = options;
  const repo = reference.repository;
  if (reference.digest && !reference.digest.startsWith('sha256:')) {
    throw new SkiffError(
      'unsupported',
      `Only sha256 digests can be verified; ${reference.digest.split(':')[0]} is not supported`,
    );
  }

  let target = reference.digest ?? reference.tag ?? 'latest';
  let expected = reference.digest;
  let index: ResolvedIndex | undefined;
  const seen = new Set<string>();
  for (let depth = 0; ; depth++) {
    const fetched = await client.getManifest(repo, target, signal);
    const digest = await sha256Of(fetched.bytes);
    if (expected) verifyDigest(digest, expected, `Manifest ${expected}`);
    if (seen.has(digest)) throw new SkiffError('bad-manifest', `The index ${digest} points to itself`);
    seen.add(digest);
    const parsed = parseManifest(fetched.bytes, fetched.contentType);
    if (parsed.kind === 'index') {
      if (depth >= MAX_INDEX_DEPTH)
        throw new SkiffError(
          'bad-manifest',
          `Indexes nest more than ${MAX_INDEX_DEPTH} deep; refusing to follow further`,
        );
      const entry = choosePlatform(parsed, options.platform);
      index ??= indexSummary(parsed, digest);
      target = entry.digest;
      expected = entry.digest;
      continue;
    }
    const configBytes = await client.getSmallBlob(
      repo,
      parsed.config.digest,
      parsed.config.size,
      signal,
      `Config ${parsed.config.digest}`,
    );
    verifyDigest(await sha256Of(configBytes), parsed.config.digest, `Config ${parsed.config.digest}`);
    const config = parseConfig(configBytes);
    checkLayersMatchConfig(parsed, config);
    const platform = normalizePlatform({
      os: config.os || 'linux',
      architecture: config.architecture || 'amd64',
      ...(config.variant ? { variant: config.variant } : {}),
    });
    if (!index && options.platform && !samePlatform(platform, options.platform)) {
      throw new SkiffError(
        'platform-not-found',
        `${formatReference(reference)} is a single-platform image for ${formatPlatform(platform)}, not ${formatPlatform(normalizePlatform(options.platform))}. Available platforms: ${formatPlatform(platform)}`,
        { platforms: [formatPlatform(platform)] },
      );
    }
    return {
      reference,
      ...(index ? { index } : {}),
      manifest: { mediaType: parsed.mediaType, digest, bytes: fetched.bytes, value: parsed },
      config: { digest: parsed.config.digest, bytes: configBytes, value: config },
      platform,
      layers: parsed.layers.map((descriptor, i) => ({
        descriptor,
        diffId: checkDigest(config.diffIds[i], `diff_id ${i + 1}`),
      })),
      compressedSize: parsed.layers.reduce((sum, l) => sum + l.size, 0),
    };
  }
}

function indexSummary(index: ImageIndex, digest: string): ResolvedIndex {
  return {
    mediaType: index.mediaType,
    digest,
    platforms: runnableEntries(index).map((d) => ({
      platform: normalizePlatform(d.platform),
      digest: d.digest,
      mediaType: d.mediaType,
      size: d.size,
    })),
  };
}
