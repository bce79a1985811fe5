import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { createSha256 } from '../../core/codecs/sha256.ts';
import { FileSizeError, FileStalledError, bufferBack, copying, outputStream, withBuffersBack } from '../engine/sink.ts';

describe('the stream into the file', () => {
  it('hashes every byte, gathers small writes, and waits for the file', async () => {
    const received: number[] = [];
    let release: (() => void) | undefined;
    const slow = new WritableStream<Uint8Array>(
      {
        write: (chunk) =>
          new Promise<void>((resolve) => {
            received.push(chunk.byteLength);
            release = resolve;
          }),
      },
      { highWaterMark: 1 },
    );
    const hash = await createSha256();
    const sink = outputStream(slow, { hash, chunkSize: 10 });
    const writer = sink.getWriter();
    const data = new Uint8Array(25).map((_, i) => i);
    const first = writer.write(data.subarray(0, 12));
    // The file holds the first 10 bytes and has not taken them yet: the engine's write is still pending.
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(received, [10]);
    let settled = false;
    void first.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(settled, false);
    release!();
    await first;
    const rest = writer.write(data.subarray(12));
    await new Promise((r) => setTimeout(r, 10));
    release!();
    await rest;
    const closing = writer.close();
    await new Promise((r) => setTimeout(r, 10));
    release!();
    await closing;
    assert.equal(
      received.reduce((a, b) => a + b, 0),
      25,
    );
    assert.equal(await hash.digest(), `sha256:${createHash('sha256').update(data).digest('hex')}`);
  });

  it('aborts the file at once on cancel, even with a write stuck', async () => {
    let aborted: unknown;
    const stuck = new WritableStream<Uint8Array>({
      write: () => new Promise<void>(() => {}),
      abort: (reason) => {
        aborted = reason;
      },
    });
    const controller = new AbortController();
    const sink = outputStream(stuck, { hash: await createSha256(), chunkSize: 4, signal: controller.signal });
    const writer = sink.getWriter();
    const pending = writer.write(new Uint8Array(8));
    controller.abort(new Error('cancelled'));
    await assert.rejects(pending);
    assert.match(String(aborted), /cancelled/);
  });

  it('ends the download when the browser stops taking the file (a stopped download worker)', async () => {
    let aborted: unknown;
    let taken = 0;
    // Takes the first write, then holds the next far past the time-out: what a page sees once Firefox stopped
    // the download's worker.
    const stopped = new WritableStream<Uint8Array>({
      write: () => (taken++ === 0 ? Promise.resolve() : new Promise<void>((r) => setTimeout(r, 300))),
      abort: (reason) => {
        aborted = reason;
      },
    });
    const sink = outputStream(stopped, { hash: await createSha256(), chunkSize: 4, writeTimeoutMs: 50 });
    const writer = sink.getWriter();
    await writer.write(new Uint8Array(4));
    const started = Date.now();
    await assert.rejects(writer.write(new Uint8Array(4)), (error) => {
      assert.ok(error instanceof FileStalledError);
      assert.equal(error.written, 4);
      return true;
    });
    assert.ok(Date.now() - started < 250, 'the page stops waiting at the time-out, not when the write settles');
    // A stream delivers an abort once its write in flight settles: then the file ends failed, never closed.
    await new Promise((r) => setTimeout(r, 400));
    assert.ok(aborted instanceof FileStalledError);
  });

  it('aborts a file that ends short of, or runs past, the size it was announced with', async () => {
    for (const [bytes, expectedSize] of [
      [6, 8],
      [10, 8],
    ] as const) {
      let aborted: unknown;
      let closed = false;
      const file = new WritableStream<Uint8Array>({
        close: () => {
          closed = true;
        },
        abort: (reason) => {
          aborted = reason;
        },
      });
      const sink = outputStream(file, { hash: await createSha256(), chunkSize: 4, expectedSize });
      const writer = sink.getWriter();
      const wrote = writer.write(new Uint8Array(bytes)).then(() => writer.close());
      await assert.rejects(wrote, FileSizeError);
      assert.ok(aborted instanceof FileSizeError, `${bytes} of ${expectedSize} bytes: aborted`);
      assert.equal(closed, false);
    }
    // Exactly the size: closes as usual.
    const sink = outputStream(new WritableStream(), { hash: await createSha256(), chunkSize: 4, expectedSize: 8 });
    const writer = sink.getWriter();
    await writer.write(new Uint8Array(8));
    await writer.close();
  });

  it('says which buffer is free again once a write settled: none for a file that keeps what it is given', async () => {
    const whole = () => new Uint8Array(8).fill(7);
    // A file that copies (File System Access, a Blob): the chunk itself.
    const copied = outputStream(copying(new WritableStream<Uint8Array>()), { chunkSize: 8 });
    const chunk = whole();
    await copied.getWriter().write(chunk);
    assert.equal(bufferBack(copied, chunk), chunk);
    // The service worker's download: the buffer it gave back, not the (transferred) chunk.
    const given = new Uint8Array(8);
    const worker = outputStream(
      withBuffersBack(new WritableStream<Uint8Array>(), () => given),
      { chunkSize: 8 },
    );
    await worker.getWriter().write(whole());
    assert.equal(bufferBack(worker, whole()), given);
    // A file that keeps its chunks (or is not known to copy): nothing comes back.
    const kept = outputStream(new WritableStream<Uint8Array>(), { chunkSize: 8 });
    const kept0 = whole();
    await kept.getWriter().write(kept0);
    assert.equal(bufferBack(kept, kept0), undefined);
  });
});
