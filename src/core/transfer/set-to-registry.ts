/**
 * A set of images into a registry (push of an archive, copy of a list): each *unit* — one image, or an index
 * with every manifest it names — to its target. A unit the registry already holds with the same digest is
 * skipped (a HEAD of the manifest by digest; then only the tag is put, or nothing when the tag names it
 * already); the rest move in one transfer (to-registry.ts): every blob first, then the manifests, then the
 * indexes, and tags only once every check passed. Progress and the result come per unit and in total.
 */
import type { ImageReference } from '../image/reference.ts';
import type { RegistryDestination } from './registry-destination.ts';
import type { SourceImage } from './source.ts';
import { type ToRegistryOptions, toRegistry } from './to-registry.ts';
import type { TransferProgress, TransferResult, TransferredImage } from './types.ts';

type ManifestBytes = { bytes: Uint8Array; digest: string; mediaType: string };

export interface SetUnit {
  /** What the person calls it (the archive's name, the list's reference). */
  name: string;
  target: ImageReference;
  /** Its images; an index's are put by digest, then the index under the tag. */
  images: SourceImage[];
  index?: ManifestBytes;
  /** The manifest or index put under the tag, when known before moving (kept byte for byte). */
  keeps?: ManifestBytes;
  /** In plain words, why the digest will not be the source's (when it will not). */
  note?: string;
}

/** `skipped`: the tag already named the same digest; `tagged`: the registry held it, only the tag was put. */
export type UnitState = 'waiting' | 'moving' | 'pushed' | 'tagged' | 'skipped';

export interface UnitProgress {
  state: UnitState;
  bytes: number;
  totalBytes: number;
}

/** `imageUnits`: the unit of each image the transfer moves (a blob row's `image` is its number there). */
export type SetProgress = TransferProgress & { units: UnitProgress[]; imageUnits: number[] };

export interface UnitResult {
  name: string;
  /** `registry/repo:tag` it went to. */
  target: string;
  /** What the tag names now: the index's or the image's manifest digest. */
  digest: string;
  mediaType: string;
  platforms: string[];
  state: Exclude<UnitState, 'waiting' | 'moving'>;
  /** The digest is the source's own (its manifest or index byte for byte). */
  keptDigest: boolean;
  note?: string;
  images: TransferredImage[];
}

export type SetResult = TransferResult & { units: UnitResult[] };

export interface SetOptions extends Omit<ToRegistryOptions, 'onProgress'> {
  onProgress?: (progress: SetProgress) => void;
  sequential?: boolean;
}

export async function setToRegistry(
  units: SetUnit[],
  destination: RegistryDestination,
  options: SetOptions = {},
): Promise<SetResult> {
  const { signal } = options;
  const tag = (unit: SetUnit) => unit.target.tag ?? 'latest';
  // What the registry holds already, asked before any byte moves.
  const held = await Promise.all(
    units.map(async (unit) =>
      unit.keeps ? destination.manifestState(unit.target, tag(unit), unit.keeps.digest) : undefined,
    ),
  );
  const moving = units.map((_, i) => !held[i]);
  const unitOf: number[] = [];
  const images: { image: SourceImage; target: ImageReference; byDigest?: boolean }[] = [];
  const indexes: (ManifestBytes & { target: ImageReference })[] = [];
  units.forEach((unit, u) => {
    if (!moving[u]) return;
    for (const image of unit.images) {
      unitOf.push(u);
      images.push({ image, target: unit.target, ...(unit.index ? { byDigest: true } : {}) });
    }
    if (unit.index) indexes.push({ ...unit.index, target: unit.target });
  });
  const unitProgress = (p: TransferProgress): UnitProgress[] =>
    units.map((_, u) => {
      const rows = p.blobs.filter((b) => unitOf[b.image] === u);
      const bytes = rows.reduce(
        (s, b) => s + (['exists', 'mounted', 'shared'].includes(b.state) ? b.size : b.bytes),
        0,
      );
      const totalBytes = rows.reduce((s, b) => s + b.size, 0);
      const state: UnitState = held[u] === 'tagged' ? 'skipped' : held[u] ? 'tagged' : bytes > 0 ? 'moving' : 'waiting';
      return { state, bytes, totalBytes };
    });
  let last: SetProgress | undefined;
  const moved = await toRegistry(
    { images, indexes, ...(options.sequential ? { sequential: true } : {}) },
    destination,
    {
      ...(signal ? { signal } : {}),
      ...(options.progressIntervalMs !== undefined ? { progressIntervalMs: options.progressIntervalMs } : {}),
      ...(options.onProgress
        ? {
            onProgress: (p: TransferProgress) =>
              options.onProgress!((last = { ...p, units: unitProgress(p), imageUnits: unitOf })),
          }
        : {}),
    },
  );
  // Only the tag for what the registry held by digest: nothing else was wrong, so tags may go on now.
  for (const [u, unit] of units.entries())
    if (held[u] === 'held' && unit.keeps) await destination.putManifest(unit.target, tag(unit), unit.keeps);

  let nextIndex = 0;
  const results = units.map((unit, u): UnitResult => {
    const own = moved.images.filter((_, i) => unitOf[i] === u);
    const put = moving[u] && unit.index ? moved.indexes[nextIndex++] : undefined;
    const top = put ?? (own[0] ? { digest: own[0].manifestDigest, mediaType: own[0].mediaType } : unit.keeps!);
    const digest = top.digest;
    return {
      name: unit.name,
      target: `${unit.target.registry}/${unit.target.repository}:${tag(unit)}`,
      digest,
      mediaType: top.mediaType,
      platforms: unit.images.map((i) => i.platform).filter(Boolean),
      state: held[u] === 'tagged' ? 'skipped' : held[u] ? 'tagged' : 'pushed',
      keptDigest: !!unit.keeps && unit.keeps.digest === digest,
      ...(unit.note ? { note: unit.note } : {}),
      images: own,
    };
  });
  if (last) {
    const units = results.map((r, u) => ({ ...last!.units[u]!, state: r.state }));
    options.onProgress?.({ ...last, units });
  }
  const notes = results.filter((r) => r.note).map((r) => `${r.name} → ${r.target}: ${r.note}`);
  return { ...moved, notes: [...moved.notes, ...notes], units: results };
}
