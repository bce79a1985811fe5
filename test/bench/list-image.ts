/**
 * The list profile's images: 20 repositories `bench/list-NN:v1`, each one of three shared base layers (real
 * files from this machine's /usr, gzip -6) plus a layer of its own (seeded noise, so it compresses to its own
 * size, plus a line of text): 5–50 MB each on the wire (quick: a tenth of that). Shared bases are fetched once
 * by a tool that pulls the list together, once per image by one that copies image by image.
 */
import { readFileSync } from 'node:fs';
import { type FileSpec, type LayerSpec, type PushedImage, pushImage } from '../support/images.ts';
import type { Registry } from '../support/registry.ts';
import { realFiles } from './image.ts';

export const LIST_LENGTH = 20;

export interface PushedList {
  images: PushedImage[];
  /** Bytes a tool that fetches each blob once moves: every distinct blob, configs and manifests included. */
  distinctBytes: number;
  /** Bytes of the images one after another (shared bases counted each time). */
  sumBytes: number;
}

export async function pushListImages(registry: Registry, quick: boolean): Promise<PushedList> {
  const scale = quick ? 0.1 : 1;
  const files = realFiles(['/usr/bin', '/usr/sbin', '/usr/lib/python3'], 90e6 * scale);
  // Bases of about 45, 30 and 15 MB of real files (about 40 % of that once compressed).
  const cuts = [0, Math.floor(files.length / 2), Math.floor((files.length * 5) / 6), files.length];
  const bases: LayerSpec[] = [0, 1, 2].map((b) => ({
    compression: 'gzip',
    files: files
      .slice(cuts[b], cuts[b + 1])
      .map((f): FileSpec => ({ path: f.path.slice(1), content: readFileSync(f.path) })),
  }));
  const images: PushedImage[] = [];
  for (let i = 0; i < LIST_LENGTH; i++) {
    const own = Math.round((5 + ((i * 17) % 41)) * 1e6 * scale);
    const layers: LayerSpec[] = [
      bases[i % 3]!,
      {
        compression: 'gzip',
        level: 1,
        files: [
          { path: `app/${i}/data.bin`, content: { noise: own } },
          { path: `app/${i}/VERSION`, content: `list image ${i}\n` },
        ],
      },
    ];
    const name = `bench/list-${String(i + 1).padStart(2, '0')}`;
    images.push(await pushImage(registry, name, 'v1', { format: 'oci', layers, config: { Cmd: [`/app/${i}`] } }));
  }
  const blobs = new Map<string, number>();
  let sumBytes = 0;
  for (const image of images) {
    const own = [
      ...image.layers.map((l) => [l.digest, l.size] as const),
      [image.configDigest, image.configBytes.length] as const,
      [image.manifestDigest, image.manifestBytes.length] as const,
    ];
    for (const [digest, size] of own) {
      blobs.set(digest, size);
      sumBytes += size;
    }
  }
  return { images, distinctBytes: [...blobs.values()].reduce((s, n) => s + n, 0), sumBytes };
}
