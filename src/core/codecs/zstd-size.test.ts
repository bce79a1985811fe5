import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ZstdContentSize } from './zstd-size.ts';

const dir = mkdtempSync(join(tmpdir(), 'zstd-size-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Content that compresses into several blocks of each kind: text, random bytes (raw blocks), zeros (RLE). */
function content(bytes: number, seed: number): Buffer {
  const out = Buffer.alloc(bytes);
  let x = seed;
  for (let i = 0; i < bytes; i++) {
    const region = Math.floor(i / 200_000) % 3;
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = region === 0 ? 97 + ((i * 7) % 13) : region === 1 ? x >>> 24 : 0;
  }
  return out;
}

/** The zstd CLI states a file's size in the frame header; from a pipe it cannot. */
function zstdOfFile(data: Buffer, ...flags: string[]): Buffer {
  const path = join(dir, `in-${data.length}`);
  writeFileSync(path, data);
  return execFileSync('zstd', ['-q', '-c', ...flags, path]);
}
const zstdOfPipe = (data: Buffer) => execFileSync('zstd', ['-q', '-c'], { input: data });

function sizeOf(blob: Uint8Array, chunk = 7919): number | undefined {
  const counter = new ZstdContentSize();
  for (let at = 0; at < blob.byteLength; at += chunk) counter.push(blob.subarray(at, at + chunk));
  return counter.size();
}

function skippableFrame(payload: number): Buffer {
  const frame = Buffer.alloc(8 + payload, 0x5a);
  frame.writeUInt32LE(0x184d2a5e, 0);
  frame.writeUInt32LE(payload, 4);
  return frame;
}

describe('zstd content size from frame headers', () => {
  it('reads the size a frame states, across any chunking, with or without checksums', () => {
    const data = content(1_300_000, 1);
    for (const blob of [zstdOfFile(data), zstdOfFile(data, '--check'), zstdOfFile(data, '--no-check', '-19')]) {
      for (const chunk of [1, 3, 17, 4096, 1 << 20]) assert.equal(sizeOf(blob, chunk), data.length);
    }
  });

  it('adds up concatenated frames and passes over skippable ones (zstd:chunked)', () => {
    const a = content(300_000, 2);
    const b = content(5, 3);
    const c = content(70_000, 4);
    const blob = Buffer.concat([zstdOfFile(a), skippableFrame(100), zstdOfFile(b), skippableFrame(0), zstdOfFile(c)]);
    assert.equal(sizeOf(blob), a.length + b.length + c.length);
    assert.equal(sizeOf(blob, 1), a.length + b.length + c.length);
  });

  it('an empty file states size 0', () => {
    assert.equal(sizeOf(zstdOfFile(Buffer.alloc(0))), 0);
  });

  it('cannot tell when a frame does not state its size: the layer must be inflated', () => {
    const data = content(400_000, 5);
    assert.equal(sizeOf(zstdOfPipe(data)), undefined);
    assert.equal(sizeOf(Buffer.concat([zstdOfFile(data), zstdOfPipe(data)])), undefined);
    assert.equal(sizeOf(zstdOfFile(data, '--no-content-size')), undefined);
  });

  it('cannot tell for a cut stream, trailing junk or bytes that are not zstd', () => {
    const blob = zstdOfFile(content(400_000, 6));
    assert.equal(sizeOf(blob.subarray(0, blob.length - 1)), undefined);
    assert.equal(sizeOf(blob.subarray(0, 3)), undefined);
    assert.equal(sizeOf(Buffer.concat([blob, Buffer.from('junk')])), undefined);
    assert.equal(sizeOf(execFileSync('gzip', ['-c'], { input: content(1000, 7) })), undefined);
    assert.equal(sizeOf(new Uint8Array(0)), undefined);
  });
});
