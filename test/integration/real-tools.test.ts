/**
 * Images made by real tools (umoci, skopeo, buildah, podman with gzip and zstd:chunked, docker build), pushed
 * to a real registry and pulled with Skiff in both layer modes: each archive must `docker load` with the
 * registry's config digest as the image ID and the config's diff_ids as its layers. These tools write layers
 * our own builder does not (umoci's end right after the last file's data), so they keep the tar check honest.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { LayerMode } from '../../src/core/pull.ts';
import { type Dockerd, startDockerd } from '../support/dockerd.ts';
import { scratchDir } from '../support/process.ts';
import { pullToFile, readJsonFromTar } from '../support/pull-to-file.ts';
import {
  type RealTool,
  type ToolImage,
  type ToolImages,
  layerTar,
  pushRealToolImages,
} from '../support/real-tool-images.ts';
import { type Registry, startRegistry } from '../support/registry.ts';
import { skopeoInspectArchive } from '../support/skopeo.ts';

let registry: Registry;
let dockerd: Dockerd;
let made: ToolImages;
const dir = scratchDir('real-tools-pull');

before(async () => {
  registry = await startRegistry();
  dockerd = await startDockerd();
  made = await pushRealToolImages(registry, dockerd);
});

after(async () => {
  made?.remove();
  await dockerd?.stop();
  await registry?.stop();
  dir.remove();
});

const TOOLS: RealTool[] = ['umoci', 'skopeo', 'buildah', 'podman', 'podman-zstd-chunked', 'docker-build'];
const MODES: LayerMode[] = ['uncompressed', 'as-pulled'];

/** The image, or the test is skipped with the tool's own reason (a tool that cannot run here as root offline). */
function imageOf(tool: RealTool, t: { skip(message: string): void }): ToolImage | undefined {
  const image = made.images[tool];
  if (!image) t.skip(`${tool} could not make an image on this machine: ${made.unavailable[tool] ?? 'unknown'}`);
  return image;
}

describe('images made by real tools load into docker with the right ID', () => {
  for (const tool of TOOLS) {
    for (const mode of MODES) {
      test(`${tool} (${mode})`, async (t) => {
        const image = imageOf(tool, t);
        if (!image) return;
        const tar = join(dir.path, `${tool}-${mode}.tar`);
        const result = await pullToFile([image.reference], tar, { layers: mode });
        assert.equal(result.images[0]!.configDigest, image.configDigest);
        const zstd = image.layers.some((l) => l.mediaType.endsWith('+zstd'));
        if (zstd && mode === 'as-pulled') {
          // dockerd 20.10 reads no zstd: check the archive keeps the registry's manifest and skopeo reads it.
          const index = await readJsonFromTar(tar, 'index.json');
          assert.equal(index.manifests[0].digest, image.manifestDigest);
          const inspected = await skopeoInspectArchive(tar);
          assert.equal(inspected.Layers.length, image.layers.length);
          return;
        }
        await dockerd.load(tar);
        const inspected = await dockerd.inspect(image.configDigest);
        assert.equal(inspected.Id, image.configDigest, 'image ID is the registry config digest');
        assert.deepEqual(inspected.RootFS.Layers, image.diffIds, 'layers are the config diff_ids');
        assert.ok(inspected.RepoTags.includes(image.reference), `tagged ${image.reference}: ${inspected.RepoTags}`);
        await dockerd.docker(['rmi', '-f', image.configDigest]);
      });
    }
  }

  test('the umoci fixture really has layers that end right after the last file, without end blocks', async (t) => {
    const image = imageOf('umoci', t);
    if (!image) return;
    const ends = await Promise.all(image.layers.map(async (_, i) => (await layerTar(registry, image, i)).byteLength));
    assert.ok(
      ends.every((bytes) => bytes % 512 !== 0),
      `every umoci layer stops inside a 512-byte block: ${ends.join(', ')}`,
    );
  });

  test('podman zstd:chunked is really zstd', (t) => {
    const image = imageOf('podman-zstd-chunked', t);
    if (!image) return;
    assert.ok(
      image.layers.every((l) => l.mediaType.endsWith('+zstd')),
      image.layers.map((l) => l.mediaType).join(', '),
    );
  });
});
