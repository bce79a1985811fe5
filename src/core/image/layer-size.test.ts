import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planLayerSize, sizeFromIsize } from './layer-size.ts';

const D = `sha256:${'1'.repeat(64)}`;
const gzipLayer = (size: number, annotations?: Record<string, string>) => ({
  mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
  digest: D,
  size,
  ...(annotations ? { annotations } : {}),
});
function tail(isize: number): Uint8Array {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setUint32(4, isize >>> 0, true);
  return bytes;
}

test('ISIZE is trusted when the blob is too small to inflate past 4 GiB (1 GiB of zeros gzips to ~1 MB)', () => {
  assert.deepEqual(planLayerSize(gzipLayer(1_100_000), 'gzip', tail(1_181_116_006)), {
    kind: 'exact',
    size: 1_181_116_006,
  });
});

test('past 4 GiB, ISIZE is used only when exactly one size has a plausible ratio', () => {
  const GiB = 2 ** 30;
  // 300 MB gzip: 900 MB (ratio 3) is plausible, 900 MB + 4 GiB (ratio 17) is not.
  assert.equal(sizeFromIsize(900e6, 300e6), 900e6);
  // 2 GiB gzip reading 1 GiB: 5, 9, 13 … GiB all have plausible ratios, so no single answer.
  assert.equal(sizeFromIsize(GiB, 2 * GiB), undefined);
  // 1 GiB compressed reading 1 GiB: 1 GiB (ratio 1) and 5 GiB (ratio 5) are both plausible.
  assert.equal(sizeFromIsize(GiB, GiB), undefined);
  assert.deepEqual(planLayerSize(gzipLayer(GiB), 'gzip', tail(GiB)).kind, 'keep-compressed');
});

test('uncompressed, zstd, eStargz and missing Range each get their plan', () => {
  assert.deepEqual(
    planLayerSize({ ...gzipLayer(5), mediaType: 'application/vnd.oci.image.layer.v1.tar' }, 'none', undefined),
    { kind: 'exact', size: 5 },
  );
  assert.deepEqual(planLayerSize(gzipLayer(5), 'zstd', undefined), { kind: 'measure' });
  assert.deepEqual(planLayerSize(gzipLayer(5), 'gzip', undefined).kind, 'keep-compressed');
  assert.deepEqual(
    planLayerSize(gzipLayer(5, { 'containerd.io/snapshot/stargz/toc.digest': D }), 'gzip', tail(1)).kind,
    'keep-compressed',
  );
  assert.deepEqual(
    planLayerSize(gzipLayer(5, { 'io.containers.estargz.uncompressed-size': '12345' }), 'gzip', tail(1)),
    { kind: 'exact', size: 12345 },
  );
});
