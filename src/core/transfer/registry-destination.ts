/**
 * A registry as a transfer's destination (push, copy): a blob it already holds is skipped (HEAD), one
 * another repository of the same registry holds is mounted, any other is uploaded in chunks (registry/
 * upload.ts) and committed only once the source's checks passed. Manifests go in byte for byte, and the
 * digest the registry answers must be the one sent.
 */
import { SkiffError } from '../errors.ts';
import type { ImageReference } from '../image/reference.ts';
import type { RegistryClient } from '../registry/client.ts';
import type { RegistryClients } from '../registry/pool.ts';
import { type BlobStream, tryMount, uploadBlob } from '../registry/upload.ts';

export interface RegistryDestinationOptions {
  signal?: AbortSignal;
  /** Upload chunk size (default 4 MiB: GHCR refuses more). */
  chunkBytes?: number;
}

export class RegistryDestination {
  /** Per registry: digest → a repository that holds it now (for mounts). */
  private readonly holders = new Map<string, Map<string, string>>();

  constructor(
    private readonly clients: RegistryClients,
    private readonly options: RegistryDestinationOptions = {},
  ) {}

  private client(target: ImageReference): RegistryClient {
    return this.clients.for(target.registry);
  }

  private holder(registry: string): Map<string, string> {
    let map = this.holders.get(registry);
    if (!map) this.holders.set(registry, (map = new Map()));
    return map;
  }

  /** The blob is in `target`'s repository now: later repositories of the registry may mount it from there. */
  stored(target: ImageReference, digest: string): void {
    this.holder(target.registry).set(digest, target.repository);
  }

  /**
   * Whether the blob needs no upload: `exists` (HEAD), `mounted` from a repository that got it in this run
   * or from `mountFrom` (the source repository, on the same registry), or undefined: upload it.
   */
  async reuse(target: ImageReference, digest: string, mountFrom?: string): Promise<'exists' | 'mounted' | undefined> {
    const { signal } = this.options;
    const client = this.client(target);
    const repo = target.repository;
    if (await client.hasBlob(repo, digest, signal)) return 'exists';
    const candidates = [this.holder(target.registry).get(digest), mountFrom];
    for (const from of new Set(candidates)) {
      if (from && from !== repo && (await tryMount(client, repo, digest, from, signal))) return 'mounted';
    }
    return undefined;
  }

  /** Uploads what `open` produces (afresh for each attempt); the stream's own checks decide the commit. */
  upload(target: ImageReference, open: () => BlobStream): Promise<{ digest: string; size: number }> {
    const { signal, chunkBytes } = this.options;
    return uploadBlob(this.client(target), target.repository, open, {
      ...(chunkBytes ? { chunkBytes } : {}),
      ...(signal ? { signal } : {}),
    });
  }

  /** What the registry holds of a manifest: `tagged` (the tag names it), `held` (by digest only), or undefined. */
  async manifestState(target: ImageReference, tag: string, digest: string): Promise<'tagged' | 'held' | undefined> {
    const client = this.client(target);
    const { signal } = this.options;
    if (!(await client.manifestDigest(target.repository, digest, signal))) return undefined;
    return (await client.manifestDigest(target.repository, tag, signal)) === digest ? 'tagged' : 'held';
  }

  /** PUT a manifest under `reference` (a tag, or a digest for an index's images); it must keep `digest`. */
  async putManifest(
    target: ImageReference,
    reference: string,
    manifest: { bytes: Uint8Array; digest: string; mediaType: string },
  ): Promise<void> {
    const answered = await this.client(target).putManifest(
      target.repository,
      reference,
      manifest.bytes,
      manifest.mediaType,
      this.options.signal,
    );
    if (answered && answered !== manifest.digest)
      throw new SkiffError(
        'digest-mismatch',
        `The registry stored the manifest as ${answered}, not ${manifest.digest}: it changed what was sent`,
      );
  }
}
