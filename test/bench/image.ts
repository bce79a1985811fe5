/**
 * The bench image: real files from this machine's /usr (~250 MB of tar in four gzip layers, compressing
 * like real images do) plus one ~1 GiB layer that compresses well (a zero-filled file and some text).
 * The far profile's image is the same four real layers without the big one: there the link is the limit.
 * The big image: three layers of 2 GB, each seeded noise and zeros in turn (1/8 noise), gzip level 1: as
 * fast to build as data of that size gets, and a mix that inflates like the bench image does.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CREATED, MediaType, type FileSpec, type PushedImage, pushImage } from '../support/images.ts';
import { pushBlob, pushManifest, type Registry } from '../support/registry.ts';

/** Sizes of the image's parts: the full bench, or a quick one for smoke runs. */
export interface BenchImageSize {
  realBytes: number;
  bigBytes: number;
}
export const FULL_IMAGE: BenchImageSize = { realBytes: 250e6, bigBytes: 2 ** 30 };
export const QUICK_IMAGE: BenchImageSize = { realBytes: 40e6, bigBytes: 64 * 2 ** 20 };

/** Regular files under the given roots, sorted, up to `limit` bytes: real content that compresses like real images. */
export function realFiles(roots: string[], limit: number): { path: string; size: number }[] {
  const found: { path: string; size: number }[] = [];
  let total = 0;
  const walk = (dir: string) => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const name of names) {
      if (total >= limit) return;
      const path = join(dir, name);
      let stat;
      try {
        stat = statSync(path, { throwIfNoEntry: false });
      } catch {
        continue;
      }
      if (!stat) continue;
      if (stat.isDirectory()) walk(path);
      else if (stat.isFile() && stat.size > 0 && stat.size < 50e6) {
        found.push({ path, size: stat.size });
        total += stat.size;
      }
    }
  };
  for (const r of roots) walk(r);
  return found;
}

export async function pushBenchImage(registry: Registry, size: BenchImageSize = FULL_IMAGE): Promise<PushedImage> {
  const files = realFiles(['/usr/share', '/usr/lib/x86_64-linux-gnu'], size.realBytes);
  const perLayer = Math.ceil(files.length / 4);
  const layers = [0, 1, 2, 3].map((i) => ({
    compression: 'gzip' as const,
    files: files
      .slice(i * perLayer, (i + 1) * perLayer)
      .map((f): FileSpec => ({ path: f.path.slice(1), content: readFileSync(f.path) })),
  }));
  layers.push({
    compression: 'gzip',
    files: [
      { path: 'data/zeros.img', content: { zeros: size.bigBytes } },
      { path: 'data/README', content: 'bench\n'.repeat(10_000) },
    ],
  });
  return pushImage(registry, 'bench/app', 'v1', { format: 'oci', layers, config: { Cmd: ['/bin/sh'] } });
}

/**
 * Tags `bench/app:far`: the bench image's real layers (all but the last) with a config of their own. The
 * blobs are in the registry already, so only the config and the manifest are pushed.
 */
export async function pushFarImage(registry: Registry, image: PushedImage): Promise<PushedImage> {
  const layers = image.layers.slice(0, -1);
  const diffIds = layers.map((l) => l.diffId);
  const configBytes = new TextEncoder().encode(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      created: CREATED,
      config: { Cmd: ['/bin/sh'] },
      rootfs: { type: 'layers', diff_ids: diffIds },
      history: layers.map(() => ({ created: CREATED, created_by: 'COPY . / # buildkit' })),
    }),
  );
  const config = await pushBlob(registry, image.repository, configBytes);
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: config.digest, size: config.size },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  };
  const manifestDigest = await pushManifest(registry, image.repository, 'far', manifest);
  return {
    ...image,
    tag: 'far',
    reference: `${image.registry}/${image.repository}:far`,
    manifestDigest,
    manifestBytes: new TextEncoder().encode(JSON.stringify(manifest)),
    configDigest: config.digest,
    configBytes,
    diffIds,
    layers,
  };
}

/** Layer sizes of the big image (bytes of file data per layer), full and quick. */
export const BIG_LAYER_BYTES = 2e9;
export const QUICK_BIG_LAYER_BYTES = 128 * 2 ** 20;

/** `bench/big:v1`: three layers of `layerBytes`, each 8 × (noise then 7 times as many zeros). */
export async function pushBigImage(registry: Registry, layerBytes: number): Promise<PushedImage> {
  const piece = Math.floor(layerBytes / 64);
  const layers = [0, 1, 2].map((l) => ({
    compression: 'gzip' as const,
    level: 1,
    files: Array.from({ length: 8 }, (_, i): FileSpec[] => [
      { path: `big/${l}/noise-${i}.bin`, content: { noise: piece } },
      { path: `big/${l}/zeros-${i}.bin`, content: { zeros: piece * 7 } },
    ]).flat(),
  }));
  return pushImage(registry, 'bench/big', 'v1', { format: 'oci', layers, config: { Cmd: ['/bin/sh'] } });
}
