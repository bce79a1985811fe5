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
import { readArchive } from '../../src/core/archive/reader.ts';
import { fromWebBlob } from '../../src/core/archive/random-access.ts';
import { type PushOptions, pushArchive } from '../../src/core/push.ts';
import { resolve } from '../../src/core/registry/resolve.ts';
import { type Dockerd, startDockerd } from '../support/dockerd.ts';
import {
  SMALL_CONFIG,
  type PushedImage,
  type PushedIndex,
  pushImage,
  pushIndex,
  smallLayers,
} from '../support/images.ts';
import { fault, once, always, startFaultProxy } from '../support/fault-proxy.ts';
import { startRelay } from '../support/relay.ts';
import { type TokenServer, startTokenServer } from '../support/token-server.ts';
import { walkTar } from '../../src/core/archive/tar-read.ts';
import { copyImage } from '../../src/core/copy.ts';
import { pullKit } from '../../src/core/pull.ts';
import { createSha256 } from '../../src/core/codecs/sha256.ts';
import { isSkiffError } from '../../src/core/errors.ts';
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
let armImage: PushedImage;
let index: PushedIndex;
let tokenServer: TokenServer;
let tokenRegistry: Registry;
const podman = [
  '--root',
  '',
  '--runroot',
  '',
  '--storage-driver',
  'vfs',
  '--events-backend',
  'file',
  '--cgroup-manager',
  'cgroupfs',
];
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
  armImage = await pushImage(source, 'src/multi', 'arm64', {
    format: 'oci',
    layers: smallLayers(),
    platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
  });
  const amdImage = await pushImage(source, 'src/multi', 'amd64', { format: 'oci', layers: smallLayers('zstd') });
  index = await pushIndex(source, 'src/multi', 'all', [{ image: amdImage }, { image: armImage }], { format: 'oci' });
  tokenServer = await startTokenServer({ users: { ci: 'pw' } });
  tokenRegistry = await startRegistry({ auth: { token: tokenServer } });
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
  // A crane tarball, laid out as go-containerregistry's tarball.Write does (crane is not installed here):
  // `sha256:<hex>` config, `<hex>.tar.gz` layers named by their blob digests, manifest.json.
  const crane = join(dir.path, 'crane');
  mkdirSync(crane);
  const configName = gzipImage.configDigest;
  writeFileSync(join(crane, configName), gzipImage.configBytes);
  const layerNames: string[] = [];
  for (const layer of gzipImage.layers) {
    const blob = await fetch(`${source.url}/v2/src/app/blobs/${layer.digest}`);
    const name = `${layer.digest.slice(7)}.tar.gz`;
    writeFileSync(join(crane, name), Buffer.from(await blob.arrayBuffer()));
    layerNames.push(name);
  }
  writeFileSync(
    join(crane, 'manifest.json'),
    JSON.stringify([{ Config: configName, RepoTags: ['app:1'], Layers: layerNames }]),
  );
  archives.crane = { path: join(dir.path, 'crane.tar'), id: gzipImage.configDigest };
  await runCommand('tar', ['-cf', archives.crane.path, '-C', crane, 'manifest.json', configName, ...layerNames]);
  archives.dockerSaveZst = { path: join(dir.path, 'docker-save.tar.zst'), id: built.Id };
  await runCommand('zstd', ['-q', '-o', archives.dockerSaveZst.path, archives.dockerSave.path]);
  // Gone from the daemon, so `docker pull` below has to fetch it.
  await dockerd.docker(['rmi', 'built/app:1']);

  // podman save, both formats, of an image podman built (as root, vfs storage under the scratch dir).
  podman[1] = join(dir.path, 'podman-root');
  podman[3] = join(dir.path, 'podman-run');
  await runCommand('podman', [...podman, 'build', '-q', '-t', 'localhost/pm/app:1', context], { timeoutMs: 120_000 });
  const podmanId = `sha256:${(await runCommand('podman', [...podman, 'inspect', '--format', '{{.Id}}', 'localhost/pm/app:1'])).stdout.trim()}`;
  for (const format of ['docker-archive', 'oci-archive']) {
    const path = join(dir.path, `podman-${format}.tar`);
    await runCommand('podman', [...podman, 'save', '--format', format, '-o', path, 'localhost/pm/app:1'], {
      timeoutMs: 120_000,
    });
    archives[`podman-${format}`] = { path, id: podmanId };
  }

  // Skiff's .zip offline kit of two images.
  const kitPath = join(dir.path, 'kit.zip');
  const items = [
    { image: await resolve(gzipImage.reference), tarName: 'app_1.tar' },
    { image: await resolve(plainImage.reference), tarName: 'plain_1.tar' },
  ];
  const { Writable } = await import('node:stream');
  const { createWriteStream } = await import('node:fs');
  await pullKit(items, Writable.toWeb(createWriteStream(kitPath)) as WritableStream<Uint8Array>, {
    layers: 'uncompressed',
    signal: new AbortController().signal,
    onProgress: () => {},
    sha256: createSha256,
  });
  archives.kit = { path: kitPath, id: gzipImage.configDigest };
  archives.twoImages = { path: join(dir.path, 'two.tar'), id: gzipImage.configDigest };
  await pullToFile([gzipImage.reference, plainImage.reference], archives.twoImages.path, { layers: 'as-pulled' });
});

