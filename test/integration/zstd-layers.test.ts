/**
 * zstd layers in the uncompressed mode: the inflated size comes from the frame headers where every frame
 * states it, so the layer is inflated once; a small blob is fetched once whether its frames state sizes or
 * not. Judged by the registry's side of the wire (the fault proxy records each request) and by dockerd
 * 20.10, which reads no zstd layer and so loads these archives only because they are written inflated.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createSha256 } from '../../src/core/codecs/sha256.ts';
import { ZSTD_HOLD_BYTES } from '../../src/core/transfer/plan.ts';
import { type Dockerd, startDockerd } from '../support/dockerd.ts';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.ts';
import { type FileSpec, type PushedImage, prose, pushImage } from '../support/images.ts';
import { scratchDir } from '../support/process.ts';
import { pullToFile } from '../support/pull-to-file.ts';
import { type Registry, startRegistry } from '../support/registry.ts';

let registry: Registry;
let proxy: FaultProxy;
let dockerd: Dockerd;
const images: Record<'stated' | 'silent' | 'big' | 'bigSilent', PushedImage> = {} as never;
const dir = scratchDir('zstd-layers');

const files = (name: string): FileSpec[] => [
  { path: `${name}/text.txt`, content: prose(300_000, name) },
  { path: `${name}/zeros.bin`, content: { zeros: 400_000 } },
  { path: `${name}/noise.bin`, content: { noise: 60_000 } },
];

before(async () => {
  registry = await startRegistry();
  images.stated = await pushImage(registry, 'zstd/stated', 'v1', {
    format: 'oci',
    layers: [
      { compression: 'zstd', zstdContentSize: true, files: files('one-frame') },
      // Several frames, each stating its size: the layer's size is their sum.
      { compression: 'zstd', zstdContentSize: true, members: 3, files: [...files('a'), ...files('b'), ...files('c')] },
    ],
  });
  // Frames from a pipe state no size (the zstd CLI's default when it cannot know it, as fixtures have).
  images.silent = await pushImage(registry, 'zstd/silent', 'v1', {
    format: 'oci',
    layers: [{ compression: 'zstd', files: files('silent') }],
  });
  // Incompressible and bigger than what is held to read the frames: fetched twice, still inflated once.
  images.big = await pushImage(registry, 'zstd/big', 'v1', {
    format: 'oci',
    layers: [
      {
        compression: 'zstd',
        zstdContentSize: true,
        files: [{ path: 'big/noise.bin', content: { noise: ZSTD_HOLD_BYTES + 2 ** 20 } }],
      },
    ],
  });
  images.bigSilent = await pushImage(registry, 'zstd/big-silent', 'v1', {
    format: 'oci',
    layers: [
      { compression: 'zstd', files: [{ path: 'big/noise.bin', content: { noise: ZSTD_HOLD_BYTES + 2 ** 20 } }] },
    ],
  });
  proxy = await startFaultProxy(registry.url);
  dockerd = await startDockerd();
});
after(async () => {
  await dockerd?.stop();
  await proxy?.stop();
  await registry?.stop();
  dir.remove();
});

/** Pulls through the proxy; counts blob GETs per layer digest and how many times layers were inflated. */
async function pullCounting(image: PushedImage) {
  proxy.reset();
  let inflatePasses = 0;
  const tar = join(dir.path, `${image.repository.replace('/', '-')}.tar`);
  const result = await pullToFile([`${proxy.host}/${image.repository}:${image.tag}`], tar, {
    layers: 'uncompressed',
    parallel: 4,
    // Called once per pass that inflates a layer (to measure it or to write it).
    sha256: () => (inflatePasses++, createSha256()),
  });
  const blobGets = image.layers.map(
    (layer) => proxy.requests.filter((r) => r.method === 'GET' && r.path.endsWith(`/blobs/${layer.digest}`)).length,
  );
  const blobBytes = image.layers.map((layer) =>
    proxy.requests.filter((r) => r.path.endsWith(`/blobs/${layer.digest}`)).reduce((n, r) => n + r.bytes, 0),
  );
  return { tar, result, blobGets, blobBytes, inflatePasses };
}

async function assertLoads(tar: string, image: PushedImage) {
  await dockerd.load(tar);
  const inspected = await dockerd.inspect(image.configDigest);
  assert.equal(inspected.Id, image.configDigest, 'image ID is the registry config digest');
  assert.deepEqual(inspected.RootFS.Layers, image.diffIds, 'layers are the config diff_ids');
  await dockerd.docker(['rmi', '-f', image.configDigest]);
}

test('zstd frames that state their sizes: each blob is requested once and inflated once, and dockerd loads it', async () => {
  const pulled = await pullCounting(images.stated);
  assert.deepEqual(pulled.blobGets, [1, 1], 'one GET per zstd blob');
  assert.equal(pulled.inflatePasses, 2, 'each of the two layers inflated once');
  await assertLoads(pulled.tar, images.stated);
});

test('zstd frames without sizes: a small blob is still requested once (held), and measured before it is written', async () => {
  const pulled = await pullCounting(images.silent);
  assert.deepEqual(pulled.blobGets, [1]);
  assert.equal(pulled.inflatePasses, 2, 'measured, then written');
  await assertLoads(pulled.tar, images.silent);
});

test('a zstd blob too big to hold is fetched twice but inflated once when its frames state the size', async () => {
  const pulled = await pullCounting(images.big);
  const layer = images.big.layers[0]!;
  assert.ok(layer.size > ZSTD_HOLD_BYTES, `the blob (${layer.size} bytes) is bigger than what is held`);
  assert.equal(pulled.blobBytes[0], 2 * layer.size, 'read once for its frame headers, once to write it');
  assert.equal(pulled.inflatePasses, 1);
  await assertLoads(pulled.tar, images.big);
});

test('a zstd blob too big to hold, without stated sizes: measured from its first fetch, written from its second', async () => {
  const pulled = await pullCounting(images.bigSilent);
  const layer = images.bigSilent.layers[0]!;
  assert.equal(pulled.blobBytes[0], 2 * layer.size, 'no third fetch to measure it');
  assert.equal(pulled.inflatePasses, 2);
  await assertLoads(pulled.tar, images.bigSilent);
});
