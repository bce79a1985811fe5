/**
 * Push at the size of a release: the blobs of an uncompressed tar go up several at once (counted by a proxy
 * in front of a real registry), a compressed tar's one after another in its order, and a 1.2 GB tar goes up
 * through `npm run push` in flat memory; what arrives is whole: the config is the archive's, and every layer
 * inflates to its diff_id.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { openAsBlob, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { createGunzip } from 'node:zlib';
import { readArchive } from '../../src/core/archive/reader.ts';
import { fromWebBlob } from '../../src/core/archive/random-access.ts';
import { pushArchive } from '../../src/core/push.ts';
import { type FaultProxy, type ProxiedRequest, fault, startFaultProxy } from '../support/fault-proxy.ts';
import { type PushedImage, type LayerSpec, pushImage } from '../support/images.ts';
import { runCommand, scratchDir } from '../support/process.ts';
import { type Registry, startRegistry } from '../support/registry.ts';
import { skopeo, skopeoCopy } from '../support/skopeo.ts';

const root = join(import.meta.dirname, '..', '..');
const dir = scratchDir('push-speed');
const MB = 1e6;
let source: Registry;
let target: Registry;
let proxy: FaultProxy;
let small: PushedImage;
let big: PushedImage;
const tars = { small: join(dir.path, 'small.tar'), big: join(dir.path, 'big.tar') };

const noiseLayer = (name: string, bytes: number): LayerSpec => ({
  compression: 'none',
  files: [{ path: `data/${name}.bin`, content: { noise: bytes } }],
});

before(async () => {
  [source, target] = await Promise.all([startRegistry(), startRegistry()]);
  // Every PATCH waits a little at the proxy: blobs moving one after another never overlap there.
  proxy = await startFaultProxy(target.url, (request) => (request.method === 'PATCH' ? fault.delay(150) : undefined));
  small = await pushImage(source, 'lab/layers', 'v1', {
    format: 'docker',
    layers: ['a', 'b', 'c', 'd'].map((name) => noiseLayer(name, 3 * MB)),
  });
  // 1.1 GB of zeros and 128 MiB of noise, uncompressed: the lab image of the issue "Fast at the size of a release".
  big = await pushImage(source, 'lab/big', 'v1', {
    format: 'docker',
    layers: [
      { compression: 'none', files: [{ path: 'big/zeros.bin', content: { zeros: 1.1e9 } }] },
      noiseLayer('noise', 128 * 2 ** 20),
    ],
  });
  for (const [key, image] of [
    ['small', small],
    ['big', big],
  ] as const)
    await skopeoCopy(`docker://${image.reference}`, `docker-archive:${tars[key]}:${image.repository}:v1`, [
      '--src-tls-verify=false',
    ]);
  await runCommand('sh', ['-c', `gzip -1 -c ${tars.small} > ${tars.small}.gz`]);
});
after(async () => {
  await proxy?.stop();
  await Promise.all([source?.stop(), target?.stop()]);
  dir.remove();
});

/** The most upload sessions open at once: each opened by a POST, closed by its PUT `?digest=`. */
function peakUploads(requests: ProxiedRequest[]): number {
  let open = 0;
  let peak = 0;
  for (const r of requests) {
    if (r.method === 'POST' && r.path.includes('/blobs/uploads/') && !r.path.includes('mount=')) open++;
    if (r.method === 'PUT' && r.path.includes('digest=')) open--;
    peak = Math.max(peak, open);
  }
  return peak;
}

/** Every layer of the pushed image, fetched back and inflated, against the config's diff_ids. */
async function assertLayersWhole(reference: string, image: PushedImage): Promise<void> {
  const { stdout } = await skopeo(['inspect', '--tls-verify=false', '--raw', `docker://${reference}`]);
  const manifest = JSON.parse(stdout) as { config: { digest: string }; layers: { digest: string }[] };
  assert.equal(manifest.config.digest, image.configDigest, 'the config goes byte for byte: same image ID');
  const [registry, repository] = [reference.split('/')[0], reference.slice(reference.indexOf('/') + 1).split(':')[0]];
  const diffIds: string[] = [];
  for (const layer of manifest.layers) {
    const answer = await fetch(`http://${registry}/v2/${repository}/blobs/${layer.digest}`);
    assert.equal(answer.status, 200);
    const hash = createHash('sha256');
    for await (const chunk of Readable.fromWeb(answer.body! as never).pipe(createGunzip())) hash.update(chunk);
    diffIds.push(`sha256:${hash.digest('hex')}`);
  }
  assert.deepEqual(diffIds, image.diffIds, 'each layer inflates to its diff_id');
}

test('the layers of an uncompressed tar go up several at once, and arrive whole', async () => {
  proxy.reset();
  const contents = await readArchive(fromWebBlob(await openAsBlob(tars.small)));
  assert.equal(contents.sequential, false);
  const reference = `${proxy.host}/pushed/layers:v1`;
  const result = await pushArchive(contents, [{ image: 0, reference }]);
  assert.equal(result.copied, 4);
  const peak = peakUploads(proxy.requests);
  assert.ok(peak >= 2, `at most ${peak} upload(s) open at once`);
  assert.ok(peak <= 3, `${peak} uploads open at once, more than the bound of 3`);
  await assertLayersWhole(`${target.host}/pushed/layers:v1`, small);
});

test('a compressed tar is read once, in order: its layers go up one after another', async () => {
  proxy.reset();
  const contents = await readArchive(fromWebBlob(await openAsBlob(`${tars.small}.gz`)));
  assert.equal(contents.sequential, true);
  const result = await pushArchive(contents, [{ image: 0, reference: `${proxy.host}/pushed/sequential:v1` }]);
  assert.equal(result.copied, 4);
  assert.equal(peakUploads(proxy.requests), 1);
  await assertLayersWhole(`${target.host}/pushed/sequential:v1`, small);
});

/** Runs the CLI, sampling its resident memory every 50 ms; the peak in bytes. */
async function cliPeakRss(args: string[]): Promise<{ code: number; peak: number; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/push.ts'), ...args], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
  let peak = 0;
  const timer = setInterval(() => {
    try {
      const kib = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0);
      peak = Math.max(peak, kib * 1024);
    } catch {
      // it has just exited
    }
  }, 50);
  const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
  clearInterval(timer);
  return { code, peak, stderr };
}

test('npm run push of a 1.2 GB tar: memory stays flat, and the layers arrive whole', async () => {
  // What the CLI holds having read the archive, before any layer moves: the base the push may rise from.
  const listed = await cliPeakRss([tars.big, '--list']);
  assert.equal(listed.code, 0, listed.stderr);
  const reference = `${target.host}/pushed/big:v1`;
  const pushed = await cliPeakRss([tars.big, '--to', reference, '--quiet']);
  assert.equal(pushed.code, 0, pushed.stderr);
  const rise = pushed.peak - listed.peak;
  console.log(
    `# push of 1.2 GB: peak RSS ${(pushed.peak / 2 ** 20).toFixed(0)} MiB, ${(rise / 2 ** 20).toFixed(0)} MiB over the archive read alone`,
  );
  // The tar is 1177 MiB; a push that held a layer would rise far past this bound.
  assert.ok(rise < 200 * MB, `RSS rose ${rise} bytes`);
  await assertLayersWhole(reference, big);
});
