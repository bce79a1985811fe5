import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { MessageChannel } from 'node:worker_threads';
import {
  type HashReply,
  type HashRequest,
  createHashService,
  replyTransfer,
  workerSha256Factory,
} from './sha256-worker.ts';

test('hashes behind a message channel match node:crypto, several streams at once, with bounded queueing', async () => {
  // A MessageChannel stands in for the thread: the same structured-clone path, the same ordering.
  const { port1, port2 } = new MessageChannel();
  const handle = createHashService();
  port2.on(
    'message',
    (request: HashRequest) =>
      void handle(request).then((reply) => port2.postMessage(reply, replyTransfer(reply) as never)),
  );
  let maxWaiting = 0;
  const factory = workerSha256Factory(
    {
      post: (m, transfer = []) => port1.postMessage(m, transfer as never),
      onReply: (h) => port1.on('message', (r: HashReply) => h(r)),
    },
    64 * 1024,
  );
  try {
    const data = [randomBytes(3_000_000), randomBytes(1_300_000)];
    const hashes = await Promise.all(data.map(() => factory()));
    // One scratch buffer for every update: the hasher copies what it is given, so the caller may reuse it.
    const scratch = new Uint8Array(10_000);
    for (let at = 0; at < 3_000_000; at += 10_000) {
      for (const [i, hash] of hashes.entries()) {
        const chunk = data[i]!.subarray(at, at + 10_000);
        if (!chunk.byteLength) continue;
        scratch.set(chunk);
        const wait = hash.update(scratch.subarray(0, chunk.byteLength));
        scratch.fill(0xee);
        if (wait) {
          maxWaiting++;
          await wait;
        }
      }
    }
    const digests = await Promise.all(hashes.map((h) => h.digest()));
    assert.deepEqual(
      digests,
      data.map((d) => `sha256:${createHash('sha256').update(d).digest('hex')}`),
    );
    assert.ok(maxWaiting > 0, 'the caller was made to wait when the queue filled');
  } finally {
    port1.close();
  }
});
