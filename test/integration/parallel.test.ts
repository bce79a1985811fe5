/**
 * Parallel and segmented downloads against a real registry through the fault proxy: several layers at once
 * and a big blob in Range segments give the same archive as one connection, whatever goes wrong with a
 * segment; memory stays within the budget; a cancel ends every request; dockerd loads the result.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SkiffError } from '../../src/core/errors.ts';
import { type LayerMode, type PullOptions, type TransferProgress, pull } from '../../src/core/pull.ts';
import { type Dockerd, startDockerd } from '../support/dockerd.ts';
import { type FaultProxy, always, combine, fault, once, startFaultProxy } from '../support/fault-proxy.ts';
import { type PushedImage, prose, pushImage } from '../support/images.ts';
import { scratchDir } from '../support/process.ts';
import { pullToFile, recordingSink } from '../support/pull-to-file.ts';
import { type Registry, startRegistry } from '../support/registry.ts';
import { type RelayServer, startNodeRelay } from '../support/relay.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
/** Small pieces, so a 3 MiB layer is a dozen segments and a 1 MiB budget is smaller than the layer. */
const SEGMENT = 256 * KiB;
const BUDGET = MiB;

let registry: Registry;
let proxy: FaultProxy;
let image: PushedImage;
const dir = scratchDir('parallel');
const oneConnection = new Map<LayerMode, Buffer>();

before(async () => {
  registry = await startRegistry();
  // One big incompressible layer (stored deflate: the blob is as big as the file) and five small ones.
  image = await pushImage(registry, 'par/app', 'v1', {
    format: 'oci',
    layers: [
      { compression: 'gzip', level: 0, files: [{ path: 'big/noise.bin', content: { noise: 3 * MiB + 777 } }] },
      ...[1, 2, 3, 4, 5].map((n) => ({
        compression: 'gzip' as const,
        files: [{ path: `small/${n}.txt`, content: prose(40_000 * n, `layer ${n}`) }],
      })),
    ],
  });
  proxy = await startFaultProxy(registry.url);
});
after(async () => {
  await proxy?.stop();
  await registry?.stop();
  dir.remove();
});

const reference = () => `${proxy.host}/${image.repository}:${image.tag}`;
const big = () => image.layers[0]!;
const tuned: PullOptions = { segmentBytes: SEGMENT, memoryBudgetBytes: BUDGET, idleTimeoutMs: 5_000 };

/** The archive as pulled over one connection, one blob after another. */
async function expected(mode: LayerMode): Promise<Buffer> {
  if (!oneConnection.has(mode)) {
    proxy.setPlan(undefined);
    const path = join(dir.path, `one-${mode}.tar`);
    await pullToFile([reference()], path, { layers: mode, parallel: 1 });
    oneConnection.set(mode, readFileSync(path));
  }
  return oneConnection.get(mode)!;
}

async function pullBytes(options: PullOptions) {
  const { sink, state, bytes } = recordingSink();
  const result = await pull([reference()], sink, { ...tuned, ...options });
  assert.equal(state.closed, true);
  return { result, bytes: bytes() };
}

/** Closed-range requests for the big blob, the 8-byte gzip trailer read left out. */
const bigSegments = () =>
  proxy.requests.filter((r) => {
    const range = /^bytes=(\d+)-(\d+)$/.exec(r.range ?? '');
    return r.path.includes(big().digest) && range && Number(range[2]) - Number(range[1]) + 1 !== 8;
  });

