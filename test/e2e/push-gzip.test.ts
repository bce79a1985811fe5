/**
 * The Push view gzips an uncompressed tar's layers over several cores: Chromium (over a bare DevTools pipe,
 * cdp-push.ts, so that DevTools keeps no upload bodies) pushes an image of zeros and noise; each layer arrives
 * as many gzip members (one per MiB block, made by the page's gzip workers), and real consumers read them:
 * skopeo (Go's gzip reader, as docker and containerd use) inflates each to its diff_id, and so do Skiff's own
 * pull and Node's gunzip. Chromium's RSS (every process, sampled each half second) rises less than 200 MB.
 *
 * SKIFF_PUSH_BIG_MB sets the image's size (nine tenths zeros, one tenth noise): 300 by default, about half a
 * minute here; 1200 is the size of the issue "Fast at the size of a release".
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { GunzipDecoder } from '../../src/core/codecs/gunzip.ts';
import { launchCdpChromium } from '../support/cdp-pipe.ts';
import { RssSampler, describeRises } from '../support/chromium-memory.ts';
import { type PushedImage, pushImage } from '../support/images.ts';
import { scratchDir } from '../support/process.ts';
import { pullToFile } from '../support/pull-to-file.ts';
import { type Registry, startRegistry } from '../support/registry.ts';
import { skopeoCopy } from '../support/skopeo.ts';
import { preparePush, runPush } from './cdp-push.ts';
import { buildApp, serveStatic, type StaticServer } from './harness.ts';

const MB = 1e6;
const IMAGE_BYTES = Number(process.env.SKIFF_PUSH_BIG_MB ?? 300) * MB;
const MAX_RISE = 200 * MB;
/** Generous: a loaded 2-core machine pushes ≥ 10 MB/s. */
const TIMEOUT_MS = 60_000 + (IMAGE_BYTES / (10 * MB)) * 1000;

let source: Registry;
let target: Registry;
let image: PushedImage;
let build: { dir: string; remove(): void };
let server: StaticServer;
const scratch = scratchDir('e2e-push-gzip');
const tar = join(scratch.path, 'uncompressed.tar');

before(async () => {
  [source, target, build] = await Promise.all([startRegistry(), startRegistry({ cors: 'push' }), buildApp()]);
  image = await pushImage(source, 'lab/zeros', '1', {
    format: 'docker',
    layers: [
      { compression: 'none', files: [{ path: 'zeros.bin', content: { zeros: Math.round(IMAGE_BYTES * 0.9) } }] },
      { compression: 'none', files: [{ path: 'noise.bin', content: { noise: Math.round(IMAGE_BYTES * 0.1) } }] },
    ],
  });
  await pullToFile([image.reference], tar, { layers: 'uncompressed' });
  server = await serveStatic(build.dir);
  server.config = {};
});

after(async () => {
  await server?.stop();
  await Promise.all([source?.stop(), target?.stop()]);
  build?.remove();
  scratch.remove();
});

/** A layer blob fetched back, inflated by Skiff's gunzip: its sha256 and whether it held several members. */
async function inflated(repository: string, digest: string): Promise<{ diffId: string; multiMember: boolean }> {
  const answer = await fetch(`${target.url}/v2/${repository}/blobs/${digest}`);
  assert.equal(answer.status, 200);
  const decoder = new GunzipDecoder(digest, { reuseOutput: true });
  const hash = createHash('sha256');
  for await (const chunk of Readable.fromWeb(answer.body! as never) as AsyncIterable<Buffer>)
    for (const out of decoder.push(chunk)) hash.update(out);
  for (const out of decoder.finish()) hash.update(out);
  return { diffId: `sha256:${hash.digest('hex')}`, multiMember: decoder.multiMember };
}

describe(`push of an uncompressed ${IMAGE_BYTES / MB} MB tar from the Push view`, () => {
  it('gzips every layer over several workers, in flat memory, and docker-like readers inflate them to their diff_ids', async () => {
    const reference = `${target.host}/pushed/zeros:1`;
    const browser = await launchCdpChromium(join(scratch.path, 'profile'));
    const sampler = new RssSampler(500);
    let seconds: number;
    try {
      await preparePush(browser, server.url, tar, reference);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      sampler.start();
      const started = performance.now();
      await runPush(browser, TIMEOUT_MS);
      seconds = (performance.now() - started) / 1000;
    } finally {
      const report = sampler.stop();
      await browser.close();
      console.log(
        `# ${IMAGE_BYTES / MB} MB pushed, Chromium RSS rise ${(report.peakRise / 2 ** 20).toFixed(0)} MiB: ${describeRises(report)}`,
      );
      assert.ok(report.peakRise < MAX_RISE, `Chromium's RSS rose ${(report.peakRise / MB).toFixed(0)} MB`);
    }
    console.log(`# in ${seconds.toFixed(1)} s (${(IMAGE_BYTES / MB / seconds).toFixed(0)} MB/s)`);

    const manifest = (await (
      await fetch(`${target.url}/v2/pushed/zeros/manifests/1`, {
        headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' },
      })
    ).json()) as { config: { digest: string }; layers: { digest: string; mediaType: string }[] };
    assert.equal(manifest.config.digest, image.configDigest, 'the image ID is the one in the tar');
    const layers = await Promise.all(manifest.layers.map((l) => inflated('pushed/zeros', l.digest)));
    assert.deepEqual(
      layers.map((l) => l.diffId),
      image.diffIds,
      "Skiff's gunzip inflates each layer to its diff_id",
    );
    assert.ok(
      layers.every((l) => l.multiMember),
      'each layer is many gzip members: gzipped block by block in the workers',
    );

    // skopeo reads with Go's compress/gzip (multistream, as docker and containerd): each layer decompressed
    // lands in a file named by its digest, which is then its diff_id.
    const dir = join(scratch.path, 'skopeo-dir');
    mkdirSync(dir);
    await skopeoCopy(`docker://${reference}`, `dir:${dir}`, ['--src-tls-verify=false', '--dest-decompress']);
    const files = readdirSync(dir);
    for (const diffId of image.diffIds) assert.ok(files.includes(diffId.slice(7)), `skopeo wrote ${diffId}`);

    // Skiff's own pull checks every layer against its diff_id as it inflates.
    await pullToFile([reference], join(scratch.path, 'pulled.tar'), { layers: 'uncompressed' });
  });
});