after(async () => {
  await Promise.all([source?.stop(), target?.stop(), open?.stop(), tokenRegistry?.stop(), dockerd?.stop()]);
  await tokenServer?.stop();
  dir.remove();
});

describe('archives from real tools push with the same image ID', () => {
  const cases: [string, string][] = [
    ['docker save (Docker 20.10, legacy layout)', 'dockerSave'],
    ['docker save | gzip', 'dockerSaveGz'],
    ['docker save | zstd', 'dockerSaveZst'],
    ['skopeo docker-archive', 'skopeoDocker'],
    ['crane tarball layout', 'crane'],
    ['skopeo oci-archive', 'skopeoOci'],
    ['Skiff, uncompressed layers', 'skiff-uncompressed'],
    ['Skiff, as pulled', 'skiff-as-pulled'],
    ['Skiff, uncompressed OCI layers as pulled', 'skiffPlain'],
    ['podman save (docker-archive)', 'podman-docker-archive'],
    ['podman save --format oci-archive', 'podman-oci-archive'],
  ];
  for (const [name, key] of cases) {
    test(name, async () => {
      const { path, id } = archives[key]!;
      const reference = `${target.host}/pushed/${key.toLowerCase()}:v1`;
      const result = await pushFile(path, reference);
      assert.equal(result.images.length, 1);
      const [image] = result.images;
      assert.equal(image!.configDigest, id);
      assert.match(image!.pullCommand ?? '', /^docker pull 127\.0\.0\.1:\d+\/pushed\/.+@sha256:[a-f0-9]{64}$/);
      await assertInRegistry(target, reference, id, image!.manifestDigest);
    });
  }
});

test('a .zip kit and a tar of two images: each image to its own target, shared layers mounted', async () => {
  for (const key of ['kit', 'twoImages']) {
    const contents = await archiveOf(archives[key]!.path);
    assert.deepEqual(
      contents.images.map((i) => i.config.digest),
      [gzipImage.configDigest, plainImage.configDigest],
    );
    const targets = [`${target.host}/${key.toLowerCase()}/app:1`, `${target.host}/${key.toLowerCase()}/plain:1`];
    const result = await pushArchive(
      contents,
      targets.map((reference, image) => ({ image, reference })),
      { credentials: { username: 'ci', password: 'pw' } },
    );
    for (const [i, image] of result.images.entries())
      await assertInRegistry(target, targets[i]!, contents.images[i]!.config.digest, image.manifestDigest);
  }
  // The same image into two repositories at once: the second gets its layers by cross-repository mount.
  const contents = await archiveOf(archives.dockerSave!.path);
  const result = await pushArchive(
    contents,
    [
      { image: 0, reference: `${target.host}/mount/one:1` },
      { image: 0, reference: `${target.host}/mount/two:1` },
    ],
    { credentials: { username: 'ci', password: 'pw' } },
  );
  assert.equal(result.mounted, contents.images[0]!.layers.length);
  await assertInRegistry(
    target,
    `${target.host}/mount/two:1`,
    archives.dockerSave!.id,
    result.images[1]!.manifestDigest,
  );
});

test('docker pull of pushed images gives the archive image ID (gzipped on the way, and as they are)', async () => {
  for (const [key, compress] of [
    ['dockerSave', true],
    ['skiff-uncompressed', false],
  ] as const) {
    const reference = `${open.host}/docker/${key.toLowerCase()}:v1`;
    const result = await pushFile(archives[key]!.path, reference, { compress, credentials: undefined });
    const layerTypes = JSON.parse(
      (await skopeo(['inspect', '--tls-verify=false', '--raw', `docker://${reference}`])).stdout,
    ).layers.map((l: { mediaType: string }) => l.mediaType);
    assert.ok(
      layerTypes.every((t: string) => (compress ? t.endsWith('gzip') : !t.endsWith('gzip'))),
      `layers ${compress ? '' : 'not '}gzipped: ${layerTypes}`,
    );
    await dockerd.docker(['pull', reference], { timeoutMs: 120_000 });
    const inspected = await dockerd.inspect(reference);
    assert.equal(inspected.Id, archives[key]!.id);
    assert.equal(result.images[0]!.configDigest, archives[key]!.id);
    await dockerd.docker(['rmi', '-f', inspected.Id]);
  }
});

