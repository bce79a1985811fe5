/**
 * The engine against a real registry and real consumers: every fixture image, in both layer modes, is
 * pulled into an archive that `docker load` accepts with the registry's config digest as the image ID and
 * the config's diff_ids as its layers; skopeo reads the same archives.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { LayerMode, TransferProgress } from '../../src/core/pull.ts';
import { parsePlatform } from '../../src/core/image/platform.ts';
import { type Dockerd, startDockerd } from '../support/dockerd.ts';
import { type Fixtures, type PushedImage, pushFixtures } from '../support/images.ts';
import { scratchDir } from '../support/process.ts';
import { pullToFile, readJsonFromTar, tarEntries } from '../support/pull-to-file.ts';
import { type Registry, startRegistry } from '../support/registry.ts';
import { skopeo, skopeoInspectArchive } from '../support/skopeo.ts';

let registry: Registry;
let fixtures: Fixtures;
let dockerd: Dockerd;
const dir = scratchDir('archive');

before(async () => {
  registry = await startRegistry();
  fixtures = await pushFixtures(registry);
  dockerd = await startDockerd();
});

after(async () => {
  await dockerd?.stop();
  await registry?.stop();
  dir.remove();
});

/** Loads an archive into the test dockerd and checks what docker made of it; removes it again after. */
async function assertLoads(tar: string, image: PushedImage, tag: string | undefined) {
  const { stdout } = await dockerd.load(tar);
  const inspected = await dockerd.inspect(image.configDigest);
  assert.equal(inspected.Id, image.configDigest, 'image ID is the registry config digest');
  assert.deepEqual(inspected.RootFS.Layers, image.diffIds, 'layers are the config diff_ids');
  if (tag) {
    assert.match(stdout, new RegExp(`Loaded image: ${tag.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.ok(inspected.RepoTags.includes(tag), `tagged ${tag}: ${inspected.RepoTags}`);
  }
  await dockerd.docker(['rmi', '-f', image.configDigest]);
}

const MODES: LayerMode[] = ['uncompressed', 'as-pulled'];

describe('single images load into docker with the right ID and layers', () => {
  const cases: [string, (f: Fixtures) => PushedImage][] = [
    ['docker v2s2, gzip, whiteouts, links', (f) => f.small.docker],
    ['OCI, gzip', (f) => f.small.oci],
    ['OCI, uncompressed layers', (f) => f.codec.plain],
    ['multi-member gzip', (f) => f.codec.multimember],
    ['long, unicode and odd file names', (f) => f.names.odd],
    ['32 layers', (f) => f.many.layers],
  ];
  for (const [name, pick] of cases) {
    for (const mode of MODES) {
      test(`${name} (${mode})`, async () => {
        const image = pick(fixtures);
        const tar = join(dir.path, `${image.repository.replace('/', '-')}-${mode}.tar`);
        const result = await pullToFile([image.reference], tar, { layers: mode });
        assert.equal(result.images[0]!.configDigest, image.configDigest);
        await assertLoads(tar, image, `${image.reference}`);
      });
    }
  }

  test('zstd layers are inflated in uncompressed mode, so even dockerd 20.10 loads them', async () => {
    for (const image of [fixtures.codec.zstd, fixtures.codec.mixed]) {
      const tar = join(dir.path, `${image.repository.replace('/', '-')}.tar`);
      await pullToFile([image.reference], tar);
      await assertLoads(tar, image, image.reference);
    }
  });

  test('zstd layers as pulled keep the registry manifest, and skopeo reads the archive', async () => {
    const image = fixtures.codec.zstd;
    const tar = join(dir.path, 'zstd-as-pulled.tar');
    await pullToFile([image.reference], tar, { layers: 'as-pulled' });
    const index = await readJsonFromTar(tar, 'index.json');
    assert.equal(index.manifests[0].digest, image.manifestDigest);
    const inspected = await skopeoInspectArchive(tar);
    assert.deepEqual(
      inspected.LayersData?.map((l: { MIMEType: string }) => l.MIMEType).length ?? inspected.Layers.length,
      image.layers.length,
    );
    await skopeo(['copy', `docker-archive:${tar}`, `oci:${join(dir.path, 'zstd-copied')}:v1`]);
    assert.deepEqual(inspected.Layers.length, image.layers.length);
  });
});

describe('archive layout', () => {
  test('as-pulled keeps the manifest digest in index.json and the blobs as served', async () => {
    const image = fixtures.small.oci;
    const tar = join(dir.path, 'layout-as-pulled.tar');
    await pullToFile([image.reference], tar, { layers: 'as-pulled' });
    const entries = await tarEntries(tar);
    const index = await readJsonFromTar(tar, 'index.json');
    assert.equal(index.manifests[0].digest, image.manifestDigest);
    assert.equal(index.manifests[0].annotations['org.opencontainers.image.ref.name'], 'v1');
    assert.equal(index.manifests[0].annotations['io.containerd.image.name'], image.reference);
    for (const layer of image.layers) assert.ok(entries.has(`blobs/sha256/${layer.digest.slice(7)}`));
    assert.deepEqual(JSON.parse(entries.get('oci-layout')!.toString()), { imageLayoutVersion: '1.0.0' });
    const manifest = await readJsonFromTar(tar, 'manifest.json');
    assert.deepEqual(manifest[0].RepoTags, [image.reference]);
    assert.equal(manifest[0].Config, `blobs/sha256/${image.configDigest.slice(7)}`);
  });

  test('uncompressed layers are named by diff_id and skopeo copies the archive with every digest checked', async () => {
    const image = fixtures.small.docker;
    const tar = join(dir.path, 'layout-uncompressed.tar');
    await pullToFile([image.reference], tar, { layers: 'uncompressed' });
    const manifest = await readJsonFromTar(tar, 'manifest.json');
    assert.deepEqual(
      manifest[0].Layers,
      image.diffIds.map((d) => `blobs/sha256/${d.slice(7)}`),
    );
    await skopeo(['copy', `docker-archive:${tar}`, `oci:${join(dir.path, 'copied')}:v1`]);
  });

  test('two images in one archive share their common layers once and both load', async () => {
    const { a, b } = fixtures.shared;
    const tar = join(dir.path, 'two.tar');
    const result = await pullToFile([a.reference, b.reference], tar, { layers: 'uncompressed' });
    assert.equal(result.images.length, 2);
    const entries = [...(await tarEntries(tar)).keys()];
    for (const diffId of a.diffIds.slice(0, 2)) {
      assert.equal(
        entries.filter((e) => e === `blobs/sha256/${diffId.slice(7)}`).length,
        1,
        'shared layer stored once',
      );
    }
    const manifest = await readJsonFromTar(tar, 'manifest.json');
    assert.equal(manifest.length, 2);
    const { stdout } = await dockerd.load(tar);
    assert.match(stdout, /shared\/a:v1/);
    assert.match(stdout, /shared\/b:v1/);
    for (const image of [a, b]) {
      const inspected = await dockerd.inspect(image.configDigest);
      assert.deepEqual(inspected.RootFS.Layers, image.diffIds);
    }
    await dockerd.docker(['rmi', '-f', a.configDigest, b.configDigest]);
  });

  test('progress counts every blob byte once, only ever grows, and ends with each layer done or shared', async () => {
    const { a, b } = fixtures.shared;
    const events: TransferProgress[] = [];
    await pullToFile([a.reference, b.reference], join(dir.path, 'progress.tar'), {
      onProgress: (p) => events.push(p),
      progressIntervalMs: 0,
    });
    const last = events.at(-1)!;
    const unique = new Map([...a.layers, ...b.layers].map((l) => [l.digest, l.size]));
    assert.equal(
      last.totalBytes,
      [...unique.values()].reduce((x, y) => x + y, 0),
    );
    assert.equal(last.bytes, last.totalBytes);
    assert.deepEqual(
      last.blobs.map((l) => l.state),
      [...a.layers.map(() => 'done'), 'shared', 'shared', 'done'],
    );
    for (let i = 1; i < events.length; i++) assert.ok(events[i]!.bytes >= events[i - 1]!.bytes);
    assert.ok((last.written ?? 0) > 0);
  });

  test('a digest-only reference loads untagged, and the result says so', async () => {
    const image = fixtures.small.docker;
    const tar = join(dir.path, 'by-digest.tar');
    const ref = `${image.registry}/${image.repository}@${image.manifestDigest}`;
    const result = await pullToFile([ref], tar);
    assert.deepEqual(result.images[0]!.repoTags, []);
    assert.ok(result.notes.some((n) => n.includes('untagged')));
    await assertLoads(tar, image, undefined);
  });
});

describe('multi-platform indexes', () => {
  test('the platform asked for is the one pulled; linux/amd64 by default', async () => {
    const index = fixtures.multi.app;
    for (const [platform, key] of [
      [undefined, 'linux/amd64'],
      ['linux/arm64', 'linux/arm64/v8'],
      ['linux/arm/v7', 'linux/arm/v7'],
    ] as const) {
      const expected = index.byPlatform[key] ?? index.byPlatform[key.replace('/v8', '')];
      assert.ok(expected, `fixture has ${key}: ${Object.keys(index.byPlatform)}`);
      const tar = join(dir.path, `multi-${key.replaceAll('/', '-')}.tar`);
      const result = await pullToFile([index.reference], tar, platform ? { platform: parsePlatform(platform) } : {});
      assert.equal(result.images[0]!.configDigest, expected.configDigest);
      await assertLoads(tar, expected, index.reference);
    }
  });

  test('a Docker manifest list resolves too', async () => {
    const list = fixtures.multi.list;
    const arm = list.byPlatform['linux/arm64'] ?? list.byPlatform['linux/arm64/v8'];
    assert.ok(arm, `fixture has linux/arm64: ${Object.keys(list.byPlatform)}`);
    const tar = join(dir.path, 'list-arm64.tar');
    await pullToFile([list.reference], tar, { platform: parsePlatform('linux/aarch64'), layers: 'as-pulled' });
    await assertLoads(tar, arm, list.reference);
  });
});
