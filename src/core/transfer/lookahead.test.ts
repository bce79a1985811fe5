import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSha256 } from '../codecs/sha256.ts';
import { copyLayer } from './layer-copy.ts';
import { lookAhead, lookAheadZstd, settleBeforeLookahead } from './lookahead.ts';
import { ZSTD_HOLD_BYTES, planPull } from './plan.ts';

async function* chunks(bytes: Uint8Array, size = 1000) {
  for (let at = 0; at < bytes.byteLength; at += size) yield bytes.subarray(at, at + size);
}

async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of source) parts.push(c);
  return Buffer.concat(parts);
}

const text = Buffer.from('a layer of text '.repeat(5000));

test('a small gzip layer is counted exactly within the look-ahead, and replayed whole', async () => {
  const blob = gzipSync(text);
  const look = await lookAhead(chunks(blob), { kind: 'keep-compressed', reason: 'no trailer' }, 'Layer', 2 ** 30);
  assert.deepEqual(look.action, { kind: 'inflate', size: text.byteLength });
  assert.ok((await collect(look.source)).equals(blob), 'the replay is the blob, fetched once');
});

test('a second gzip member keeps the layer compressed: its trailer describes only the last member', async () => {
  const blob = Buffer.concat([gzipSync(text), gzipSync(text)]);
  const look = await lookAhead(chunks(blob), { kind: 'inflate', size: text.byteLength }, 'Layer', 2 ** 30);
  assert.deepEqual(look.action, { kind: 'keep-compressed', reason: 'multi-member gzip' });
  assert.ok((await collect(look.source)).equals(blob));
});

test('a multi-member layer whose manifest states its size (eStargz) is inflated: only a trailer is unsure', async () => {
  const blob = Buffer.concat([gzipSync(text), gzipSync(text)]);
  const stated = { kind: 'inflate' as const, size: 2 * text.byteLength };
  const look = await lookAhead(chunks(blob), stated, 'Layer', 2 ** 30, true);
  assert.deepEqual(look.action, stated);
  assert.ok((await collect(look.source)).equals(blob));
});

test('the trailer settles a gzip size, or says why the layer stays compressed', () => {
  const [layer] = planPull(
    [
      {
        layers: [
          {
            descriptor: {
              mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
              digest: 'sha256:' + 'a'.repeat(64),
              size: 100,
            },
            diffId: 'sha256:' + 'b'.repeat(64),
          },
        ],
      },
    ],
    'uncompressed',
  );
  const action = layer!.action;
  assert.equal(action.kind, 'inflate');
  if (action.kind !== 'inflate') return;
  const trailer = new Uint8Array(8);
  new DataView(trailer.buffer).setUint32(4, 12345, true);
  assert.deepEqual(settleBeforeLookahead(layer!, action, trailer), { kind: 'inflate', size: 12345 });
  assert.deepEqual(settleBeforeLookahead(layer!, action, undefined), {
    kind: 'keep-compressed',
    reason: 'the registry does not serve byte ranges',
  });
});

/** The zstd CLI states the size in the frame header when told it (`--stream-size`); from a bare pipe it cannot. */
const zstdStating = (data: Buffer) =>
  execFileSync('zstd', ['-q', '-c', `--stream-size=${data.byteLength}`], { input: data, maxBuffer: 2 ** 26 });
const zstdSilent = (data: Buffer) => execFileSync('zstd', ['-q', '-c'], { input: data, maxBuffer: 2 ** 26 });

test('a zstd blob whose frames state their size is settled without inflating, and replayed whole', async () => {
  const blob = zstdStating(text);
  const look = await lookAheadZstd(chunks(blob), true);
  assert.equal(look.size, text.byteLength);
  assert.ok(look.again, 'a blob fetched once is held for the copy');
  assert.ok((await collect(look.again())).equals(blob));
  assert.ok((await collect(look.again())).equals(blob), 'and can be replayed for each pass');
});

test('a zstd blob without stated sizes must be measured: held whole when small, replayed from the start', async () => {
  const blob = zstdSilent(text);
  const look = await lookAheadZstd(chunks(blob), true);
  assert.equal(look.size, undefined);
  assert.ok((await collect(look.again!())).equals(blob), 'the measure pass');
  assert.ok((await collect(look.again!())).equals(blob), 'the write pass');
});

test('a big zstd blob settles its size by reading it once; its bytes are not kept', async () => {
  // More than the hold window: random bytes so that zstd cannot shrink them below it.
  const data = Buffer.alloc(ZSTD_HOLD_BYTES + 2 ** 20);
  for (let i = 0; i < data.length; i += 4) data.writeUInt32LE((Math.imul(i, 2654435761) ^ (i >>> 7)) >>> 0, i);
  const stated = zstdStating(data);
  assert.ok(stated.byteLength > ZSTD_HOLD_BYTES);
  const look = await lookAheadZstd(chunks(stated, 65536), false);
  assert.equal(look.size, data.byteLength);
  assert.equal(look.again, undefined, 'the second scheduled read writes it');
  const silent = await lookAheadZstd(chunks(zstdSilent(data), 65536), false);
  assert.equal(silent.size, undefined);
  assert.ok(
    (await collect(silent.again!())).equals(zstdSilent(data)),
    'a first frame without a size is found at once: the measure replays what was held and reads on',
  );
});

test('a zstd frame that states a wrong size fails the copy that writes it: the count is proved', async () => {
  // A real layer (tar), so that only the size can be wrong.
  const dir = mkdtempSync(join(tmpdir(), 'zstd-lie-'));
  writeFileSync(join(dir, 'text.txt'), text);
  const layer = execFileSync('tar', ['-cf', '-', '-C', dir, 'text.txt']);
  rmSync(dir, { recursive: true });
  const blob = Buffer.from(zstdStating(layer));
  const descriptor = blob[4]!;
  assert.equal(descriptor, 0xa4, 'one segment, a 4-byte content size right after the descriptor');
  blob.writeUInt32LE(layer.byteLength + 512, 5);
  const look = await lookAheadZstd(chunks(blob), true);
  assert.equal(look.size, layer.byteLength + 512, 'the header is read as it stands');
  const entry = { write: () => {}, end: async () => {} };
  await assert.rejects(
    copyLayer(look.again!(), {
      what: 'Layer',
      blobDigest: `sha256:${createHash('sha256').update(blob).digest('hex')}`,
      blobHash: await createSha256(),
      inflate: {
        compression: 'zstd',
        diffId: `sha256:${createHash('sha256').update(layer).digest('hex')}`,
        hash: await createSha256(),
        maxBytes: 2 ** 30,
        size: look.size!,
        sizeFrom: 'its zstd frame headers',
      },
      write: { entry: entry as never, takes: 'inflated' },
    }),
    {
      code: 'size-mismatch',
      message: new RegExp(
        `inflates to ${layer.byteLength} bytes, not the ${layer.byteLength + 512} its zstd frame headers promised`,
      ),
    },
  );
});
