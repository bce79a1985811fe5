/**
 * Faults injected by a proxy in front of a real registry: every one ends either in an identical archive
 * (the engine recovered) or in a SkiffError with the sink aborted (never a file that looks complete).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SkiffError } from '../../src/core/errors.ts';
import { pull } from '../../src/core/pull.ts';
import { type FaultProxy, always, combine, fault, once, startFaultProxy } from '../support/fault-proxy.ts';
import { type Fixtures, type PushedImage, pushFixtures } from '../support/images.ts';
import { scratchDir } from '../support/process.ts';
import { pullToFile, recordingSink } from '../support/pull-to-file.ts';
import { type Registry, startRegistry } from '../support/registry.ts';

let registry: Registry;
let proxy: FaultProxy;
let fixtures: Fixtures;
const dir = scratchDir('faults');
/** The archive of each image pulled without faults, to compare against. */
const reference = new Map<string, Buffer>();

before(async () => {
  registry = await startRegistry();
  fixtures = await pushFixtures(registry);
  proxy = await startFaultProxy(registry.url);
});
after(async () => {
  await proxy?.stop();
  await registry?.stop();
  dir.remove();
});

function viaProxy(image: PushedImage): string {
  return `${proxy.host}/${image.repository}:${image.tag}`;
}

async function cleanArchive(image: PushedImage, mode: 'uncompressed' | 'as-pulled' = 'uncompressed'): Promise<Buffer> {
  const key = `${image.repository}:${mode}`;
  if (!reference.has(key)) {
    proxy.setPlan(undefined);
    const path = join(dir.path, `clean-${image.repository.replace('/', '-')}-${mode}.tar`);
    await pullToFile([viaProxy(image)], path, { layers: mode });
    reference.set(key, readFileSync(path));
  }
  return reference.get(key)!;
}

const bigLayer = (image: PushedImage) => image.layers.reduce((a, b) => (b.size > a.size ? b : a));

describe('recovered faults give the same archive', () => {
  test('a connection cut mid-layer is resumed with Range, and the archive is identical', async () => {
    const image = fixtures.small.docker;
    const expected = await cleanArchive(image);
    const layer = bigLayer(image);
    proxy.reset();
    proxy.setPlan(once(`/blobs/${layer.digest}`, fault.cut(Math.floor(layer.size / 2))));
    const { sink, state, bytes } = recordingSink();
    await pull([viaProxy(image)], sink, { layers: 'uncompressed', idleTimeoutMs: 5_000 });
    assert.equal(state.closed, true);
    assert.ok(bytes().equals(expected), 'archive identical to the one pulled without faults');
    const resumed = proxy.requests.filter(
      (r) => r.path.includes(layer.digest) && r.range?.startsWith(`bytes=${Math.floor(layer.size / 2)}-`),
    );
    assert.equal(
      resumed.length,
      1,
      `a Range request resumed at the cut: ${proxy.requests.map((r) => `${r.method} ${r.path} ${r.range ?? ''}`).join('; ')}`,
    );
  });

  test('a stalled body is given up after the idle timeout and resumed', async () => {
    const image = fixtures.small.oci;
    const expected = await cleanArchive(image, 'as-pulled');
    const layer = bigLayer(image);
    proxy.setPlan(once(`/blobs/${layer.digest}`, fault.stall(1000)));
    const { sink, bytes } = recordingSink();
    await pull([viaProxy(image)], sink, { layers: 'as-pulled', idleTimeoutMs: 1_000 });
    assert.ok(bytes().equals(expected));
  });

  test('429 with Retry-After waits and goes on; a 500 is retried', async () => {
    const image = fixtures.small.oci;
    const expected = await cleanArchive(image);
    const layer = bigLayer(image);
    proxy.reset();
    proxy.setPlan(
      combine(once('/manifests/', fault.tooManyRequests(1)), once(`/blobs/${layer.digest}`, fault.serverError(503))),
    );
    const started = Date.now();
    const { sink, bytes } = recordingSink();
    await pull([viaProxy(image)], sink, { layers: 'uncompressed' });
    assert.ok(Date.now() - started >= 1000, 'waited for Retry-After');
    assert.ok(bytes().equals(expected));
    assert.ok(proxy.requests.some((r) => r.status === 429));
    assert.ok(proxy.requests.some((r) => r.status === 503));
  });

  test('a registry that ignores Range: layers that fit the look-ahead are still inflated, identically', async () => {
    const image = fixtures.small.docker;
    const expected = await cleanArchive(image);
    proxy.setPlan(() => fault.ignoreRange());
    const path = join(dir.path, 'no-range.tar');
    const result = await pullToFile([viaProxy(image)], path, { layers: 'uncompressed' });
    proxy.setPlan(undefined);
    assert.deepEqual(result.notes, []);
    assert.ok(readFileSync(path).equals(expected));
  });
});