test('bearer-token registry, directly and through the relay (Node and workerd)', async () => {
  const direct = await pushFile(archives.skopeoDocker!.path, `${tokenRegistry.host}/token/app:1`);
  assert.equal(direct.images[0]!.configDigest, gzipImage.configDigest);
  const granted = tokenServer.requests.flatMap((r) => r.granted.map((g) => `${g.name}:${g.actions.join(',')}`));
  assert.ok(granted.includes('token/app:pull,push'), granted.join(' '));
  for (const runtime of ['node', 'workerd'] as const) {
    const relay = await startRelay(runtime, {
      env: {
        RELAY_ALLOW: `${tokenServer.url.replace('http://', '')}`,
        RELAY_ALLOW_PRIVATE: `${tokenRegistry.host},${tokenServer.url.replace('http://', '')}`,
        RELAY_PLAIN_HTTP: `${tokenRegistry.host},${tokenServer.url.replace('http://', '')}`,
        RELAY_ALLOW_PUSH: tokenRegistry.host,
      },
    });
    try {
      const reference = `${tokenRegistry.host}/relayed/${runtime}:1`;
      const result = await pushFile(archives['skiff-uncompressed']!.path, reference, {
        relay: relay.base,
        chunkBytes: 256 * 1024,
      });
      assert.equal(result.images[0]!.configDigest, gzipImage.configDigest);
      const back = await resolve(reference, { credentials: { username: 'ci', password: 'pw' } });
      assert.equal(back.manifest.digest, result.images[0]!.manifestDigest);
      assert.match(relay.output(), /PATCH .*blobs\/uploads\/.* 202 /);
    } finally {
      await relay.stop();
    }
  }
});

test('the relay refuses a push to a host not on RELAY_ALLOW_PUSH before it reaches it', async () => {
  const proxy = await startFaultProxy(target.url);
  for (const runtime of ['node', 'workerd'] as const) {
    const relay = await startRelay(runtime, {
      env: { RELAY_ALLOW_PRIVATE: proxy.host, RELAY_PLAIN_HTTP: proxy.host },
    });
    try {
      proxy.reset();
      await assert.rejects(
        pushFile(archives.dockerSave!.path, `${proxy.host}/refused/app:1`, { relay: relay.base }),
        (error: unknown) => isSkiffError(error, 'relay-refused') && /RELAY_ALLOW_PUSH/.test((error as Error).message),
      );
      const writes = proxy.requests.filter((r) => !['GET', 'HEAD'].includes(r.method));
      assert.deepEqual(writes, [], 'no write reached the registry');
      // A page from another site may not push even where pushing is allowed.
      const open = await startRelay(runtime, {
        env: {
          RELAY_ALLOW_PRIVATE: proxy.host,
          RELAY_PLAIN_HTTP: proxy.host,
          RELAY_ALLOW_PUSH: proxy.host,
          RELAY_ORIGINS: '*',
        },
      });
      try {
        const answer = await fetch(`${open.base}/${proxy.host}/v2/refused/app/blobs/uploads/`, {
          method: 'POST',
          headers: { origin: 'http://evil.example' },
        });
        assert.equal(answer.status, 403);
        assert.match(await answer.text(), /may not push/);
      } finally {
        await open.stop();
      }
      assert.deepEqual(
        proxy.requests.filter((r) => r.method === 'POST'),
        [],
      );
    } finally {
      await relay.stop();
    }
  }
  await proxy.stop();
});

