/**
 * The bench's far profile is only as honest as its throttling proxy: these checks make sure it really
 * limits each connection, all connections together and uploads, adds its latency, and carries bytes intact.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { startThrottleProxy, type ThrottleProxy } from '../bench/throttle-proxy.ts';
import { pushBlob, sha256Digest, startRegistry, type Registry } from '../support/registry.ts';

const MB = 1e6;
const CONNECTION_RATE = 2 * MB;
const TOTAL_RATE = 4 * MB;
const LATENCY_MS = 200;

let registry: Registry;
let proxy: ThrottleProxy;
let blob: { digest: string; size: number };

before(async () => {
  registry = await startRegistry();
  blob = await pushBlob(registry, 'throttle/test', randomBytes(4 * MB));
  proxy = await startThrottleProxy(registry.url, {
    latencyMs: LATENCY_MS,
    connectionRate: CONNECTION_RATE,
    totalRate: TOTAL_RATE,
  });
});

after(async () => {
  await proxy?.stop();
  await registry?.stop();
});

/** GETs the blob (or a range of it) through the proxy on a fresh connection; returns its bytes and the seconds taken. */
async function timedGet(range?: string): Promise<{ bytes: Buffer; seconds: number }> {
  const started = performance.now();
  const response = await fetch(`${proxy.url}/v2/throttle/test/blobs/${blob.digest}`, {
    headers: { Connection: 'close', ...(range ? { Range: range } : {}) },
  });
  const bytes = Buffer.from(await response.arrayBuffer());
  assert.ok(response.ok, `status ${response.status}`);
  return { bytes, seconds: (performance.now() - started) / 1000 };
}

test('one connection carries no more than the per-connection rate, bytes intact', async () => {
  const { bytes, seconds } = await timedGet();
  assert.equal(sha256Digest(bytes), blob.digest);
  const floor = blob.size / CONNECTION_RATE;
  assert.ok(seconds >= floor, `4 MB at 2 MB/s took ${seconds.toFixed(2)} s, less than ${floor} s`);
  // A proxy that stalls or crawls would make the bench meaningless too.
  assert.ok(seconds < floor * 2 + 2, `4 MB at 2 MB/s took ${seconds.toFixed(2)} s`);
});

test('parallel connections share the total rate', async () => {
  const started = performance.now();
  // Four connections of 2 MB each: 1 s apiece at the connection rate, 2 s together at the total rate.
  const parts = await Promise.all(
    [0, 1, 2, 3].map((i) => timedGet(`bytes=${(i % 2) * 2 * MB}-${((i % 2) + 1) * 2 * MB - 1}`)),
  );
  const seconds = (performance.now() - started) / 1000;
  for (const part of parts) assert.equal(part.bytes.length, 2 * MB);
  const floor = (4 * 2 * MB) / TOTAL_RATE;
  assert.ok(seconds >= floor, `8 MB over four connections at 4 MB/s in all took ${seconds.toFixed(2)} s`);
  assert.ok(seconds < floor * 2 + 2, `8 MB over four connections took ${seconds.toFixed(2)} s`);
});

test('every request costs the latency, a new connection one more round trip', async () => {
  const { seconds } = await timedGet('bytes=0-99');
  assert.ok(seconds >= (2 * LATENCY_MS) / 1000, `a 100-byte range took ${(seconds * 1000).toFixed(0)} ms`);
});

test('uploads are throttled too', async () => {
  const started = performance.now();
  const pushed = await pushBlob({ url: proxy.url }, 'throttle/up', randomBytes(2 * MB));
  const seconds = (performance.now() - started) / 1000;
  const floor = (2 * MB) / CONNECTION_RATE;
  assert.ok(seconds >= floor, `a 2 MB upload at 2 MB/s took ${seconds.toFixed(2)} s`);
  // What went up arrived intact: the registry serves it back under its digest.
  const back = await fetch(`${registry.url}/v2/throttle/up/blobs/${pushed.digest}`);
  assert.equal(sha256Digest(Buffer.from(await back.arrayBuffer())), pushed.digest);
});
