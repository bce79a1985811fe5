/**
 * A layer over 1 GiB (zeros: 1.1 MB on the wire, 1000:1) pulled by `npm run pull` in a child process:
 * memory stays flat, far below the layer's size, and dockerd loads the archive with the right ID.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Dockerd, startDockerd } from '../support/dockerd.ts';
import { BIG_FILE_BYTES, type PushedImage, bigZerosSpec, pushImage } from '../support/images.ts';
import { scratchDir } from '../support/process.ts';
import { type Registry, startRegistry } from '../support/registry.ts';

const root = join(import.meta.dirname, '..', '..');
const dir = scratchDir('big');
let registry: Registry;
let image: PushedImage;
let dockerd: Dockerd;

before(async () => {
  registry = await startRegistry();
  image = await pushImage(registry, 'big/zeros', 'v1', bigZerosSpec());
  dockerd = await startDockerd();
});
after(async () => {
  await dockerd?.stop();
  await registry?.stop();
  dir.remove();
});

test('a 1.1 GiB layer streams through in flat memory and loads with the right ID', async () => {
  const out = join(dir.path, 'big.tar');
  const run = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      join(root, 'src/cli/pull.ts'),
      image.reference,
      '-o',
      out,
      '--quiet',
      '--stats',
      '--layers',
      'uncompressed',
    ],
    { cwd: root, encoding: 'utf8' },
  );
  assert.equal(run.status, 0, run.stderr);
  const stats = JSON.parse(run.stdout.trim()) as { seconds: number; peakRssBytes: number };
  console.log(`# big layer: ${stats.seconds.toFixed(1)} s, peak RSS ${(stats.peakRssBytes / 2 ** 20).toFixed(0)} MiB`);
  assert.ok(statSync(out).size > BIG_FILE_BYTES, 'the layer is in the archive inflated');
  // The layer is 1126 MiB; a process that held it would be far above this bound. Two V8 threads (the
  // hash thread is one) and collector timing make up most of what is measured.
  assert.ok(stats.peakRssBytes < 400 * 2 ** 20, `peak RSS ${stats.peakRssBytes} bytes`);
  await dockerd.load(out);
  const inspected = await dockerd.inspect(image.configDigest);
  assert.equal(inspected.Id, image.configDigest);
  assert.deepEqual(inspected.RootFS.Layers, image.diffIds);
});
