/**
 * Several platforms of one image in one archive, from an index podman wrote (with BuildKit-style attestation
 * manifests): all platforms keep the registry's index byte for byte, a subset gets an index of just those,
 * `manifest.json` names one platform (what `docker load` tags), and skopeo reads the OCI part.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parsePlatform } from '../../src/core/image/platform.ts';
import { pull } from '../../src/core/pull.ts';
import { type Dockerd, startDockerd } from '../support/dockerd.ts';
import { type PodmanIndex, pushPodmanIndex } from '../support/podman-index.ts';
import { scratchDir } from '../support/process.ts';
import { fileSink, readJsonFromTar } from '../support/pull-to-file.ts';
import { type Registry, startRegistry } from '../support/registry.ts';
import { skopeo } from '../support/skopeo.ts';

let registry: Registry;
let dockerd: Dockerd;
let index: PodmanIndex;
const dir = scratchDir('platforms');

before(async () => {
  registry = await startRegistry();
  index = await pushPodmanIndex(registry, 'podman/multi', 'v1');
  dockerd = await startDockerd();
});

after(async () => {
  await dockerd?.stop();
  await registry?.stop();
  dir.remove();
});

const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const blob = (tar: string, digest: string) =>
  execFileSync('tar', ['-xOf', tar, `blobs/sha256/${digest.slice(7)}`], { maxBuffer: 1 << 26 });

describe('a multi-platform image into one archive', () => {
  test('all platforms: the OCI part holds the registry index as served, attestations included', async () => {
    const tar = join(dir.path, 'all.tar');
    const result = await pull([{ reference: index.reference, platforms: 'all' }], fileSink(tar));

    const { stdout } = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${index.reference}`]);
    const registryDigest = sha256(Buffer.from(stdout));
    assert.equal(registryDigest, index.digest);
    const indexJson = await readJsonFromTar(tar, 'index.json');
    assert.equal(indexJson.manifests.length, 1, 'one image named in index.json');
    assert.equal(indexJson.manifests[0].digest, registryDigest, 'index.json names the registry index');
    assert.equal(indexJson.manifests[0].annotations['io.containerd.image.name'], `${index.reference}`);
    assert.equal(indexJson.manifests[0].annotations['org.opencontainers.image.ref.name'], 'v1');
    assert.deepEqual(blob(tar, registryDigest), index.bytes, 'the index blob is the registry bytes');

    // Every manifest the index names is in the archive: the three images and their attestations.
    const named = JSON.parse(index.bytes.toString('utf8')).manifests as { digest: string }[];
    assert.equal(named.length, 6);
    for (const entry of named) assert.equal(sha256(blob(tar, entry.digest)), entry.digest);
    for (const attestation of index.attestations.values()) {
      const manifest = JSON.parse(blob(tar, attestation).toString('utf8'));
      const statement = blob(tar, manifest.layers[0].digest);
      assert.match(statement.toString('utf8'), /in-toto\.io\/Statement/);
    }

    const base = index.byPlatform['linux/amd64']!.layers[0]!.digest;
    assert.equal(index.byPlatform['linux/arm64']!.layers[0]!.digest, base, 'the platforms share their base layer');
    const listing = execFileSync('tar', ['-tf', tar], { encoding: 'utf8' }).split('\n');
    assert.equal(listing.filter((name) => name === `blobs/sha256/${base.slice(7)}`).length, 1, 'stored once');
    assert.equal(result.transfer.requests, 4, 'each of the 4 distinct layer blobs fetched once');

    const manifestJson = await readJsonFromTar(tar, 'manifest.json');
    assert.equal(manifestJson.length, 1, 'manifest.json lists the one platform docker load loads');
    assert.equal(manifestJson[0].Config, `blobs/sha256/${index.byPlatform['linux/amd64']!.configDigest.slice(7)}`);
    assert.deepEqual(manifestJson[0].RepoTags, [`${registry.host}/podman/multi:v1`]);
    assert.deepEqual(
      result.images.map((i) => i.platform),
      ['linux/amd64', 'linux/arm64', 'linux/arm/v7'],
    );
    assert.ok(result.images.every((i) => i.indexDigest === registryDigest));

    // skopeo reads the OCI part: every platform and attestation copied out, the index unchanged.
    const layout = join(dir.path, 'all-layout');
    await skopeo(['copy', '--all', '--preserve-digests', `oci-archive:${tar}`, `oci:${layout}`]);
    const copied = JSON.parse(execFileSync('cat', [join(layout, 'index.json')], { encoding: 'utf8' }));
    assert.equal(copied.manifests[0].digest, registryDigest);
    const inspected = JSON.parse((await skopeo(['inspect', `docker-archive:${tar}`])).stdout);
    assert.equal(inspected.Architecture, 'amd64');

    await dockerd.load(tar);
    const loaded = await dockerd.inspect(`${registry.host}/podman/multi:v1`);
    assert.equal(loaded.Id, index.byPlatform['linux/amd64']!.configDigest, 'docker load tags linux/amd64');
  });

  test('a subset: an index of just those platforms and their attestations, with a new digest', async () => {
    const tar = join(dir.path, 'subset.tar');
    const arm64 = index.byPlatform['linux/arm64']!;
    const result = await pull(
      [{ reference: index.reference, platforms: [parsePlatform('linux/arm64'), parsePlatform('linux/arm/v7')] }],
      fileSink(tar),
      { loadPlatform: parsePlatform('linux/arm64') },
    );
    const indexJson = await readJsonFromTar(tar, 'index.json');
    const digest = indexJson.manifests[0].digest as string;
    assert.notEqual(digest, index.digest);
    const subset = JSON.parse(blob(tar, digest).toString('utf8'));
    assert.equal(sha256(blob(tar, digest)), digest);
    const images = subset.manifests.filter((m: { platform: { os: string } }) => m.platform.os !== 'unknown');
    assert.deepEqual(
      images.map((m: { digest: string }) => m.digest),
      [arm64.manifestDigest, index.byPlatform['linux/arm/v7']!.manifestDigest],
    );
    const attestations = subset.manifests.filter((m: { platform: { os: string } }) => m.platform.os === 'unknown');
    assert.deepEqual(
      attestations.map((m: { digest: string }) => m.digest),
      [index.attestations.get(arm64.manifestDigest), index.attestations.get(images[1].digest)],
    );
    assert.ok(
      result.notes.some((n) => n.includes(digest) && n.includes(index.digest)),
      result.notes.join('\n'),
    );
    const manifestJson = await readJsonFromTar(tar, 'manifest.json');
    assert.equal(manifestJson.length, 1);
    assert.equal(manifestJson[0].Config, `blobs/sha256/${arm64.configDigest.slice(7)}`, 'the named load platform');
    // No blob of the platform left out.
    const names = execFileSync('tar', ['-tf', tar], { encoding: 'utf8' });
    assert.ok(!names.includes(index.byPlatform['linux/amd64']!.configDigest.slice(7)));
  });

  test('the same name twice merges its platforms; a single-platform image asked for all is that image', async () => {
    const tar = join(dir.path, 'merged.tar');
    const amd64 = index.byPlatform['linux/amd64']!;
    const result = await pull(
      [
        { reference: index.reference, platforms: [parsePlatform('linux/amd64')] },
        { reference: index.reference, platforms: [parsePlatform('linux/arm64')] },
        { reference: `${registry.host}/podman/multi@${amd64.manifestDigest}`, platforms: 'all' },
      ],
      fileSink(tar),
    );
    assert.deepEqual(
      result.images.map((i) => i.platform),
      ['linux/amd64', 'linux/arm64', 'linux/amd64'],
    );
    const manifestJson = await readJsonFromTar(tar, 'manifest.json');
    assert.equal(manifestJson.length, 2, 'one entry for the merged name, one for the digest reference');
    const indexJson = await readJsonFromTar(tar, 'index.json');
    assert.equal(indexJson.manifests[1].digest, amd64.manifestDigest);
  });
});
