/**
 * The size an as-pulled tar is announced with before the download starts (src/core/archive-size.ts) is the
 * size the pull then writes, byte for byte: a wrong one would make the browser cut or fail every download.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { archiveSize, asPulledArchiveSize } from '../../src/core/archive/size.ts';
import { createSha256 } from '../../src/core/codecs/sha256.ts';
import { planLayerSize } from '../../src/core/image/layer-size.ts';
import { layerCompression } from '../../src/core/image/media-types.ts';
import type { LayerMode } from '../../src/core/transfer/types.ts';
import type { ResolvedImage } from '../../src/core/registry/resolve.ts';
import { kitSize, pullKit } from '../../src/core/pull.ts';
import { pull } from '../../src/core/pull.ts';
import { RegistryClient } from '../../src/core/registry/client.ts';
import { resolve } from '../../src/core/registry/resolve.ts';
import { pushFixtures, type Fixtures } from '../support/images.ts';
import { startRegistry, type Registry } from '../support/registry.ts';
import { recordingSink } from '../support/pull-to-file.ts';

let registry: Registry;
let fixtures: Fixtures;

before(async () => {
  registry = await startRegistry();
  fixtures = await pushFixtures(registry);
});

after(async () => {
  await registry?.stop();
});

describe('the as-pulled archive size, known up front', () => {
  it('is what the pull writes, for every fixture and for several images with shared layers', async () => {
    const host = registry.host;
    const cases: string[][] = [
      ['small/docker:v1'],
      ['small/oci:v1'],
      ['multi/app:v1'],
      ['multi/list:v1'],
      ['codec/zstd:v1'],
      ['codec/plain:v1'],
      ['codec/multimember:v1'],
      ['codec/mixed:v1'],
      ['names/odd:v1'],
      ['many/layers:v1'],
      ['shared/a:v1', 'shared/b:v1'],
      ['small/docker:v1', 'small/docker:v1'],
      [`small/oci@${fixtures.small.oci.manifestDigest}`],
    ];
    for (const names of cases) {
      const images = await Promise.all(names.map((n) => resolve(`${host}/${n}`)));
      const predicted = await asPulledArchiveSize(images);
      const { sink, state, bytes } = recordingSink();
      const result = await pull(images, sink, { layers: 'as-pulled' });
      assert.equal(state.closed, true);
      assert.equal(predicted, bytes().byteLength, names.join(' + '));
      assert.equal(predicted, result.bytesWritten, names.join(' + '));
    }
  });
});

/** Inflated layer sizes as the page learns them before a pull: each gzip layer's trailer (8 bytes). */
async function trailerSizes(images: ResolvedImage[]): Promise<Record<string, number>> {
  const sizes: Record<string, number> = {};
  for (const image of images)
    for (const { descriptor } of image.layers) {
      const compression = layerCompression(descriptor.mediaType);
      if (compression !== 'gzip') continue;
      const tail = await new RegistryClient(image.reference.registry).blobTail(
        image.reference.repository,
        descriptor.digest,
        descriptor.size,
        8,
      );
      const plan = planLayerSize(descriptor, compression, tail);
      if (plan.kind === 'exact') sizes[descriptor.digest] = plan.size;
    }
  return sizes;
}

describe('the size estimate before a download', () => {
  // One image; three images of one index (a shared base layer); two tags of one image.
  const cases = [
    ['small/docker:v1'],
    ['multi/app:v1', 'multi/list:v1', 'small/oci:v1'],
    ['shared/a:v1', 'shared/b:v1'],
  ];
  const modes: LayerMode[] = ['as-pulled', 'uncompressed'];

  it('is the tar’s size in both layer modes, for one image and for several', async () => {
    for (const names of cases) {
      const images = await Promise.all(names.map((n) => resolve(`${registry.host}/${n}`)));
      const sizes = await trailerSizes(images);
      for (const mode of modes) {
        const estimate = await archiveSize(images, mode, sizes);
        const result = await pull(images, recordingSink().sink, { layers: mode });
        assert.deepEqual(estimate, { bytes: result.bytesWritten, exact: true }, `${mode}: ${names.join(' + ')}`);
      }
    }
  });

  it('is the offline kit’s size in both layer modes, for one image and for several', async () => {
    for (const names of cases) {
      const images = await Promise.all(names.map((n) => resolve(`${registry.host}/${n}`)));
      const items = images.map((image, i) => ({ image, tarName: `image-${i}_v1.tar` }));
      const sizes = await trailerSizes(images);
      for (const mode of modes) {
        const estimate = await kitSize(items, mode, sizes);
        const { sink, bytes } = recordingSink();
        await pullKit(items, sink, {
          layers: mode,
          signal: new AbortController().signal,
          onProgress: () => {},
          sha256: createSha256,
        });
        assert.deepEqual(estimate, { bytes: bytes().byteLength, exact: true }, `${mode} kit: ${names.join(' + ')}`);
      }
    }
  });
});
