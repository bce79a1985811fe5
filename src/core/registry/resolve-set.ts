/**
 * Resolving an image with its platform selection: one platform (resolve.ts, as always), several, or all of a
 * multi-platform index. Every selected platform's manifest and config is fetched and verified here, and the
 * index's other manifests that go with them (BuildKit's attestations: small in-toto blobs) are fetched whole,
 * so a pull knows everything but its layers before it writes a byte.
 */
import { SkiffError } from '../errors.ts';
import type { PlatformSelection } from '../image/image-list.ts';
import { type Descriptor, type ImageIndex, choosePlatform, parseManifest, runnableEntries } from '../image/manifest.ts';
import { DEFAULT_PLATFORM, type Platform, formatPlatform, samePlatform } from '../image/platform.ts';
import { type ImageReference, formatReference, parseReference } from '../image/reference.ts';
import { sha256Of, verifyDigest } from '../codecs/sha256.ts';
import { RegistryClients } from './pool.ts';
import { type ResolveOptions, type ResolvedImage, resolve } from './resolve.ts';

/** What a pull is asked for: a reference and, optionally, its platforms (none: the pull's default). */
export interface PullInput {
  reference: string | ImageReference;
  platforms?: PlatformSelection;
}

/** A manifest of the index that is not a runnable image (an attestation), with its blobs, kept as bytes. */
export interface ResolvedArtifact {
  descriptor: Descriptor;
  bytes: Uint8Array;
  blobs: { digest: string; bytes: Uint8Array }[];
}

/** Plain data, like ResolvedImage: one name with the platforms taken from it. */
export interface ResolvedSet {
  reference: ImageReference;
  selection: PlatformSelection;
  /** The registry's index, when the reference names one and more than one platform was asked for. */
  index?: { mediaType: string; digest: string; bytes: Uint8Array; value: ImageIndex };
  /** The selected platforms' images, in the index's order. */
  images: ResolvedImage[];
  artifacts: ResolvedArtifact[];
}

export function isResolvedSet(input: unknown): input is ResolvedSet {
  return typeof input === 'object' && input !== null && 'images' in input && 'selection' in input;
}

/** The one image an archive's `manifest.json` names (what `docker load` tags): `wanted`, else linux/amd64,
 *  else the first selected. */
export function loadImageOf(set: ResolvedSet, wanted?: Platform): ResolvedImage {
  const find = (p: Platform) => set.images.find((image) => samePlatform(image.platform, p));
  return (wanted && find(wanted)) ?? find(DEFAULT_PLATFORM) ?? set.images[0]!;
}

export async function resolveSet(
  input: string | ImageReference,
  selection: PlatformSelection,
  options: ResolveOptions = {},
): Promise<ResolvedSet> {
  const reference = typeof input === 'string' ? parseReference(input) : input;
  const clients = options.clients ?? new RegistryClients(options);
  const withClients = { ...options, clients };
  if (selection !== 'all' && selection.length <= 1) {
    const platform = selection[0] ?? options.platform;
    const image = await resolve(reference, { ...withClients, ...(platform ? { platform } : {}) });
    return { reference, selection, images: [image], artifacts: [] };
  }
  const client = clients.for(reference.registry);
  const fetched = await client.getManifest(
    reference.repository,
    reference.digest ?? reference.tag ?? 'latest',
    options.signal,
  );
  const digest = await sha256Of(fetched.bytes);
  if (reference.digest) verifyDigest(digest, reference.digest, `Manifest ${reference.digest}`);
  const parsed = parseManifest(fetched.bytes, fetched.contentType, { anyLayerTypes: true });
  if (parsed.kind === 'image') {
    // A single-platform image asked for `all` (or for a list holding its platform) is just that image.
    const image = await resolve(reference, withClients);
    if (selection !== 'all' && !selection.some((p) => samePlatform(p, image.platform)))
      throw new SkiffError(
        'platform-not-found',
        `${formatReference(reference)} is a single-platform image for ${formatPlatform(image.platform)}, not ${selection.map(formatPlatform).join(' or ')}`,
        { platforms: [formatPlatform(image.platform)] },
      );
    return { reference, selection, images: [image], artifacts: [] };
  }
  const entries = selection === 'all' ? runnableEntries(parsed) : selection.map((p) => choosePlatform(parsed, p));
  const chosen = [...new Set(entries.map((e) => e.digest))];
  // The platforms, and then their attestations, are asked for at once: each is a round trip or two.
  const images: ResolvedImage[] = await Promise.all(
    chosen.map(async (entryDigest) => {
      const image = await resolve({ ...reference, digest: entryDigest }, withClients);
      // Named as asked (tag kept), not by the platform manifest's digest.
      return { ...image, reference };
    }),
  );
  const attestations = parsed.manifests.filter((descriptor) => {
    if (chosen.includes(descriptor.digest) || runnableEntries({ ...parsed, manifests: [descriptor] }).length)
      return false;
    const about = descriptor.annotations?.['vnd.docker.reference.digest'];
    return selection === 'all' || (!!about && chosen.includes(about));
  });
  const artifacts: ResolvedArtifact[] = await Promise.all(
    attestations.map((descriptor) => fetchArtifact(clients, reference, descriptor, options.signal)),
  );
  return {
    reference,
    selection,
    index: { mediaType: parsed.mediaType, digest, bytes: fetched.bytes, value: parsed },
    images,
    artifacts,
  };
}

/** An attestation manifest and its blobs, each verified; small by nature (in-toto statements). */
async function fetchArtifact(
  clients: RegistryClients,
  reference: ImageReference,
  descriptor: Descriptor,
  signal: AbortSignal | undefined,
): Promise<ResolvedArtifact> {
  const client = clients.for(reference.registry);
  const repo = reference.repository;
  const fetched = await client.getManifest(repo, descriptor.digest, signal);
  verifyDigest(await sha256Of(fetched.bytes), descriptor.digest, `Manifest ${descriptor.digest}`);
  const parsed = parseManifest(fetched.bytes, fetched.contentType, { anyLayerTypes: true });
  if (parsed.kind !== 'image')
    throw new SkiffError(
      'unsupported',
      `The index entry ${descriptor.digest} is an index inside an index of other things`,
    );
  const blobs: ResolvedArtifact['blobs'] = [];
  for (const blob of [parsed.config, ...parsed.layers]) {
    if (blobs.some((b) => b.digest === blob.digest)) continue;
    const bytes = await client.getSmallBlob(
      repo,
      blob.digest,
      blob.size,
      signal,
      `Blob ${blob.digest} of ${descriptor.digest}`,
    );
    verifyDigest(await sha256Of(bytes), blob.digest, `Blob ${blob.digest}`);
    blobs.push({ digest: blob.digest, bytes });
  }
  return { descriptor, bytes: fetched.bytes, blobs };
}
