/**
 * Push a set: archives made by real tools (skopeo copy --all of a multi-platform index with attestation
 * manifests into an oci-archive, Skiff as pulled, docker save, Skiff's .zip kit) pushed whole under one
 * prefix into a real distribution registry; digests read back with skopeo, the image ID with docker pull.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, openAsBlob, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { readArchive } from '../../src/core/archive/reader.ts';
import { fromWebBlob } from '../../src/core/archive/random-access.ts';
import { createSha256 } from '../../src/core/codecs/sha256.ts';
import { isSkiffError } from '../../src/core/errors.ts';
import { pullKit } from '../../src/core/pull.ts';
import { pushSet, pushUnits } from '../../src/core/push.ts';
import { resolve } from '../../src/core/registry/resolve.ts';
import { type Dockerd, startDockerd } from '../support/dockerd.ts';
import { type PushedImage, type PushedIndex, pushImage, pushIndex, smallLayers } from '../support/images.ts';
import { scratchDir } from '../support/process.ts';
import { pullToFile } from '../support/pull-to-file.ts';
import { type Registry, startRegistry } from '../support/registry.ts';
import { skopeo, skopeoCopy } from '../support/skopeo.ts';

const root = join(import.meta.dirname, '..', '..');
const dir = scratchDir('push-set');
let source: Registry;
let target: Registry;
let dockerd: Dockerd;
let app: PushedImage;
let plain: PushedImage;
let index: PushedIndex;
const files: Record<string, string> = {};

const archiveOf = async (path: string) => readArchive(fromWebBlob(await openAsBlob(path)));
const sha = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;
/** The manifest the registry serves, as skopeo reads it, and its digest. */
async function rawAt(reference: string) {
  const { stdout } = await skopeo(['inspect', '--tls-verify=false', '--raw', `docker://${reference}`]);
  return { json: JSON.parse(stdout), digest: sha(stdout) };
}
const cli = (script: string, ...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', join(root, `src/cli/${script}.ts`), ...args], {
    cwd: root,
    encoding: 'utf8',
  });

before(async () => {
  [source, target] = await Promise.all([startRegistry(), startRegistry()]);
  app = await pushImage(source, 'lab/app', '1', { format: 'docker', layers: smallLayers() });
  plain = await pushImage(source, 'lab/plain', '1', { format: 'oci', layers: smallLayers('none') });
  const arm = await pushImage(source, 'lab/multi', 'arm64', {
    format: 'oci',
    layers: smallLayers(),
    platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
  });
  const amd = await pushImage(source, 'lab/multi', 'amd64', { format: 'oci', layers: smallLayers() });
  index = await pushIndex(source, 'lab/multi', '1', [{ image: amd }, { image: arm }], {
    format: 'oci',
    attestations: true,
  });
  files.multi = join(dir.path, 'multi.tar');
  await skopeoCopy(`docker://${index.reference}`, `oci-archive:${files.multi}:lab/multi:1`, [
    '--all',
    '--src-tls-verify=false',
  ]);
  files.asPulled = join(dir.path, 'as-pulled.tar');
  await pullToFile([app.reference], files.asPulled, { layers: 'as-pulled' });
  files.kit = join(dir.path, 'kit.zip');
  const items = [
    { image: await resolve(app.reference), tarName: 'app_1.tar' },
    { image: await resolve(plain.reference), tarName: 'plain_1.tar' },
  ];
  await pullKit(items, Writable.toWeb(createWriteStream(files.kit)) as WritableStream<Uint8Array>, {
    layers: 'as-pulled',
    signal: new AbortController().signal,
    onProgress: () => {},
    sha256: createSha256,
  });
  dockerd = await startDockerd();
  const context = join(dir.path, 'context');
  mkdirSync(context);
  writeFileSync(join(context, 'hello.txt'), 'hello from a docker build\n');
  writeFileSync(join(context, 'Dockerfile'), 'FROM scratch\nCOPY hello.txt /hello.txt\n');
  await dockerd.docker(['build', '-q', '-t', 'built/app:1', context], { timeoutMs: 120_000 });
  files.dockerSave = join(dir.path, 'docker-save.tar');
  await dockerd.docker(['save', '-o', files.dockerSave, 'built/app:1']);
});

after(async () => {
  await Promise.all([source?.stop(), target?.stop(), dockerd?.stop()]);
  dir.remove();
});

test('a multi-platform OCI archive under a prefix: the index and every manifest it names, same digests', async () => {
  const contents = await archiveOf(files.multi!);
  assert.deepEqual(
    pushUnits(contents).map((u) => [u.kind, u.digest]),
    [['index', index.digest]],
  );
  const result = await pushSet(contents, { prefix: `${target.host}/mirror` });
  const reference = `${target.host}/mirror/lab/multi:1`;
  assert.equal(result.units[0]!.target, reference);
  assert.equal(result.units[0]!.digest, index.digest);
  const pushed = await rawAt(reference);
  assert.equal(pushed.digest, index.digest, 'the index went up byte for byte');
  assert.equal(pushed.json.manifests.length, 4, 'two images and two attestation manifests');
  for (const entry of pushed.json.manifests as { digest: string }[]) {
    const child = await rawAt(`${target.host}/mirror/lab/multi@${entry.digest}`);
    assert.equal(child.digest, entry.digest);
  }
  const armPulled = await resolve(reference, { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } });
  assert.equal(armPulled.manifest.digest, index.byPlatform['linux/arm64/v8']!.manifestDigest);
});

