/**
 * Push: archives made by real tools (docker save from the test dockerd, skopeo docker-archive and
 * oci-archive, podman save, Skiff's own tars and .zip kit, a gzipped tar) pushed into real distribution
 * registries, then read back by skopeo, pulled by Skiff and by `docker pull`, the image ID checked.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { openAsBlob, writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { readArchive } from '../../src/core/archive-read.ts';
import { fromWebBlob } from '../../src/core/blob-source.ts';
import { type PushOptions, pushArchive } from '../../src/core/push.ts';
import { resolve } from '../../src/core/resolve.ts';
import { type Dockerd, startDockerd } from '../support/dockerd.ts';
import { SMALL_CONFIG, type PushedImage, pushImage, smallLayers } from '../support/images.ts';
import { runCommand, scratchDir } from '../support/process.ts';
import { pullToFile } from '../support/pull-to-file.ts';
import { type Registry, startRegistry } from '../support/registry.ts';
import { skopeo, skopeoCopy } from '../support/skopeo.ts';

const root = join(import.meta.dirname, '..', '..');
const dir = scratchDir('push');
let source: Registry;
let target: Registry;
let open: Registry;
let dockerd: Dockerd;
let gzipImage: PushedImage;
let plainImage: PushedImage;
/** Archive path → the image ID (config digest) it must keep. */
const archives: Record<string, { path: string; id: string }> = {};

async function archiveOf(path: string) {
  return readArchive(fromWebBlob(await openAsBlob(path)));
}

async function pushFile(path: string, reference: string, options: PushOptions = {}) {
  const contents = await archiveOf(path);
  return pushArchive(contents, [{ image: 0, reference }], {
    credentials: { username: 'ci', password: 'pw' },
    ...options,
  });
}

/** What skopeo and Skiff read back from the registry: the config digest is the image ID. */
async function assertInRegistry(registry: Registry, reference: string, id: string, manifestDigest: string) {
  const creds = registry.auth === 'htpasswd' ? ['--creds', 'ci:pw'] : [];
  const { stdout } = await skopeo(['inspect', '--tls-verify=false', ...creds, '--raw', `docker://${reference}`]);
  const manifest = JSON.parse(stdout);
  assert.equal(manifest.config.digest, id, 'the pushed config is the archive config');
  const resolved = await resolve(
    reference,
    registry.auth === 'htpasswd' ? { credentials: { username: 'ci', password: 'pw' } } : {},
  );
  assert.equal(resolved.config.digest, id);
  assert.equal(resolved.manifest.digest, manifestDigest);
}

before(async () => {
  [source, target, open] = await Promise.all([
    startRegistry(),
    startRegistry({ auth: { htpasswd: { username: 'ci', password: 'pw' } } }),
    startRegistry(),
  ]);
  gzipImage = await pushImage(source, 'src/app', '1', {
    format: 'docker',
    layers: smallLayers(),
    config: SMALL_CONFIG,
  });
  plainImage = await pushImage(source, 'src/plain', '1', { format: 'oci', layers: smallLayers('none') });
  dockerd = await startDockerd();

  const skopeoArgs = ['--src-tls-verify=false'];
  archives.skopeoDocker = { path: join(dir.path, 'skopeo-docker.tar'), id: gzipImage.configDigest };
  await skopeoCopy(`docker://${gzipImage.reference}`, `docker-archive:${archives.skopeoDocker.path}:app:1`, skopeoArgs);
  const ociPath = join(dir.path, 'skopeo-oci.tar');
  await skopeoCopy(`docker://${gzipImage.reference}`, `oci-archive:${ociPath}:app:1`, skopeoArgs);
  // skopeo rewrites a Docker config as an OCI one on the way, so that archive's ID is its own.
  const ociManifest = JSON.parse((await skopeo(['inspect', '--raw', `oci-archive:${ociPath}`])).stdout);
  archives.skopeoOci = { path: ociPath, id: ociManifest.config.digest };
  for (const layers of ['uncompressed', 'as-pulled'] as const) {
    const path = join(dir.path, `skiff-${layers}.tar`);
    await pullToFile([gzipImage.reference], path, { layers });
    archives[`skiff-${layers}`] = { path, id: gzipImage.configDigest };
  }
  archives.skiffPlain = { path: join(dir.path, 'skiff-plain.tar'), id: plainImage.configDigest };
  await pullToFile([plainImage.reference], archives.skiffPlain.path, { layers: 'as-pulled' });

  // docker save of an image built here (Docker 20.10: the legacy layout, <id>/layer.tar).
  const context = join(dir.path, 'context');
  mkdirSync(context);
  writeFileSync(join(context, 'hello.txt'), 'hello from a docker build\n');
  writeFileSync(join(context, 'more.txt'), 'x'.repeat(300_000));
  writeFileSync(
    join(context, 'Dockerfile'),
    'FROM scratch\nCOPY hello.txt /hello.txt\nCOPY more.txt /data/more.txt\nCMD ["/hello"]\n',
  );
  await dockerd.docker(['build', '-q', '-t', 'built/app:1', context], { timeoutMs: 120_000 });
  const built = await dockerd.inspect('built/app:1');
  archives.dockerSave = { path: join(dir.path, 'docker-save.tar'), id: built.Id };
  await dockerd.docker(['save', '-o', archives.dockerSave.path, 'built/app:1']);
  archives.dockerSaveGz = { path: join(dir.path, 'docker-save.tar.gz'), id: built.Id };
  writeFileSync(archives.dockerSaveGz.path, gzipSync(readFileSync(archives.dockerSave.path)));
});

after(async () => {
  await Promise.all([source?.stop(), target?.stop(), open?.stop(), dockerd?.stop()]);
  dir.remove();
});

describe('archives from real tools push with the same image ID', () => {
  const cases: [string, string][] = [
    ['docker save (Docker 20.10, legacy layout)', 'dockerSave'],
    ['docker save | gzip', 'dockerSaveGz'],
    ['skopeo docker-archive', 'skopeoDocker'],
    ['skopeo oci-archive', 'skopeoOci'],
    ['Skiff, uncompressed layers', 'skiff-uncompressed'],
    ['Skiff, as pulled', 'skiff-as-pulled'],
    ['Skiff, uncompressed OCI layers as pulled', 'skiffPlain'],
  ];
  for (const [name, key] of cases) {
    test(name, async () => {
      const { path, id } = archives[key]!;
      const reference = `${target.host}/pushed/${key.toLowerCase()}:v1`;
      const result = await pushFile(path, reference);
      assert.equal(result.images.length, 1);
      const [image] = result.images;
      assert.equal(image!.configDigest, id);
      assert.match(image!.pullCommand, /^docker pull 127\.0\.0\.1:\d+\/pushed\/.+@sha256:[a-f0-9]{64}$/);
      await assertInRegistry(target, reference, id, image!.manifestDigest);
    });
  }
});