describe('faults', () => {
  test('an upload cut on the way is resumed from what the registry holds', async () => {
    const proxy = await startFaultProxy(target.url);
    let patches = 0;
    // The third chunk long enough to be cut (layers go up several at once, so the third PATCH may be a small one's).
    proxy.setPlan(
      once(
        (r) => r.method === 'PATCH' && Number(r.headers['content-length']) > 20_000 && ++patches === 3,
        fault.cutRequest(20_000),
      ),
    );
    try {
      const reference = `${proxy.host}/faults/cut:1`;
      // As they are, so the 300 kB layer takes several chunks (gzipped, its repeated bytes shrink to one).
      const result = await pushFile(archives.dockerSave!.path, reference, { chunkBytes: 64 * 1024, compress: false });
      assert.ok(
        proxy.requests.some((r) => r.faults.includes('cut-request')),
        'the cut happened',
      );
      assert.ok(
        proxy.requests.some((r) => r.method === 'GET' && r.path.includes('/blobs/uploads/')),
        'the upload status was asked for',
      );
      await assertInRegistry(
        target,
        `${target.host}/faults/cut:1`,
        archives.dockerSave!.id,
        result.images[0]!.manifestDigest,
      );
    } finally {
      await proxy.stop();
    }
  });

  test('a 401 in the middle of an upload gets fresh credentials and goes on', async () => {
    const proxy = await startFaultProxy(tokenRegistry.url);
    let patches = 0;
    proxy.setPlan(
      once(
        (r) => r.method === 'PATCH' && ++patches === 2,
        fault.unauthorized(`Bearer realm="${tokenServer.realm}",service="${tokenServer.service}"`),
      ),
    );
    try {
      tokenServer.requests.length = 0;
      const result = await pushFile(archives.dockerSave!.path, `${proxy.host}/faults/auth:1`, {
        chunkBytes: 64 * 1024,
      });
      assert.ok(proxy.requests.some((r) => r.method === 'PATCH' && r.status === 401));
      assert.ok(tokenServer.requests.length >= 2, 'a fresh token was fetched');
      const back = await resolve(`${tokenRegistry.host}/faults/auth:1`, {
        credentials: { username: 'ci', password: 'pw' },
      });
      assert.equal(back.config.digest, archives.dockerSave!.id);
      assert.equal(back.manifest.digest, result.images[0]!.manifestDigest);
    } finally {
      await proxy.stop();
    }
  });

  test('a token that expires during a long upload is renewed, also when the registry refuses it first', async () => {
    const proxy = await startFaultProxy(tokenRegistry.url);
    let expired = false;
    proxy.setPlan((r) => {
      if (r.method !== 'PATCH') return undefined;
      // From the first chunk on, the next token issued is already expired at the registry.
      if (!expired) tokenServer.expireNext(1);
      expired = true;
      return fault.delay(400);
    });
    tokenServer.setExpiresIn(6); // the client renews 5 s early: each token serves about a second
    try {
      tokenServer.requests.length = 0;
      const reference = `${proxy.host}/faults/expiry:1`;
      const result = await pushFile(archives.dockerSave!.path, reference, { chunkBytes: 64 * 1024, compress: false });
      assert.ok(tokenServer.requests.length >= 3, `tokens fetched: ${tokenServer.requests.length}`);
      assert.ok(
        proxy.requests.some((r) => r.method === 'PATCH' && r.status === 401),
        'the registry refused the expired token mid-upload',
      );
      const back = await resolve(`${tokenRegistry.host}/faults/expiry:1`, {
        credentials: { username: 'ci', password: 'pw' },
      });
      assert.equal(back.manifest.digest, result.images[0]!.manifestDigest);
    } finally {
      tokenServer.setExpiresIn(300);
      await proxy.stop();
    }
  });

  test('a registry that refuses mounts (401, as Harbor does) gets plain uploads', async () => {
    const proxy = await startFaultProxy(target.url);
    proxy.setPlan(always((r) => r.path.includes('mount='), fault.unauthorized('Basic realm="skiff-registry"')));
    try {
      const contents = await archiveOf(archives.dockerSave!.path);
      const result = await pushArchive(
        contents,
        [
          { image: 0, reference: `${proxy.host}/nomount/one:1` },
          { image: 0, reference: `${proxy.host}/nomount/two:1` },
        ],
        { credentials: { username: 'ci', password: 'pw' } },
      );
      assert.ok(
        proxy.requests.some((r) => r.path.includes('mount=') && r.status === 401),
        'a mount was tried',
      );
      assert.equal(result.mounted, 0);
      assert.equal(result.copied, 2 * contents.images[0]!.layers.length);
      await assertInRegistry(
        target,
        `${target.host}/nomount/two:1`,
        archives.dockerSave!.id,
        result.images[1]!.manifestDigest,
      );
    } finally {
      await proxy.stop();
    }
  });

  test('a tar whose layer was altered is refused and nothing is tagged', async () => {
    for (const [key, name] of [
      ['dockerSave', 'layer.tar'],
      ['skiff-as-pulled', 'blobs/sha256/'],
    ] as const) {
      const bytes = readFileSync(archives[key]!.path);
      const entries = await walkTar(fromWebBlob(new Blob([bytes])));
      const layer = entries
        .filter((e) => e.type === 'file' && e.name.includes(name))
        .sort((a, b) => b.size - a.size)[0]!;
      bytes[layer.offset + Math.floor(layer.size / 2)]! ^= 0x01;
      const tampered = join(dir.path, `tampered-${key}.tar`);
      writeFileSync(tampered, bytes);
      const reference = `${target.host}/tampered/${key.toLowerCase()}:1`;
      await assert.rejects(
        pushFile(tampered, reference),
        (error: unknown) => isSkiffError(error, 'digest-mismatch') || isSkiffError(error, 'bad-layer'),
      );
      await assert.rejects(resolve(reference, { credentials: { username: 'ci', password: 'pw' } }), (error: unknown) =>
        isSkiffError(error, 'not-found'),
      );
    }
  });

  test('Cancel stops the push with aborted and no tag', async () => {
    const controller = new AbortController();
    const reference = `${target.host}/cancelled/app:1`;
    await assert.rejects(
      pushFile(archives.dockerSave!.path, reference, {
        signal: controller.signal,
        chunkBytes: 16 * 1024,
        onProgress: (p) => {
          if (p.blobs.some((l) => l.bytes > 0)) controller.abort();
        },
        progressIntervalMs: 0,
      }),
      (error: unknown) => isSkiffError(error, 'aborted'),
    );
    await assert.rejects(resolve(reference, { credentials: { username: 'ci', password: 'pw' } }), (error: unknown) =>
      isSkiffError(error, 'not-found'),
    );
  });
});

