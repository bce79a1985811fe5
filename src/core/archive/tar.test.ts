import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { TarWriter, encodeHeader } from './tar.ts';
import { SkiffError } from '../errors.ts';

async function build(write: (tar: TarWriter) => Promise<void>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const tar = new TarWriter({ write: async (c) => void chunks.push(c.slice()) });
  await write(tar);
  await tar.finish();
  return Buffer.concat(chunks);
}

test('GNU tar reads what the writer wrote: short, long (PAX) and unicode names, byte for byte', async () => {
  const long = `blobs/${'d'.repeat(120)}/${'f'.repeat(150)}.json`;
  const files: [string, Uint8Array][] = [
    ['manifest.json', new TextEncoder().encode('[{"Config":"x"}]')],
    [long, new Uint8Array(1000).fill(7)],
    ['中文/名字 with "quotes".txt', new TextEncoder().encode('hello')],
    ['empty', new Uint8Array(0)],
  ];
  const archive = await build(async (tar) => {
    await tar.addDirectory('blobs');
    for (const [name, data] of files) await tar.addFile(name, data);
  });
  assert.equal(archive.byteLength % 512, 0);
  const dir = mkdtempSync(join(tmpdir(), 'skiff-tar-'));
  try {
    writeFileSync(join(dir, 'a.tar'), archive);
    const listing = execFileSync('tar', ['-tf', join(dir, 'a.tar')], { encoding: 'utf8' })
      .trim()
      .split('\n');
    assert.deepEqual(listing, ['blobs/', ...files.map(([n]) => n)]);
    execFileSync('tar', ['-xf', join(dir, 'a.tar'), '-C', dir]);
    for (const [name, data] of files) assert.deepEqual(new Uint8Array(readFileSync(join(dir, name))), data);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sizes of 8 GiB and more get a PAX size record', () => {
  const header = encodeHeader({ name: 'big', size: 9 * 2 ** 30 });
  assert.equal(header.byteLength, 1536);
  const pax = new TextDecoder().decode(header.subarray(512, 1024));
  assert.match(pax, /^\d+ size=9663676416\n/);
  const [length] = pax.split(' ');
  assert.equal(Number(length), `${length} size=9663676416\n`.length);
});

test('an entry refuses more or fewer bytes than its header declared', async () => {
  await assert.rejects(
    build(async (tar) => {
      const entry = await tar.beginEntry({ name: 'x', size: 3 });
      await entry.write(new Uint8Array(4));
    }),
    (e) => e instanceof SkiffError && e.code === 'size-mismatch',
  );
  await assert.rejects(
    build(async (tar) => {
      const entry = await tar.beginEntry({ name: 'x', size: 3 });
      await entry.write(new Uint8Array(2));
      await entry.end();
    }),
    (e) => e instanceof SkiffError && e.code === 'size-mismatch',
  );
});
