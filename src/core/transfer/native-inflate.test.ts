import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { oneMemberGunzip } from '../../../test/support/one-member-gunzip.ts';
import { zlibGunzip } from '../../cli/zlib-gunzip.ts';
import { GunzipDecoder } from '../codecs/gunzip.ts';
import { type NativeGunzip, probedGunzip, webGunzip } from '../codecs/native-gunzip.ts';
import { SkiffError } from '../errors.ts';
import { nativeInflateStage } from './native-inflate.ts';

/** What pako makes of `gz`: the output every native path must match byte for byte. */
function pako(gz: Uint8Array): Buffer {
  const decoder = new GunzipDecoder('pako');
  return Buffer.concat([...decoder.push(gz), ...decoder.finish()]);
}

/** Inflates `gz` (fed in chunks of `size`) through the native stage; counts how often pako took over. */
async function inflate(gunzip: NativeGunzip, gz: Uint8Array, size = 64 * 1024) {
  const parts: Buffer[] = [];
  let restarts = 0;
  const stage = nativeInflateStage(
    {
      gunzip,
      restart: async function* () {
        restarts++;
        for (let at = 0; at < gz.byteLength; at += 5000) yield gz.subarray(at, at + 5000);
      },
    },
    'Layer x',
    [{ push: (piece) => void parts.push(Buffer.from(piece)) }],
  );
  for (let at = 0; at < gz.byteLength; at += size) await stage.push(gz.subarray(at, at + size));
  await stage.drain?.();
  await stage.verify?.();
  return { out: Buffer.concat(parts), restarts };
}

/** A multi-member file as gzip(1) makes it: `gzip -c a > x; gzip -c b >> x`. */
function gzipMembers(...contents: Buffer[]): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-members-'));
  try {
    const out = join(dir, 'x.gz');
    contents.forEach((content, i) => {
      writeFileSync(join(dir, `m${i}`), content);
      execFileSync('bash', ['-c', `gzip -c m${i} ${i === 0 ? '>' : '>>'} x.gz`], { cwd: dir });
    });
    return execFileSync('cat', [out]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const text = Buffer.from('a layer of text '.repeat(40_000));
const noise = randomBytes(300_000);

test('the native gunzip is chosen only when it inflates a sample right; else pako', async () => {
  assert.equal(await probedGunzip(undefined), undefined, 'no DecompressionStream: pako');
  const web = webGunzip();
  assert.ok(web, 'Node has DecompressionStream');
  assert.equal(await probedGunzip(web), web);
  assert.equal(await probedGunzip(zlibGunzip), zlibGunzip);
  const throws: NativeGunzip = () => {
    throw new TypeError('Unsupported compression format');
  };
  assert.equal(await probedGunzip(throws), undefined);
  const wrong: NativeGunzip = () => new TransformStream({ transform: (_chunk, c) => c.enqueue(Uint8Array.of(1)) });
  assert.equal(await probedGunzip(wrong), undefined);
});

test('a one-member native gunzip (as in Chromium) hands over to pako at the second member: output as pako', async () => {
  const made = gzipMembers(text, noise, text);
  for (const size of [1000, 64 * 1024, made.byteLength]) {
    const { out, restarts } = await inflate(oneMemberGunzip, made, size);
    assert.ok(out.equals(pako(made)), `chunks of ${size}: byte-identical to pako`);
    assert.ok(out.equals(Buffer.concat([text, noise, text])));
    assert.equal(restarts, 1, 'pako took over once');
  }
  const single = gzipMembers(noise);
  const { out, restarts } = await inflate(oneMemberGunzip, single);
  assert.ok(out.equals(noise));
  assert.equal(restarts, 0, 'a single member stays native');
});

test('an eStargz-like layer (a member per file, an empty footer member) and zero padding, native or zlib', async () => {
  const files = Array.from({ length: 12 }, (_, i) => (i % 3 ? text.subarray(0, 30_000 + i) : noise.subarray(i * 100)));
  const estargz = Buffer.concat([...files.map((f) => gzipSync(f)), gzipSync(Buffer.alloc(0))]);
  const padded = Buffer.concat([gzipSync(text), Buffer.alloc(1000)]);
  for (const gz of [estargz, padded]) {
    for (const gunzip of [oneMemberGunzip, zlibGunzip]) {
      for (const size of [777, 64 * 1024]) {
        const { out } = await inflate(gunzip, gz, size);
        assert.ok(out.equals(pako(gz)), `byte-identical to pako (chunks of ${size})`);
      }
    }
  }
  assert.equal((await inflate(zlibGunzip, estargz)).restarts, 0, 'zlib reads every member itself');
  assert.equal((await inflate(oneMemberGunzip, estargz)).restarts, 1);
  const { restarts } = await inflate(zlibGunzip, padded);
  assert.equal(restarts, 1, 'zlib stops quietly at the padding: pako judged the rest');
});

test('a corrupt, cut or junk-trailed layer fails with pako’s message, native or not', async () => {
  const gz = gzipSync(noise);
  const flipped = Buffer.from(gz);
  flipped[flipped.byteLength - 6]! ^= 0xff;
  const bad = [gz.subarray(0, gz.byteLength - 100), flipped, Buffer.concat([gz, Buffer.from('not gzip')])];
  for (const input of bad) {
    for (const gunzip of [oneMemberGunzip, zlibGunzip, webGunzip()!]) {
      await assert.rejects(
        inflate(gunzip, input),
        (e: unknown) => e instanceof SkiffError && e.code === 'bad-layer' && e.message.startsWith('Layer x'),
      );
    }
  }
});

test('the native gunzip is fed in small slices: zeros that inflate 1000:1 never arrive at once', async () => {
  const zeros = gzipSync(Buffer.alloc(64 * 2 ** 20));
  const writes: number[] = [];
  const recording: NativeGunzip = () => {
    const inner = zlibGunzip();
    const writer = inner.writable.getWriter();
    return {
      readable: inner.readable,
      writable: new WritableStream({
        write: (chunk) => {
          writes.push(chunk.byteLength);
          return writer.write(chunk);
        },
        close: () => writer.close(),
      }),
    };
  };
  const { out } = await inflate(recording, zeros, zeros.byteLength);
  assert.equal(out.byteLength, 64 * 2 ** 20);
  assert.ok(Math.max(...writes) <= 32 * 1024, `largest slice ${Math.max(...writes)} bytes`);
  assert.ok(writes.length > 10, 'the one chunk went in as many slices');
});

test('an error in a later stage ends the copy with that error, not a fallback', async () => {
  const gz = gzipSync(noise);
  let restarts = 0;
  const stage = nativeInflateStage(
    {
      gunzip: webGunzip()!,
      restart: async function* () {
        restarts++;
        yield gz;
      },
    },
    'Layer x',
    [
      {
        push: () => {
          throw new SkiffError('too-large', 'too big');
        },
      },
    ],
  );
  await assert.rejects(
    (async () => {
      for (let at = 0; at < gz.byteLength; at += 1000) await stage.push(gz.subarray(at, at + 1000));
      await stage.drain?.();
    })(),
    /too big/,
  );
  assert.equal(restarts, 0);
});
