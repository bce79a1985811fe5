import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Descriptor } from '../image/manifest.ts';
import { ZSTD_HOLD_BYTES, blobReads, initialProgress, planPull } from './plan.ts';

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const gzip = 'application/vnd.oci.image.layer.v1.tar+gzip';
const zstd = 'application/vnd.oci.image.layer.v1.tar+zstd';
const plain = 'application/vnd.oci.image.layer.v1.tar';

function layer(c: string, mediaType: string, extra: Partial<Descriptor> = {}) {
  return { descriptor: { mediaType, digest: digest(c), size: 100, ...extra }, diffId: digest(c.toUpperCase()) };
}

test('each layer gets one action, with its reason, in uncompressed mode', () => {
  const plan = planPull(
    [
      {
        layers: [
          layer('a', gzip),
          layer('b', zstd),
          layer('c', plain),
          layer('d', gzip, { annotations: { 'containerd.io/snapshot/stargz/toc.digest': digest('0') } }),
          layer('e', gzip, { annotations: { 'io.containers.estargz.uncompressed-size': '4096' } }),
        ],
      },
    ],
    'uncompressed',
  );
  assert.deepEqual(
    plan.map((l) => l.action),
    [
      { kind: 'inflate', size: undefined, sizeFrom: 'gzip-trailer' },
      {
        kind: 'measure-then-inflate',
        reason: 'zstd layers state their inflated size only in their frame headers, if at all',
        fetchedOnce: true,
      },
      { kind: 'as-served', verifyDiffId: true, reason: 'the blob is uncompressed' },
      { kind: 'keep-compressed', reason: 'eStargz layer of many gzip members' },
      { kind: 'inflate', size: 4096, sizeFrom: 'annotation' },
    ],
  );
  assert.deepEqual(plan.map(blobReads), [1, 1, 1, 1, 1]);
});

test('as-pulled keeps every blob as served, inflating only to check diff_ids unless told not to', () => {
  const images = [{ layers: [layer('a', gzip), layer('b', zstd)] }];
  assert.deepEqual(
    planPull(images, 'as-pulled').map((l) => l.action),
    [
      { kind: 'as-served', verifyDiffId: true, reason: 'as-pulled mode' },
      { kind: 'as-served', verifyDiffId: true, reason: 'as-pulled mode' },
    ],
  );
  assert.ok(
    planPull(images, 'as-pulled', { verifyDiffIds: false }).every(
      (l) => l.action.kind === 'as-served' && !l.action.verifyDiffId,
    ),
  );
});

test('a layer two images share is fetched once: by blob digest, or by diff_id when written inflated', () => {
  const sameDiff = { descriptor: { mediaType: zstd, digest: digest('z'), size: 90 }, diffId: digest('A') };
  const images = [{ layers: [layer('a', gzip), layer('b', gzip)] }, { layers: [layer('b', gzip), sameDiff] }];
  const uncompressed = planPull(images, 'uncompressed');
  assert.deepEqual(
    uncompressed.map((l) => l.sharedWith),
    [undefined, undefined, 1, 0],
  );
  assert.deepEqual(uncompressed.map(blobReads), [1, 1, 0, 0]);
  // As pulled, a zstd blob is another file than the gzip one, whatever it inflates to.
  assert.deepEqual(
    planPull(images, 'as-pulled').map((l) => l.sharedWith),
    [undefined, undefined, 1, undefined],
  );
  const progress = initialProgress(uncompressed);
  assert.deepEqual(
    progress.blobs.map((l) => [l.image, l.state]),
    [
      [0, 'waiting'],
      [0, 'waiting'],
      [1, 'shared'],
      [1, 'shared'],
    ],
  );
  assert.equal(progress.totalBytes, 200, 'bytes to fetch count each blob once');
});

test('a non-distributable layer with URLs is marked foreign', () => {
  const foreign = 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip';
  const plan = planPull(
    [{ layers: [layer('f', foreign, { urls: ['https://cdn.test/f'] }), layer('g', foreign)] }],
    'uncompressed',
  );
  assert.deepEqual(
    plan.map((l) => l.foreign),
    [true, false],
  );
});

test('a zstd blob small enough to hold is fetched once; a bigger one twice, never held whole', () => {
  const plan = planPull(
    [{ layers: [layer('a', zstd, { size: ZSTD_HOLD_BYTES }), layer('b', zstd, { size: ZSTD_HOLD_BYTES + 1 })] }],
    'uncompressed',
  );
  assert.deepEqual(
    plan.map((l) => l.action.kind === 'measure-then-inflate' && l.action.fetchedOnce),
    [true, false],
  );
  assert.deepEqual(plan.map(blobReads), [1, 2]);
});