test('a second push of the same archive skips every image (HEAD) and moves no blob bytes; a new tag is only a tag', async () => {
  const contents = await archiveOf(files.multi!);
  const again = await pushSet(contents, { prefix: `${target.host}/mirror` });
  assert.deepEqual(
    again.units.map((u) => u.state),
    ['skipped'],
  );
  assert.equal(again.bytes, 0);
  assert.equal(again.copied + again.existing + again.mounted, 0, 'not even a blob HEAD');
  const retag = await pushSet(contents, { targets: [`${target.host}/mirror/lab/multi:also`] });
  assert.equal(retag.units[0]!.state, 'tagged');
  assert.equal(retag.bytes, 0);
  assert.equal((await rawAt(`${target.host}/mirror/lab/multi:also`)).digest, index.digest);
});

test('an as-pulled archive keeps the registry manifest digest', async () => {
  const result = await pushSet(await archiveOf(files.asPulled!), { prefix: `${target.host}/kept` });
  const reference = `${target.host}/kept/lab/app:1`;
  assert.equal(result.units[0]!.target, reference);
  assert.equal((await rawAt(reference)).digest, app.manifestDigest);
  assert.equal(result.units[0]!.keptDigest, true);
  assert.equal(result.units[0]!.note, undefined);
});

test('a .zip kit pushed whole under a prefix: each image to prefix + its path + its tag', async () => {
  const result = await pushSet(await archiveOf(files.kit!), { prefix: `${target.host}/kit/` });
  assert.deepEqual(
    result.units.map((u) => u.target),
    [`${target.host}/kit/lab/app:1`, `${target.host}/kit/lab/plain:1`],
  );
  assert.equal((await rawAt(`${target.host}/kit/lab/app:1`)).digest, app.manifestDigest);
  // Its layers are uncompressed in the kit: gzipped on the way, as docker push does; the image ID stays.
  const plainBack = await rawAt(`${target.host}/kit/lab/plain:1`);
  assert.equal(plainBack.json.config.digest, plain.configDigest);
  assert.match(result.units[1]!.note ?? '', /gzipped on the way: the digest will differ; the image ID stays/);
  assert.equal(result.units[0]!.note, undefined);
});

test('two images to one target are refused before any byte moves, naming both; nothing is tagged', async () => {
  const contents = await archiveOf(files.kit!);
  const same = `${target.host}/clash/one:1`;
  await assert.rejects(
    pushSet(contents, { targets: [same, same] }),
    (error: unknown) =>
      isSkiffError(error, 'invalid-argument') &&
      /Image 1 \(.*lab\/app:1\) and Image 2 \(.*lab\/plain:1\) would both go to/.test((error as Error).message),
  );
  const tags = await fetch(`${target.url}/v2/clash/one/tags/list`);
  assert.equal(tags.status, 404, 'the repository was never created');
});

test('an uncompressed docker save goes gzipped with a note; docker pull gives the same image ID', async () => {
  const contents = await archiveOf(files.dockerSave!);
  const [unit] = pushUnits(contents);
  assert.match(unit!.note ?? '', /the digest will differ; the image ID stays/);
  const result = await pushSet(contents, { prefix: `${target.host}/saved` });
  const reference = `${target.host}/saved/built/app:1`;
  assert.equal(result.units[0]!.target, reference);
  assert.match(result.notes.join('\n'), /the digest will differ; the image ID stays/);
  const id = (await dockerd.inspect('built/app:1')).Id;
  await dockerd.docker(['rmi', 'built/app:1']);
  await dockerd.docker(['pull', reference], { timeoutMs: 120_000 });
  assert.equal((await dockerd.inspect(reference)).Id, id);
});

test('npm run push -- FILE --to-prefix, and npm run copy -- -f LIST --to-prefix --platform all', async () => {
  const push = cli('push', files.kit!, '--to-prefix', `${target.host}/cli`, '--quiet');
  assert.equal(push.status, 0, push.stderr);
  assert.deepEqual(push.stdout.trim().split('\n'), [`${target.host}/cli/lab/app:1`, `${target.host}/cli/lab/plain:1`]);
  assert.match(push.stderr, new RegExp(`lab/app:1 → ${target.host}/cli/lab/app:1  ${app.manifestDigest}`));
  const list = join(dir.path, 'list.txt');
  writeFileSync(list, `# a release\n${index.reference} --platform all\n${app.reference}, ${plain.reference}\n`);
  const copy = cli('copy', '-f', list, '--to-prefix', `${target.host}/copied`, '--quiet');
  assert.equal(copy.status, 0, copy.stderr);
  assert.deepEqual(copy.stdout.trim().split('\n'), [
    `${target.host}/copied/lab/multi:1`,
    `${target.host}/copied/lab/app:1`,
    `${target.host}/copied/lab/plain:1`,
  ]);
  assert.equal((await rawAt(`${target.host}/copied/lab/multi:1`)).digest, index.digest);
  assert.equal(
    (await rawAt(`${target.host}/copied/lab/plain:1`)).digest,
    plain.manifestDigest,
    'a copy changes nothing',
  );
});
