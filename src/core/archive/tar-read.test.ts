import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { digestFromName } from './reader.ts';
import { SequentialDecompressedBlob, fromWebBlob, readBytes, sniff } from './random-access.ts';
import { GunzipDecoder } from '../codecs/gunzip.ts';
import { SkiffError } from '../errors.ts';
import { TarIndex, walkTar } from './tar-read.ts';
import { TarWriter } from './tar.ts';

const blobOf = (bytes: Uint8Array) => fromWebBlob(new Blob([bytes as Uint8Array<ArrayBuffer>]));

async function text(index: TarIndex, name: string): Promise<string> {
  const entry = index.find(name);
  assert.ok(entry, `${name} found`);
  return new TextDecoder().decode(await index.read(entry, 1 << 20, name));
}

test('walks GNU tar headers: long names (GNU and PAX), symlinks and hardlinks followed, data where it is', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tar-read-'));
  try {
    const src = join(dir, 'src');
    const long = `${'d'.repeat(90)}/${'f'.repeat(120)}.json`;
    mkdirSync(join(src, 'd'.repeat(90)), { recursive: true });
    writeFileSync(join(src, long), '{"long":true}');
    mkdirSync(join(src, 'abc'));
    writeFileSync(join(src, 'abc', 'layer.tar'), 'x'.repeat(5000));
    mkdirSync(join(src, 'def'));
    symlinkSync('../abc/layer.tar', join(src, 'def', 'layer.tar'));
    for (const format of ['gnu', 'posix']) {
      const tarPath = join(dir, `${format}.tar`);
      execFileSync('tar', ['--format', format, '-cf', tarPath, '-C', src, '.']);
      const bytes = readFileSync(tarPath);
      const index = new TarIndex(blobOf(bytes), await walkTar(blobOf(bytes)));
      assert.equal(await text(index, long), '{"long":true}', format);
      assert.equal((await text(index, 'def/layer.tar')).length, 5000, 'symlink followed');
      const layer = index.find('abc/layer.tar')!;
      assert.equal(new TextDecoder().decode(bytes.subarray(layer.offset, layer.offset + 3)), 'xxx');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("reads Skiff's own writer (PAX names), and refuses a truncated tar or one with a bad checksum", async () => {
  const chunks: Uint8Array[] = [];
  const tar = new TarWriter({ write: async (c) => void chunks.push(c.slice()) });
  const long = `blobs/sha256/${'a'.repeat(64)}/${'n'.repeat(150)}`;
  await tar.addFile(long, new Uint8Array(700).fill(1));
  await tar.addFile('manifest.json', new TextEncoder().encode('[]'));
  await tar.finish();
  const bytes = Buffer.concat(chunks);
  const entries = await walkTar(blobOf(bytes));
  assert.deepEqual(
    entries.map((e) => [e.name, e.size]),
    [
      [long, 700],
      ['manifest.json', 2],
    ],
  );
  for (const cut of [1000, 1300, 1600])
    await assert.rejects(
      walkTar(blobOf(bytes.subarray(0, cut))),
      (e: unknown) => e instanceof SkiffError,
      `cut at ${cut}`,
    );
  const bad = Buffer.from(bytes);
  bad[3]! ^= 1;
  await assert.rejects(walkTar(blobOf(bad)), /wrong checksum/);
});

test('a compressed tar is read in order, and a slice behind the point reached starts over', async () => {
  const plain = new Uint8Array(3 * 1024 * 1024);
  for (let i = 0; i < plain.length; i++) plain[i] = (i * 7) % 251;
  const view = new SequentialDecompressedBlob(blobOf(gzipSync(plain)), () => new GunzipDecoder('test'));
  const at = (start: number, end: number) => readBytes(view, start, end);
  assert.deepEqual(await at(10, 20), plain.subarray(10, 20));
  assert.deepEqual(await at(2_000_000, 2_100_000), plain.subarray(2_000_000, 2_100_000));
  assert.equal(view.restarts, 0);
  assert.deepEqual(await at(5, 9), plain.subarray(5, 9));
  assert.equal(view.restarts, 1);
  assert.equal((await at(3 * 1024 * 1024 - 10, 3 * 1024 * 1024 + 100)).byteLength, 10, 'short at the end');
});

test('content-addressed names give digests; magic bytes give the compression', () => {
  const hex = 'ab'.repeat(32);
  assert.equal(digestFromName(`blobs/sha256/${hex}`), `sha256:${hex}`);
  assert.equal(digestFromName(`sha256:${hex}`), `sha256:${hex}`);
  assert.equal(digestFromName(`${hex}.tar.gz`), `sha256:${hex}`);
  assert.equal(digestFromName(`${hex}.json`), `sha256:${hex}`);
  assert.equal(digestFromName(`${hex}/layer.tar`), undefined, 'a legacy layer ID is not its digest');
  assert.equal(sniff(gzipSync(new Uint8Array(1))), 'gzip');
  assert.equal(sniff(new Uint8Array([0x28, 0xb5, 0x2f, 0xfd])), 'zstd');
  assert.equal(sniff(new Uint8Array([0x50, 0x4b, 3, 4])), 'zip');
  assert.equal(sniff(new Uint8Array(512)), 'other');
});