describe('unrecoverable faults end in a clear error and an aborted sink', () => {
  for (const mode of ['uncompressed', 'as-pulled'] as const) {
    test(`a flipped byte in a layer is a digest mismatch naming the blob (${mode})`, async () => {
      const image = fixtures.small.docker;
      const layer = bigLayer(image);
      proxy.setPlan(once(`/blobs/${layer.digest}`, fault.flipByte(Math.floor(layer.size / 3)), 5));
      const { sink, state } = recordingSink();
      await assert.rejects(pull([viaProxy(image)], sink, { layers: mode }), (e) => {
        assert.ok(e instanceof SkiffError, String(e));
        assert.ok(['digest-mismatch', 'bad-layer'].includes(e.code), e.code);
        assert.match(e.message, new RegExp(layer.digest.slice(7, 20)));
        return true;
      });
      assert.equal(state.closed, false, 'never closed as complete');
      assert.ok(state.aborted, 'sink aborted');
      proxy.setPlan(undefined);
    });
  }

  test('a flipped byte in the config is caught before any byte is written', async () => {
    const image = fixtures.small.oci;
    proxy.setPlan(once(`/blobs/${image.configDigest}`, fault.flipByte(10), 5));
    const { sink, state, bytes } = recordingSink();
    await assert.rejects(pull([viaProxy(image)], sink), (e) => e instanceof SkiffError && e.code === 'digest-mismatch');
    assert.equal(bytes().byteLength, 0);
    assert.ok(state.aborted);
    proxy.setPlan(undefined);
  });

  test('a manifest pulled by digest is checked against that digest', async () => {
    const image = fixtures.small.docker;
    proxy.setPlan(once(`/manifests/${image.manifestDigest}`, fault.flipByte(40), 5));
    const { sink, state } = recordingSink();
    await assert.rejects(
      pull([`${proxy.host}/${image.repository}@${image.manifestDigest}`], sink),
      (e) => e instanceof SkiffError && e.code === 'digest-mismatch' && e.message.includes(image.manifestDigest),
    );
    assert.ok(state.aborted);
    proxy.setPlan(undefined);
  });

  test('a registry that keeps failing ends with its status, not a hang', async () => {
    const image = fixtures.small.oci;
    proxy.setPlan(() => fault.serverError(503));
    const { sink, state } = recordingSink();
    await assert.rejects(
      pull([viaProxy(image)], sink, { retry: { attempts: 2 } }),
      (e) => e instanceof SkiffError && e.code === 'http' && /503/.test(e.message),
    );
    assert.ok(state.aborted);
    proxy.setPlan(undefined);
  });

  test('a cancelled pull stops and says so', async () => {
    const image = fixtures.many.layers;
    const controller = new AbortController();
    proxy.setPlan(() => fault.delay(50));
    const { sink, state } = recordingSink();
    setTimeout(() => controller.abort(), 300);
    await assert.rejects(
      pull([viaProxy(image)], sink, { signal: controller.signal }),
      (e) => e instanceof SkiffError && e.code === 'aborted',
    );
    assert.equal(state.closed, false);
    assert.ok(state.aborted);
    proxy.setPlan(undefined);
  });
});

describe('a registry that answers one byte a second', () => {
  const drip = fault.drip(100, 4);

  for (const [name, path] of [
    ['manifest', (i: PushedImage) => `/manifests/${i.tag}`],
    ['config', (i: PushedImage) => `/blobs/${i.configDigest}`],
  ] as const) {
    test(`a dripping ${name} ends in a time-out naming it, within the configured deadline`, async () => {
      const image = fixtures.small.oci;
      proxy.setPlan(always(path(image), drip));
      const { sink, state } = recordingSink();
      const started = Date.now();
      await assert.rejects(pull([viaProxy(image)], sink, { bodyDeadlineMs: 1_500, retry: { attempts: 2 } }), (e) => {
        assert.ok(e instanceof SkiffError, String(e));
        assert.equal(e.code, 'timeout');
        const named =
          name === 'manifest' ? `Manifest ${image.repository}:${image.tag}` : `Config ${image.configDigest}`;
        assert.ok(e.message.startsWith(named), e.message);
        assert.match(
          e.message,
          /only 10\d bytes arrived in 2 s; the registry sends too slowly \(gave up after 2 tries\)/,
        );
        return true;
      });
      assert.ok(Date.now() - started < 10_000, `gave up in ${Date.now() - started} ms`);
      assert.ok(state.aborted);
      proxy.setPlan(undefined);
    });
  }

  test('a dripping layer is shown as stalled, picked up again, and the archive is identical', async () => {
    const image = fixtures.small.oci;
    const expected = await cleanArchive(image, 'as-pulled');
    const layer = bigLayer(image);
    proxy.setPlan(once(`/blobs/${layer.digest}`, fault.drip(1000, 4)));
    const stalls: string[] = [];
    const { sink, bytes } = recordingSink();
    await pull([viaProxy(image)], sink, {
      layers: 'as-pulled',
      idleTimeoutMs: 1_000,
      progressIntervalMs: 0,
      onProgress: (p) => stalls.push(...p.blobs.flatMap((l) => (l.stalled ? [l.stalled] : []))),
    });
    assert.ok(bytes().equals(expected));
    assert.ok(
      stalls.some((s) => s.includes(layer.digest) && /stalled, only \d+ bytes in 1 s.*trying again \(1 of 5\)/.test(s)),
      stalls.join('\n'),
    );
    proxy.setPlan(undefined);
  });

  test('a layer that always drips ends in a stall error after the bounded resumes', async () => {
    const image = fixtures.small.oci;
    const layer = bigLayer(image);
    // Each resumed request gets its first 100 bytes fast: far fewer than the layer needs in 5 resumes.
    proxy.setPlan(always(`/blobs/${layer.digest}`, fault.drip(100, 4)));
    const { sink, state } = recordingSink();
    await assert.rejects(
      pull([viaProxy(image)], sink, { layers: 'as-pulled', idleTimeoutMs: 1_000 }),
      (e) =>
        e instanceof SkiffError &&
        e.code === 'timeout' &&
        e.message.includes(layer.digest) &&
        /stalled, only \d+ bytes in 1 s \(less than 1024 bytes a second\)/.test(e.message),
    );
    assert.ok(state.aborted);
    proxy.setPlan(undefined);
  });
});
