/**
 * Layers inflated on the host's own gunzip (the page's `DecompressionStream`, the CLI's zlib) give the
 * same archive as pako, byte for byte, also where the native stream stops after one gzip member, as
 * Chromium's does: pako takes over on the layer fetched again. Multi-member layers whose manifest states
 * their size (eStargz's annotation) are written inflated in uncompressed mode, and `docker load` takes them.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { zlibGunzip } from '../../src/cli/zlib-gunzip.ts';
import type { NativeGunzip } from '../../src/core/codecs/native-gunzip.ts';
import type { LayerMode } from '../../src/core/pull.ts';
import { type Dockerd, startDockerd } from '../support/dockerd.ts';
import { type PushedImage, prose, pushImage } from '../support/images.ts';
import { oneMemberGunzip } from '../support/one-member-gunzip.ts';
import { scratchDir } from '../support/process.ts';
import { pullToFile, readJsonFromTar } from '../support/pull-to-file.ts';
import { type Registry, startRegistry } from '../support/registry.ts';

let registry: Registry;
let dockerd: Dockerd;
let image: PushedImage;
const dir = scratchDir('native-inflate');
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

before(async () => {
  registry = await startRegistry();
  const files = (name: string) => [
    { path: `${name}/text.txt`, content: prose(300_000, name) },
    { path: `${name}/zeros.bin`, content: { zeros: 2_000_000 } },
    { path: `${name}/noise.bin`, content: { noise: 200_000 } },
  ];
  image = await pushImage(registry, 'native/members', 'v1', {
    format: 'oci',
    layers: [
      // eStargz-like: a gzip member per file group, the size stated in the manifest.
      { compression: 'gzip', members: 4, statesSize: true, files: [...files('a'), ...files('b'), ...files('c')] },
      { compression: 'gzip', files: files('single') },
    ],
  });
  dockerd = await startDockerd();
});

after(async () => {
  await dockerd?.stop();
  await registry?.stop();
  dir.remove();
});

const GUNZIPS: [string, NativeGunzip | undefined][] = [
  ['pako', undefined],
  ['one member, then pako (as in Chromium)', oneMemberGunzip],
  ['zlib (the CLI)', zlibGunzip],
];

describe('native gunzip', () => {
  for (const mode of ['uncompressed', 'as-pulled'] as LayerMode[]) {
    test(`${mode}: the archive is byte-identical whichever gunzip inflates, and docker loads it`, async () => {
      const digests = new Set<string>();
      for (const [name, gunzip] of GUNZIPS) {
        const tar = join(dir.path, `${mode}-${name.split(' ')[0]}.tar`);
        const result = await pullToFile([image.reference], tar, { layers: mode, ...(gunzip ? { gunzip } : {}) });
        assert.deepEqual(result.notes, [], `${name}: no layer kept compressed`);
        digests.add(sha256(tar));
        if (name === 'pako') {
          const manifest = await readJsonFromTar(tar, 'manifest.json');
          const stored = mode === 'uncompressed' ? image.diffIds : image.layers.map((l) => l.digest);
          assert.deepEqual(
            manifest[0].Layers,
            stored.map((d) => `blobs/sha256/${d.slice(7)}`),
          );
        }
        if (gunzip === oneMemberGunzip) {
          await dockerd.load(tar);
          const loaded = await dockerd.inspect(image.reference);
          assert.deepEqual(loaded.RootFS.Layers, image.diffIds);
          await dockerd.docker(['rmi', '-f', image.configDigest]);
        }
      }
      assert.equal(digests.size, 1, 'one archive, byte for byte');
    });
  }

  test('a layer that inflates many times over (zeros) stays on pako where the native gunzip says so', async () => {
    const zeros = await pushImage(registry, 'native/zeros', 'v1', {
      format: 'oci',
      layers: [
        { compression: 'gzip', files: [{ path: 'zeros.img', content: { zeros: 20_000_000 } }] },
        { compression: 'gzip', files: [{ path: 'text.txt', content: prose(300_000, 'z') }] },
      ],
    });
    let streams = 0;
    const counted = Object.assign(
      () => {
        streams++;
        return oneMemberGunzip();
      },
      { maxRatio: 16 },
    );
    await pullToFile([zeros.reference], join(dir.path, 'zeros.tar'), { layers: 'uncompressed', gunzip: counted });
    assert.equal(streams, 1, 'the text layer only');
  });

  test('a multi-member layer whose size is not stated stays compressed in uncompressed mode, as before', async () => {
    const unstated = await pushImage(registry, 'native/unstated', 'v1', {
      format: 'oci',
      layers: [{ compression: 'gzip', members: 3, files: [{ path: 'a.txt', content: prose(100_000, 'u') }] }],
    });
    const result = await pullToFile([unstated.reference], join(dir.path, 'unstated.tar'), {
      layers: 'uncompressed',
      gunzip: oneMemberGunzip,
    });
    assert.match(result.notes.join('\n'), /kept gzip-compressed in the archive \(multi-member gzip\)/);
  });
});
