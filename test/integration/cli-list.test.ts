/**
 * `npm run pull -- -f LIST` as a person runs it: every name of the list resolved before a byte is written, so
 * a typo and a duplicate stop the run with both named by line (exit 2, no file); a clean list with
 * `--platform all` gives one archive holding each multi-platform image's index. And the .zip kit: its
 * images.txt pulls again with `-f`, and `sh load.sh --push PREFIX` loads, tags and pushes every image.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { createSha256 } from '../../src/core/codecs/sha256.ts';
import { pullKit, resolveSet } from '../../src/core/pull.ts';
import { type Dockerd, startDockerd } from '../support/dockerd.ts';
import {
  type PushedImage,
  type PushedIndex,
  SMALL_CONFIG,
  pushImage,
  pushIndex,
  smallLayers,
} from '../support/images.ts';
import { scratchDir } from '../support/process.ts';
import { readJsonFromTar } from '../support/pull-to-file.ts';
import { type Registry, startRegistry } from '../support/registry.ts';
import { skopeo } from '../support/skopeo.ts';

const root = join(import.meta.dirname, '..', '..');
const dir = scratchDir('cli-list');
let registry: Registry;
let single: PushedImage;
let multi: PushedIndex;

function cli(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/pull.ts'), ...args], {
    cwd: root,
    encoding: 'utf8',
  });
}

before(async () => {
  registry = await startRegistry();
  single = await pushImage(registry, 'lists/app', '1.0', {
    format: 'docker',
    layers: smallLayers(),
    config: SMALL_CONFIG,
  });
  const platforms = [
    { os: 'linux', architecture: 'amd64' },
    { os: 'linux', architecture: 'arm64' },
  ];
  const children = [];
  for (const platform of platforms)
    children.push({
      image: await pushImage(registry, 'lists/multi', null, {
        format: 'oci',
        platform,
        layers: [{ compression: 'gzip', files: [{ path: 'arch', content: `${platform.architecture}\n` }] }],
      }),
    });
  multi = await pushIndex(registry, 'lists/multi', 'v2', children, { format: 'oci', attestations: true });
});

after(async () => {
  await registry?.stop();
  dir.remove();
});

test('a list with a typo and a duplicate: nothing is pulled, and both are named with their lines', () => {
  const list = join(dir.path, 'release.txt');
  writeFileSync(
    list,
    [
      '# release 1.0',
      `${registry.host}/lists/app:1.0`,
      `${registry.host}/lists/ap:1.0   # a typo`,
      `${registry.host}/lists/app:1.0`,
      `${registry.host}/lists/multi:v2 --platform all`,
    ].join('\n'),
  );
  const out = join(dir.path, 'typo.tar');
  const run = cli('-f', list, '-o', out);
  assert.equal(run.status, 2, run.stderr);
  assert.match(run.stderr, /release\.txt line 3: \S+\/lists\/ap:1\.0: .*(not found|unknown|does not exist)/i);
  assert.match(run.stderr, /release\.txt line 4: \S+\/lists\/app:1\.0: already named on line 2\n/);
  assert.match(run.stderr, /Nothing was pulled: 2 problem/);
  assert.deepEqual(
    readdirSync(dir.path).filter((f) => f.startsWith('typo')),
    [],
    'no file, not even a partial one',
  );
});

test('a clean list with --platform all: one archive, the multi-platform image with its registry index', () => {
  const list = join(dir.path, 'clean.txt');
  writeFileSync(list, `${registry.host}/lists/app:1.0, ${registry.host}/lists/multi:v2\n`);
  const out = join(dir.path, 'clean.tar');
  const run = cli('-f', list, '-o', out, '--platform', 'all');
  assert.equal(run.status, 0, run.stderr);
  return Promise.all([readJsonFromTar(out, 'index.json'), readJsonFromTar(out, 'manifest.json')]).then(
    ([index, manifest]) => {
      assert.deepEqual(
        index.manifests.map((m: { digest: string }) => m.digest),
        [single.manifestDigest, multi.digest],
      );
      assert.equal(manifest.length, 2);
      assert.equal(manifest[1].Config, `blobs/sha256/${multi.byPlatform['linux/amd64']!.configDigest.slice(7)}`);
      const blobs = execFileSync('tar', ['-tf', out], { encoding: 'utf8' });
      for (const a of multi.attestations) assert.ok(blobs.includes(a.digest.slice(7)), 'attestations included');
    },
  );
});

test('the kit: images.txt pulls again with -f, and load.sh --push tags and pushes each image under a prefix', async () => {
  const kit = join(dir.path, 'kit.zip');
  const items = [
    { image: await resolveSet(single.reference, []), tarName: 'app.tar' },
    { image: await resolveSet(multi.reference, 'all'), tarName: 'multi.tar' },
  ];
  await pullKit(items, Writable.toWeb(createWriteStream(kit)) as WritableStream<Uint8Array>, {
    layers: 'kept',
    signal: new AbortController().signal,
    onProgress: () => {},
    sha256: createSha256,
  });
  const unpacked = join(dir.path, 'kit');
  execFileSync('unzip', ['-q', kit, '-d', unpacked]);
  const listed = readFileSync(join(unpacked, 'images.txt'), 'utf8');
  assert.equal(
    listed,
    `${registry.host}/lists/app:1.0 --platform linux/amd64\n${registry.host}/lists/multi:v2 --platform all\n`,
  );
  const again = join(dir.path, 'again.tar');
  const run = cli('-f', join(unpacked, 'images.txt'), '-o', again);
  assert.equal(run.status, 0, run.stderr);
  assert.equal((await readJsonFromTar(again, 'index.json')).manifests[1].digest, multi.digest);

  const dockerd: Dockerd = await startDockerd();
  try {
    const prefix = `${registry.host}/mirror`;
    execFileSync('sh', [join(unpacked, 'load.sh'), '--push', `${prefix}/`], {
      env: { ...process.env, ...dockerd.env },
      encoding: 'utf8',
      timeout: 120_000,
    });
    const pushed = await skopeo(['inspect', '--tls-verify=false', `docker://${prefix}/lists/app:1.0`]);
    assert.equal(JSON.parse(pushed.stdout).Digest.length > 0, true);
    const config = await skopeo([
      'inspect',
      '--config',
      '--raw',
      '--tls-verify=false',
      `docker://${prefix}/lists/multi:v2`,
    ]);
    const id = `sha256:${(await import('node:crypto')).createHash('sha256').update(config.stdout).digest('hex')}`;
    assert.equal(id, multi.byPlatform['linux/amd64']!.configDigest, 'docker push sent the loaded platform');
  } finally {
    await dockerd.stop();
  }
  assert.ok(existsSync(join(unpacked, 'load.ps1')));
  assert.match(readFileSync(join(unpacked, 'load.ps1'), 'utf8'), /-Push/);
});
