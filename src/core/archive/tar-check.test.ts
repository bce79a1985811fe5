import assert from 'node:assert/strict';
import { test } from 'node:test';
import { oddNameFiles } from '../../../test/support/images.ts';
import { tarEntries } from '../../../test/support/tar-build.ts';
import { SkiffError } from '../errors.ts';
import { TarChecker } from './tar-check.ts';
import { TarWriter } from './tar.ts';

function check(bytes: Uint8Array, chunk: number): void {
  const checker = new TarChecker('Layer t');
  for (let i = 0; i < bytes.byteLength; i += chunk) checker.push(bytes.subarray(i, i + chunk));
  checker.finish();
}

const layer = Buffer.concat([
  ...tarEntries([
    ...oddNameFiles(),
    { path: 'dir', type: 'dir' },
    { path: 'dir/link', type: 'symlink', linkname: '../target' },
    { path: 'data.bin', content: new Uint8Array(5000).fill(1) },
    { path: 'dir/hard', type: 'hardlink', linkname: 'data.bin' },
  ]),
]);

test('real layers pass, whatever the chunking: PAX names, links, directories, end marker', () => {
  for (const size of [1, 100, 512, 513, 65536]) check(layer, size);
});

test('our own archive writer passes too, PAX size records included', async () => {
  const chunks: Uint8Array[] = [];
  const tar = new TarWriter({ write: async (c) => void chunks.push(c.slice()) });
  await tar.addFile(`${'n'.repeat(200)}/file`, new Uint8Array(700));
  await tar.finish();
  check(Buffer.concat(chunks), 333);
});

test('an entry that runs past the end of the layer is named', () => {
  const dataHeader = layer.indexOf(Buffer.from('data.bin'));
  const cut = layer.subarray(0, dataHeader + 512 + 1000);
  assert.throws(
    () => check(cut, 4096),
    (e) =>
      e instanceof SkiffError &&
      e.code === 'malformed-layer' &&
      /"data\.bin" declares 5000 bytes but the layer ends after 1000/.test(e.message),
  );
});

test('a layer that is not a tar, or ends inside a header, is refused', () => {
  assert.throws(
    () => check(new TextEncoder().encode('x'.repeat(2048)), 100),
    (e) => e instanceof SkiffError && /checksum/.test(e.message),
  );
  assert.throws(
    () => check(layer.subarray(0, 700), 100),
    (e) => e instanceof SkiffError && /(ends inside a tar header|declares)/.test(e.message),
  );
});

test('a layer may end right after the last entry, as umoci writes them and docker loads them', () => {
  const withoutEnd = Buffer.concat([
    ...tarEntries([{ path: 'etc/arch', content: new TextEncoder().encode('x86_64\nabc\n') }], undefined, false),
  ]);
  // etc/, then etc/arch's header and one padded data block; no end-of-archive blocks.
  assert.equal(withoutEnd.byteLength, 1536);
  const data = 1024;
  const cuts = {
    'after the data, no padding': data + 11,
    'inside the padding': data + 100,
    'after the padding, no end blocks': data + 512,
  };
  for (const [name, end] of Object.entries(cuts)) {
    for (const chunk of [1, 7, 512, 4096]) {
      assert.doesNotThrow(() => check(withoutEnd.subarray(0, end), chunk), `${name}, chunks of ${chunk}`);
    }
  }
  assert.throws(
    () => check(withoutEnd.subarray(0, data + 10), 64),
    (e) => e instanceof SkiffError && /"etc\/arch" declares 11 bytes but the layer ends after 10/.test(e.message),
  );
});