describe('parallel downloads', () => {
  for (const mode of ['uncompressed', 'as-pulled'] as const) {
    test(`several connections give the archive one connection gives, byte for byte (${mode})`, async () => {
      const one = await expected(mode);
      proxy.reset();
      // A little latency per request, as on a real link, so requests overlap visibly.
      proxy.setPlan(always('/blobs/', fault.delay(20)));
      const { result, bytes } = await pullBytes({ layers: mode, parallel: 4 });
      proxy.setPlan(undefined);
      assert.ok(bytes.equals(one), 'byte-identical to the one-connection pull');
      assert.ok(proxy.peakInFlight >= 4, `requests overlapped (at most ${proxy.peakInFlight} at once)`);
      const segments = bigSegments();
      assert.equal(segments.length, Math.ceil(big().size / SEGMENT), 'the big blob came in Range segments');
      assert.ok(result.transfer.peakBufferedBytes <= BUDGET, `peak ${result.transfer.peakBufferedBytes}`);
      assert.equal(result.transfer.singleStreamFallbacks, 0);
    });
  }

  test('a layer larger than the memory budget streams through within it', async () => {
    const one = await expected('as-pulled');
    assert.ok(big().size > 2 * BUDGET, 'the layer is bigger than the budget');
    proxy.reset();
    const progress: TransferProgress[] = [];
    const { result, bytes } = await pullBytes({
      layers: 'as-pulled',
      parallel: 8,
      onProgress: (p) => progress.push(p),
    });
    assert.ok(bytes.equals(one));
    assert.ok(result.transfer.peakBufferedBytes > 0);
    assert.ok(result.transfer.peakBufferedBytes <= BUDGET, `peak ${result.transfer.peakBufferedBytes}`);
    const last = progress.at(-1)!;
    assert.equal(last.bytes, last.totalBytes, 'every byte counted once');
  });

  test('a cut segment is resumed within its range, and the archive is identical', async () => {
    const one = await expected('uncompressed');
    proxy.reset();
    const start = 2 * SEGMENT;
    proxy.setPlan(
      once(
        (r) => r.path.includes(big().digest) && r.range === `bytes=${start}-${start + SEGMENT - 1}`,
        fault.cut(1000),
      ),
    );
    const { result, bytes } = await pullBytes({ layers: 'uncompressed', parallel: 4 });
    proxy.setPlan(undefined);
    assert.ok(bytes.equals(one));
    assert.ok(
      proxy.requests.some((r) => r.range === `bytes=${start + 1000}-${start + SEGMENT - 1}`),
      `resumed: ${bigSegments()
        .map((r) => r.range)
        .join(' ')}`,
    );
    assert.equal(result.transfer.singleStreamFallbacks, 0);
  });

  test('a segment answered with the wrong range falls back to one stream for that blob', async () => {
    const one = await expected('uncompressed');
    proxy.reset();
    const start = 3 * SEGMENT;
    proxy.setPlan(
      once(
        (r) => r.path.includes(big().digest) && r.range?.startsWith(`bytes=${start}-`) === true,
        fault.shiftRange(5),
      ),
    );
    const { result, bytes } = await pullBytes({ layers: 'uncompressed', parallel: 4 });
    proxy.setPlan(undefined);
    assert.ok(bytes.equals(one));
    assert.equal(result.transfer.singleStreamFallbacks, 1);
    assert.ok(
      proxy.requests.some((r) => r.path.includes(big().digest) && !/^bytes=\d+-\d+$/.test(r.range ?? '')),
      'the rest of the blob came in one stream (whole, or open-ended from where the writer was)',
    );
  });

  test('a registry without Range support: one stream per blob, same archive', async () => {
    const one = await expected('as-pulled');
    proxy.reset();
    proxy.setPlan(always('/blobs/', fault.ignoreRange()));
    const { result, bytes } = await pullBytes({ layers: 'as-pulled', parallel: 4 });
    proxy.setPlan(undefined);
    assert.ok(bytes.equals(one));
    assert.equal(result.transfer.singleStreamFallbacks, 1, 'found out once, on the first segment');
    const bigGets = proxy.requests.filter((r) => r.path.includes(big().digest));
    assert.ok(bigGets.length <= 5, `no request storm: ${bigGets.map((r) => r.range ?? 'whole').join(' ')}`);
  });

  test('cancel in the middle of eight parallel requests ends every one of them', async () => {
    proxy.reset();
    // Every layer answer sends a little and then nothing: eight requests hang open until the client ends them.
    proxy.setPlan(
      always(
        (r) => r.method === 'GET' && r.path.includes('/blobs/') && !r.path.includes(image.configDigest),
        fault.stall(100),
      ),
    );
    const controller = new AbortController();
    const { sink, state } = recordingSink();
    // As pulled: no trailer reads, so exactly the eight blob requests are open.
    const pulling = pull([reference()], sink, {
      ...tuned,
      layers: 'as-pulled',
      memoryBudgetBytes: 8 * MiB,
      parallel: 8,
      signal: controller.signal,
    });
    try {
      const deadline = Date.now() + 10_000;
      while (proxy.inFlight < 8 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(proxy.inFlight, 8, 'eight requests in flight, no more');
    } finally {
      controller.abort();
    }
    await assert.rejects(pulling, (e) => e instanceof SkiffError && e.code === 'aborted');
    assert.ok(state.aborted);
    const closedBy = Date.now() + 2_000;
    while (proxy.inFlight > 0 && Date.now() < closedBy) await new Promise((r) => setTimeout(r, 20));
    proxy.setPlan(undefined);
    assert.equal(proxy.inFlight, 0, 'the proxy saw every connection closed');
  });

  test('the registry quota reported with the manifest is in the result and the progress', async () => {
    proxy.reset();
    proxy.setPlan(
      combine(
        always(
          '/manifests/',
          fault.addHeaders({ 'RateLimit-Limit': '100;w=21600', 'RateLimit-Remaining': '42;w=21600' }),
        ),
      ),
    );
    const progress: TransferProgress[] = [];
    const { result } = await pullBytes({ layers: 'as-pulled', onProgress: (p) => progress.push(p) });
    proxy.setPlan(undefined);
    assert.deepEqual(result.rateLimit, { remaining: 42, limit: 100, windowSeconds: 21600 });
    assert.deepEqual(progress[0]!.rateLimit, result.rateLimit);
    assert.equal(proxy.requests.filter((r) => r.path.includes('/manifests/')).length, 1, 'the manifest fetched once');
  });
});

describe('what dockerd makes of it', () => {
  let dockerd: Dockerd;
  before(async () => {
    dockerd = await startDockerd();
  });
  after(async () => {
    await dockerd?.stop();
  });

  test('an archive pulled in parallel segments loads with the registry config digest as its ID', async () => {
    const path = join(dir.path, 'parallel.tar');
    proxy.setPlan(undefined);
    await pullToFile([reference()], path, { ...tuned, parallel: 6 });
    await dockerd.load(path);
    const inspected = await dockerd.inspect(image.configDigest);
    assert.equal(inspected.Id, image.configDigest);
    assert.deepEqual(inspected.RootFS.Layers, image.diffIds);
  });
});

describe('through the relay (Node)', () => {
  let relay: RelayServer;
  before(async () => {
    // The relay's own defaults for per-client limits: they must not cap one person's parallel pull.
    relay = await startNodeRelay({
      env: { RELAY_ALLOW_PRIVATE: proxy.host, RELAY_PLAIN_HTTP: proxy.host, RELAY_ORIGINS: '*' },
    });
  });
  after(() => relay?.stop());

  // 16: at the start the gzip trailer reads run beside the first segments, so a client has more requests in
  // flight than its setting for a moment, and a relay limit of 16 refused some.
  for (const parallel of [8, 16]) {
    test(`parallel ${parallel} through the relay keeps ${parallel} requests in flight at the registry, and the same archive`, async () => {
      const one = await expected('uncompressed');
      proxy.reset();
      // Latency per request, as on a far link, so that requests overlap whenever the relay lets them.
      proxy.setPlan(always('/blobs/', fault.delay(50)));
      // A budget that holds `parallel` segments at once: only the relay could keep fewer in flight.
      const { result, bytes } = await pullBytes({
        layers: 'uncompressed',
        parallel,
        memoryBudgetBytes: parallel * SEGMENT,
        relay: relay.base,
      });
      proxy.setPlan(undefined);
      assert.ok(bytes.equals(one), 'byte-identical to the one-connection pull without the relay');
      assert.ok(
        proxy.peakInFlight >= parallel,
        `${parallel} requests at once at the registry (peak ${proxy.peakInFlight})`,
      );
      assert.equal(relay.output().match(/ 429 \d+B /g)?.length ?? 0, 0, 'the relay refused nothing as too many');
      assert.equal(result.transfer.singleStreamFallbacks, 0);
    });
  }
});
