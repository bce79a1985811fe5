import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { lookAhead, settleBeforeLookahead } from './lookahead.ts';
import { planPull } from './plan.ts';

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
