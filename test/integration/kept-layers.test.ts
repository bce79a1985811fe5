/**
 * The default layer mode, `kept`: gzip and plain tar layers stay as the registry served them, so the image's
 * manifest in the archive is the registry's (same digest) and the config byte for byte (same image ID); only
 * zstd layers, which dockerd 20.10 cannot read, are inflated, with a note. The diff_id check of a kept layer
 * is docker load's unless `checkDiffIds` asks for it here. Judged by dockerd 20.10 and skopeo.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { SkiffError } from '../../src/core/errors.ts';
import { type Dockerd, startDockerd } from '../support/dockerd.ts';
import { type PushedImage, SMALL_CONFIG, prose, pushImage, smallLayers } from '../support/images.ts';
import { scratchDir } from '../support/process.ts';
import { pullToFile, readJsonFromTar, tarEntries } from '../support/pull-to-file.ts';
import { type Registry, pushBlob, pushManifest, startRegistry } from '../support/registry.ts';
import { skopeo } from '../support/skopeo.ts';
import { tarEntries as buildTar } from '../support/tar-build.ts';

let registry: Registry;
let dockerd: Dockerd;
let gzip: PushedImage;
let mixed: PushedImage;
const dir = scratchDir('kept-layers');

before(async () => {
  registry = await startRegistry();
  gzip = await pushImage(registry, 'kept/gzip', 'v1', {
    format: 'docker',
    layers: smallLayers('gzip'),
    config: SMALL_CONFIG,
  });
  mixed = await pushImage(registry, 'kept/mixed', 'v1', {
    format: 'oci',
    layers: [
      { compression: 'gzip', files: [{ path: 'etc/gzip.txt', content: prose(20_000, 'gzip') }] },
      { compression: 'zstd', zstdContentSize: true, files: [{ path: 'etc/zstd.txt', content: prose(30_000, 'zstd') }] },
      { compression: 'none', files: [{ path: 'etc/plain.txt', content: 'plain\n' }] },
    ],
  });
  dockerd = await startDockerd();
});

after(async () => {
  await dockerd?.stop();
  await registry?.stop();
  dir.remove();
});

describe('kept layers (the default)', () => {
  test('a gzip image keeps the registry manifest digest, and docker load gives the config digest as ID', async () => {
    const tar = join(dir.path, 'gzip.tar');
    const result = await pullToFile([gzip.reference], tar);
    const index = await readJsonFromTar(tar, 'index.json');
    assert.equal(index.manifests[0].digest, gzip.manifestDigest, 'the registry manifest, unchanged');
    assert.equal(result.images[0]!.manifestDigest, gzip.manifestDigest);
    const manifest = await readJsonFromTar(tar, 'manifest.json');
    assert.deepEqual(
      manifest[0].Layers,
      gzip.layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`),
      'layers stored as served',
    );
    assert.deepEqual(result.notes, []);
    await dockerd.load(tar);
    const loaded = await dockerd.inspect(gzip.reference);
    assert.equal(loaded.Id, gzip.configDigest);
    assert.deepEqual(loaded.RootFS.Layers, gzip.diffIds);
    // skopeo reads both parts and finds every digest right.
    await skopeo(['copy', `docker-archive:${tar}`, `oci:${join(dir.path, 'gzip-oci')}:v1`]);
    await skopeo(['copy', '--preserve-digests', `oci-archive:${tar}`, `oci:${join(dir.path, 'gzip-oci2')}:v1`]);
  });

  test('a zstd layer is inflated with a note; gzip and tar layers beside it stay as served', async () => {
    const tar = join(dir.path, 'mixed.tar');
    const result = await pullToFile([mixed.reference], tar);
    const [gz, zst, plain] = mixed.layers as [
      PushedImage['layers'][0],
      PushedImage['layers'][0],
      PushedImage['layers'][0],
    ];
    const manifest = await readJsonFromTar(tar, 'manifest.json');
    assert.deepEqual(
      manifest[0].Layers,
      [gz.digest, zst.diffId, plain.digest].map((d) => `blobs/sha256/${d.slice(7)}`),
    );
    const notes = result.notes.filter((n) => n.includes('zstd'));
    assert.equal(notes.length, 1, result.notes.join('\n'));
    assert.match(notes[0]!, new RegExp(zst.digest));
    assert.match(notes[0]!, /Docker before 23/);
    const names = [...(await tarEntries(tar)).keys()];
    assert.ok(!names.includes(`blobs/sha256/${zst.digest.slice(7)}`), 'the zstd blob is not in the archive');
    const index = await readJsonFromTar(tar, 'index.json');
    assert.notEqual(index.manifests[0].digest, mixed.manifestDigest, 'a manifest naming the inflated layer');
    // dockerd 20.10 reads no zstd: it loads this archive only because that layer was inflated.
    await dockerd.load(tar);
    const loaded = await dockerd.inspect(mixed.reference);
    assert.equal(loaded.Id, mixed.configDigest);
    assert.deepEqual(loaded.RootFS.Layers, mixed.diffIds);
  });

  test('every mode loads with the config digest as image ID', async () => {
    for (const layers of ['uncompressed', 'as-pulled', 'kept'] as const) {
      const tar = join(dir.path, `gzip-${layers}.tar`);
      await pullToFile([gzip.reference], tar, { layers });
      const index = await readJsonFromTar(tar, 'index.json');
      // Only uncompressed mode writes a manifest of its own (naming the inflated layers).
      assert.equal(index.manifests[0].digest === gzip.manifestDigest, layers !== 'uncompressed', layers);
      await dockerd.docker(['rmi', '-f', gzip.reference]).catch(() => {});
      await dockerd.load(tar);
      assert.equal((await dockerd.inspect(gzip.reference)).Id, gzip.configDigest, layers);
    }
  });

  test('a config that does not match its layer: left to docker load by default, refused with checkDiffIds', async () => {
    const layerTar = Buffer.concat([...buildTar([{ path: 'etc/hello', content: 'hello\n'.repeat(500) }])]);
    const wrong = `sha256:${createHash('sha256').update('not this layer').digest('hex')}`;
    const repo = 'kept/wrong-diff-id';
    const config = Buffer.from(
      JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [wrong] }, config: {} }),
    );
    const configBlob = await pushBlob(registry, repo, config);
    const layer = await pushBlob(registry, repo, gzipSync(layerTar));
    await pushManifest(registry, repo, 'v1', {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: configBlob.digest,
        size: configBlob.size,
      },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layer.digest, size: layer.size }],
    });
    const ref = `${registry.host}/${repo}:v1`;
    await pullToFile([ref], join(dir.path, 'unchecked.tar'));
    await assert.rejects(
      pullToFile([ref], join(dir.path, 'checked.tar'), { checkDiffIds: true }),
      (e) => e instanceof SkiffError && e.code === 'digest-mismatch' && /diff_id/.test(e.message),
    );
  });
});
