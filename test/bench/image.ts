/**
 * The bench image: real files from this machine's /usr (~250 MB of tar in four gzip layers, compressing
 * like real images do) plus one ~1 GiB layer that compresses well (a zero-filled file and some text).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type FileSpec, type PushedImage, pushImage } from '../support/images.ts';
import type { Registry } from '../support/registry.ts';

const REAL_BYTES = 250e6;
const BIG_BYTES = 2 ** 30;

/** Regular files under the given roots, sorted, up to `limit` bytes: real content that compresses like real images. */
function realFiles(roots: string[], limit: number): { path: string; size: number }[] {
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

export async function pushBenchImage(registry: Registry): Promise<PushedImage> {
  const files = realFiles(['/usr/share', '/usr/lib/x86_64-linux-gnu'], REAL_BYTES);
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
      { path: 'data/zeros.img', content: { zeros: BIG_BYTES } },
      { path: 'data/README', content: 'bench\n'.repeat(10_000) },
    ],
  });
  return pushImage(registry, 'bench/app', 'v1', { format: 'oci', layers, config: { Cmd: ['/bin/sh'] } });
}
