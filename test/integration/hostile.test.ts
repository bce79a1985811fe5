/**
 * Hostile and broken answers from a registry: a real registry holds well-formed images and some broken
 * ones pushed as raw blobs, and a proxy in front answers crafted manifests, challenges and tokens. Every
 * case must end in the engine's own error type naming what was wrong — never a hang, never a file claimed
 * complete.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { SkiffError, type SkiffErrorCode } from '../../src/core/errors.ts';
import { type PullOptions, pull } from '../../src/core/pull.ts';
import { type FaultProxy, always, fault, startFaultProxy } from '../support/fault-proxy.ts';
import { type Fixtures, pushFixtures } from '../support/images.ts';
import { recordingSink } from '../support/pull-to-file.ts';
import { type Registry, pushBlob, pushManifest, startRegistry } from '../support/registry.ts';
import { tarEntries } from '../support/tar-build.ts';

const sha = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const GZIP_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';

let registry: Registry;
let proxy: FaultProxy;
let fixtures: Fixtures;

/** Pushes an image made of raw layer blobs (which may be broken) and returns its reference via the proxy. */
async function pushRaw(
  repo: string,
  layers: { blob: Uint8Array; diffId: string }[],
  diffIds = layers.map((l) => l.diffId),
): Promise<string> {
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: diffIds }, config: {} }),
  );
  const configBlob = await pushBlob(registry, repo, config);
  const descriptors = [];
  for (const layer of layers) {
    const pushed = await pushBlob(registry, repo, layer.blob);
    descriptors.push({ mediaType: GZIP_LAYER, digest: pushed.digest, size: pushed.size });
  }
  await pushManifest(registry, repo, 'v1', {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configBlob.digest, size: configBlob.size },
    layers: descriptors,
  });
  return `${proxy.host}/${repo}:v1`;
}