describe('copy, registry to registry', () => {
  test('one platform of an index, then the whole index, digests kept', async () => {
    const creds = { credentials: { username: 'ci', password: 'pw' } };
    const one = await copyImage(index.reference, `${target.host}/copied/multi:arm64`, {
      platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
      credentials: (registry) => (registry === target.host ? creds.credentials : undefined),
    });
    assert.equal(one.images[0]!.manifestDigest, armImage.manifestDigest);
    const all = await copyImage(index.reference, `${target.host}/copied/multi:all`, {
      platform: 'all',
      credentials: (registry) => (registry === target.host ? creds.credentials : undefined),
    });
    assert.equal(all.index?.digest, index.digest);
    assert.ok(all.existing > 0, 'blobs copied before were not copied again');
    const { stdout } = await skopeo([
      'inspect',
      '--tls-verify=false',
      '--creds',
      'ci:pw',
      '--raw',
      `docker://${target.host}/copied/multi:all`,
    ]);
    assert.equal(JSON.parse(stdout).manifests.length, index.manifests.length);
    const arm = await resolve(`${target.host}/copied/multi:all`, {
      ...creds,
      platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
    });
    assert.equal(arm.config.digest, armImage.configDigest);
    // Within one registry, blobs are mounted instead of copied.
    const mounted = await copyImage(`${target.host}/copied/multi:arm64`, `${target.host}/copied/again:1`, creds);
    assert.equal(mounted.copied, 0);
    assert.ok(mounted.mounted > 0);
  });
});

describe('npm run push / copy', () => {
  const cli = (script: string, ...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', join(root, `src/cli/${script}.ts`), ...args], {
      cwd: root,
      encoding: 'utf8',
    });

  test('lists, pushes, and fails with the reason', () => {
    const list = cli('push', archives.twoImages!.path, '--list');
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stderr, /holds 2 image\(s\)/);
    assert.match(list.stderr, new RegExp(gzipImage.configDigest));
    const missing = cli('push', archives.twoImages!.path, '--to', `${target.host}/cli/one:1`);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /one --to per image/);
    const ok = cli(
      'push',
      archives.dockerSave!.path,
      '--to',
      `${target.host}/cli/app:1`,
      '--user',
      'ci',
      '--password',
      'pw',
      '--quiet',
    );
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stderr, new RegExp(`ID ${archives.dockerSave!.id}`));
    assert.match(ok.stderr, /docker pull 127\.0\.0\.1:\d+\/cli\/app@sha256:/);
    const denied = cli(
      'push',
      archives.dockerSave!.path,
      '--to',
      `${target.host}/cli/app:2`,
      '--user',
      'ci',
      '--password',
      'no',
      '--quiet',
    );
    assert.equal(denied.status, 1);
    assert.match(denied.stderr, /error \(unauthorized\)/);
  });

  test('copies', () => {
    const run = cli(
      'copy',
      gzipImage.reference,
      `${target.host}/cli/copied:1`,
      '--dest-user',
      'ci',
      '--dest-password',
      'pw',
    );
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, new RegExp(`copied .* \\(${gzipImage.manifestDigest}\\)`));
  });
});