/** Pulls into a sink that must never be closed as complete, and checks the error's code and message. */
async function expectFailure(ref: string, code: SkiffErrorCode, message: RegExp, options: PullOptions = {}) {
  const { sink, state } = recordingSink();
  await assert.rejects(pull([ref], sink, { retry: { attempts: 2, timeoutMs: 2_000 }, ...options }), (error) => {
    assert.ok(error instanceof SkiffError, `a SkiffError, not ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.match(error.message, message);
    return true;
  });
  assert.equal(state.closed, false, 'never closed as complete');
  assert.ok(state.aborted, 'sink aborted');
}

before(async () => {
  registry = await startRegistry();
  fixtures = await pushFixtures(registry);
  proxy = await startFaultProxy(registry.url);
});
after(async () => {
  await proxy?.stop();
  await registry?.stop();
});

describe('hostile manifests', () => {
  const ref = () => `${proxy.host}/${fixtures.small.oci.repository}:v1`;
  const serveManifest = (body: string, contentType = OCI_MANIFEST) =>
    proxy.setPlan(always('/manifests/', fault.status(200, { 'Content-Type': contentType }, body)));
  const manifest = (layers: unknown[], extra: object = {}) =>
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: fixtures.small.oci.configDigest,
        size: fixtures.small.oci.configBytes.byteLength,
      },
      layers,
      ...extra,
    });
  const layer = (fields: object) => ({
    mediaType: GZIP_LAYER,
    digest: fixtures.small.oci.layers[0]!.digest,
    size: 100,
    ...fields,
  });
  after(() => proxy.setPlan(undefined));

  const cases: [string, () => void, SkiffErrorCode, RegExp][] = [
    ['not JSON', () => serveManifest('<html>not json</html>'), 'bad-manifest', /not valid JSON/],
    [
      'JSON of the wrong shape',
      () => serveManifest('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":"x"}'),
      'bad-manifest',
      /no layers array/,
    ],
    [
      'an unknown media type',
      () => serveManifest('{"schemaVersion":2,"mediaType":"application/x-evil"}', 'application/x-evil'),
      'unsupported',
      /application\/x-evil/,
    ],
    [
      'schemaVersion 1',
      () =>
        serveManifest(
          '{"schemaVersion":1,"name":"x","fsLayers":[]}',
          'application/vnd.docker.distribution.manifest.v1+prettyjws',
        ),
      'unsupported',
      /schema 1/,
    ],
    ['10 000 layers', () => serveManifest(manifest(Array(10_000).fill(layer({})))), 'bad-manifest', /10000 layers/],
    ['a negative size', () => serveManifest(manifest([layer({ size: -1 })])), 'bad-manifest', /invalid size -1/],
    ['a fractional size', () => serveManifest(manifest([layer({ size: 1.5 })])), 'bad-manifest', /invalid size 1\.5/],
    ['a size of 2^63', () => serveManifest(manifest([layer({ size: 2 ** 63 })])), 'bad-manifest', /invalid size/],
    [
      'a path in a digest',
      () => serveManifest(manifest([layer({ digest: 'sha256:../../x' })])),
      'bad-manifest',
      /invalid digest "sha256:\.\.\/\.\.\/x"/,
    ],
    [
      'an md5 digest',
      () => serveManifest(manifest([layer({ digest: `md5:${'a'.repeat(32)}` })])),
      'bad-manifest',
      /invalid digest/,
    ],
    [
      'an uppercase digest',
      () => serveManifest(manifest([layer({ digest: `sha256:${'A'.repeat(64)}` })])),
      'bad-manifest',
      /invalid digest/,
    ],
    [
      'a digest of the wrong length',
      () => serveManifest(manifest([layer({ digest: `sha256:${'a'.repeat(63)}` })])),
      'bad-manifest',
      /invalid digest/,
    ],
    ['a manifest over 4 MiB', () => serveManifest(' '.repeat(4 * 1024 * 1024 + 10)), 'too-large', /4194304/],
    [
      'a layer count that differs from the diff_ids',
      () =>
        serveManifest(
          manifest([...fixtures.small.oci.layers.map((l) => layer({ digest: l.digest, size: l.size })), layer({})]),
        ),
      'bad-manifest',
      /3 layers but the image config lists 2 diff_ids/,
    ],
  ];
  for (const [name, setUp, code, message] of cases) {
    test(name, async () => {
      setUp();
      await expectFailure(ref(), code, message);
    });
  }

  test('an index nested too deep', async () => {
    proxy.setPlan(undefined);
    const inner = fixtures.multi.app;
    let digest = inner.digest;
    let size = inner.bytes.byteLength;
    for (const tag of ['nest1', 'nest2']) {
      const body = JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [{ mediaType: OCI_INDEX, digest, size, platform: { os: 'linux', architecture: 'amd64' } }],
      });
      digest = await pushManifest(registry, inner.repository, tag, body, OCI_INDEX);
      size = Buffer.byteLength(body);
    }
    await expectFailure(`${proxy.host}/${inner.repository}:nest2`, 'bad-manifest', /nest more than 2 deep/);
  });
});

describe('hostile blobs', () => {
  const tar = Buffer.concat([...tarEntries([{ path: 'a.txt', content: 'hello\n'.repeat(1000) }])]);
  after(() => proxy.setPlan(undefined));

  test('gzip that is not gzip', async () => {
    const ref = await pushRaw('hostile/notgzip', [{ blob: tar, diffId: sha(tar) }]);
    await expectFailure(ref, 'bad-layer', /not valid gzip data/, { layers: 'uncompressed' });
  });

  test('a truncated gzip', async () => {
    const gz = gzipSync(tar);
    const ref = await pushRaw('hostile/truncated', [{ blob: gz.subarray(0, gz.byteLength - 20), diffId: sha(tar) }]);
    await expectFailure(ref, 'bad-layer', /truncated|not valid gzip/, { layers: 'uncompressed' });
  });

  test('a tar entry whose size overruns the layer', async () => {
    const full = Buffer.concat([
      ...tarEntries([{ path: 'big.bin', content: new Uint8Array(10_000).fill(7) }], undefined, false),
    ]);
    const cut = full.subarray(0, 512 + 3000);
    const ref = await pushRaw('hostile/overrun', [{ blob: gzipSync(cut), diffId: sha(cut) }]);
    await expectFailure(ref, 'malformed-layer', /"big\.bin" declares 10000 bytes but the layer ends after 3000/, {
      layers: 'uncompressed',
    });
  });

  test('right bytes, wrong diff_id', async () => {
    const ref = await pushRaw('hostile/diffid', [{ blob: gzipSync(tar), diffId: sha(Buffer.from('other')) }]);
    await expectFailure(ref, 'digest-mismatch', /diff_id/, { layers: 'as-pulled' });
  });

  test('a blob longer than declared', async () => {
    const image = fixtures.small.oci;
    const layer = image.layers[0]!;
    proxy.setPlan(
      always(
        `/blobs/${layer.digest}`,
        fault.status(200, { 'Content-Type': 'application/octet-stream' }, 'x'.repeat(layer.size + 10)),
      ),
    );
    await expectFailure(`${proxy.host}/${image.repository}:v1`, 'size-mismatch', /longer than/, {
      layers: 'as-pulled',
    });
  });

  test('a blob shorter than declared, every time', async () => {
    const image = fixtures.small.oci;
    const layer = image.layers[0]!;
    // Every answer, resumed ones included, ends after 10 bytes: a few resumes, then a clear end.
    proxy.setPlan(always(`/blobs/${layer.digest}`, fault.cut(10)));
    await expectFailure(`${proxy.host}/${image.repository}:v1`, 'network', /broke off after 60 of \d+ bytes/, {
      layers: 'as-pulled',
    });
  });

  test('a gzip bomb stops at the per-layer output limit, stated in the message', async () => {
    const image = fixtures.codec.mixed;
    await expectFailure(`${proxy.host}/${image.repository}:v1`, 'too-large', /more than 65536 bytes/, {
      maxLayerBytes: 65_536,
    });
  });
});

describe('hostile auth and transport', () => {
  const ref = () => `${proxy.host}/${fixtures.small.oci.repository}:v1`;
  after(() => proxy.setPlan(undefined));
  const challenge = (value: string) => proxy.setPlan(always('/v2/', fault.unauthorized(value)));

  test('a malformed WWW-Authenticate', async () => {
    challenge('Bearer realm="unterminated');
    await expectFailure(ref(), 'bad-challenge', /unterminated|quoted/i);
  });

  test('a realm on another scheme', async () => {
    challenge('Bearer realm="file:///etc/passwd",service="x"');
    await expectFailure(ref(), 'bad-challenge', /scheme "file:"/);
  });

  test('a token endpoint that answers HTML', async () => {
    proxy.setPlan((request) =>
      request.path.startsWith('/token')
        ? fault.status(200, { 'Content-Type': 'text/html' }, '<html><script>alert(1)</script></html>')
        : request.path.startsWith('/v2/') && !request.headers.authorization
          ? fault.unauthorized(`Bearer realm="${proxy.url}/token",service="s"`)
          : undefined,
    );
    await expectFailure(ref(), 'bad-token', /did not answer with JSON/);
  });

  test('a token endpoint that answers an error JSON', async () => {
    proxy.setPlan((request) =>
      request.path.startsWith('/token')
        ? fault.status(400, {}, '{"error":"invalid_request"}')
        : request.path.startsWith('/v2/') && !request.headers.authorization
          ? fault.unauthorized(`Bearer realm="${proxy.url}/token",service="s"`)
          : undefined,
    );
    await expectFailure(ref(), 'bad-token', /answered 400.*invalid_request/);
  });

  test('a redirect loop', async () => {
    proxy.setPlan(
      always(
        '/manifests/',
        fault.status(302, { Location: `${proxy.url}/v2/${fixtures.small.oci.repository}/manifests/v1` }),
      ),
    );
    await expectFailure(ref(), 'network', /Too many redirects/);
  });

  test('a registry that never answers', async () => {
    proxy.setPlan(always('/manifests/', fault.delay(30_000)));
    await expectFailure(ref(), 'timeout', /did not answer within 1 s/, { retry: { attempts: 2, timeoutMs: 1_000 } });
  });
});
