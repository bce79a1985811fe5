import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SkiffError } from '../errors.ts';
import { choosePlatform, parseConfig, parseManifest, runnableEntries } from './manifest.ts';
import { MediaType } from './media-types.ts';
import { formatPlatform, normalizePlatform, parsePlatform } from './platform.ts';
import { prng } from '../../../test/support/prng.ts';

const enc = (value: unknown) => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));
const D = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
const layer = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: D(2), size: 10 };
const image = {
  schemaVersion: 2,
  mediaType: MediaType.ociManifest,
  config: { mediaType: MediaType.ociConfig, digest: D(1), size: 5 },
  layers: [layer],
};
const fails = (code: string, pattern?: RegExp) => (e: unknown) =>
  e instanceof SkiffError && e.code === code && (!pattern || pattern.test(e.message));

test('reads the four manifest kinds, by header, by mediaType, or by shape', () => {
  assert.equal(parseManifest(enc(image), MediaType.ociManifest).kind, 'image');
  assert.equal(parseManifest(enc({ ...image, mediaType: undefined }), null).kind, 'image');
  assert.equal(
    parseManifest(enc({ ...image, mediaType: MediaType.dockerManifest }), 'application/json').mediaType,
    MediaType.dockerManifest,
  );
  const index = {
    schemaVersion: 2,
    manifests: [
      { mediaType: MediaType.ociManifest, digest: D(3), size: 1, platform: { os: 'linux', architecture: 'amd64' } },
    ],
  };
  assert.equal(parseManifest(enc(index), `${MediaType.dockerManifestList}; charset=utf-8`).kind, 'index');
  assert.equal(parseManifest(enc(index), null).kind, 'index');
});

test('refuses bad manifests with the reason', () => {
  assert.throws(() => parseManifest(enc('{not json'), null), fails('bad-manifest', /not valid JSON/));
  assert.throws(() => parseManifest(enc('[1,2]'), null), fails('bad-manifest', /not an object/));
  assert.throws(() => parseManifest(enc({ schemaVersion: 1, fsLayers: [] }), null), fails('unsupported', /schema 1/));
  assert.throws(() => parseManifest(enc(image), MediaType.dockerSchema1Signed), fails('unsupported', /schema 1/));
  assert.throws(
    () => parseManifest(enc({ ...image, mediaType: 'application/vnd.example+json' }), null),
    fails('unsupported', /application\/vnd\.example/),
  );
  for (const size of [-1, 1.5, 2 ** 63, '10', null]) {
    assert.throws(
      () => parseManifest(enc({ ...image, layers: [{ ...layer, size }] }), null),
      fails('bad-manifest', /invalid size/),
      String(size),
    );
  }
  for (const digest of ['sha256:../../x', `md5:${'a'.repeat(32)}`, `sha256:${'A'.repeat(64)}`, 'sha256:abc']) {
    assert.throws(
      () => parseManifest(enc({ ...image, layers: [{ ...layer, digest }] }), null),
      fails('bad-manifest', /invalid digest/),
      digest,
    );
  }
  assert.throws(
    () => parseManifest(enc({ ...image, layers: Array(10_000).fill(layer) }), null),
    fails('bad-manifest', /10000 layers/),
  );
  assert.throws(
    () => parseManifest(enc({ ...image, layers: [{ ...layer, mediaType: 'text/html' }] }), null),
    fails('unsupported', /text\/html/),
  );
  assert.throws(() => parseManifest(new Uint8Array(4 * 1024 * 1024 + 1), null), fails('too-large', /4 MiB/));
});

test('config: diff_ids are required and checked', () => {
  const config = parseConfig(
    enc({
      os: 'linux',
      architecture: 'arm64',
      variant: 'v8',
      rootfs: { type: 'layers', diff_ids: [D(9)] },
      config: { Cmd: ['sh'] },
    }),
  );
  assert.deepEqual(config.diffIds, [D(9)]);
  assert.deepEqual(config.config, { Cmd: ['sh'] });
  assert.throws(() => parseConfig(enc({ os: 'linux' })), fails('bad-manifest', /diff_ids/));
  assert.throws(
    () => parseConfig(enc({ rootfs: { diff_ids: ['sha256:zz'] } })),
    fails('bad-manifest', /invalid digest/),
  );
});

test('platforms normalise as containerd does', () => {
  assert.deepEqual(normalizePlatform({ os: 'Linux', architecture: 'x86_64' }), { os: 'linux', architecture: 'amd64' });
  assert.deepEqual(normalizePlatform({ os: 'linux', architecture: 'aarch64', variant: 'v8' }), {
    os: 'linux',
    architecture: 'arm64',
  });
  assert.deepEqual(normalizePlatform({ os: 'linux', architecture: 'arm' }), {
    os: 'linux',
    architecture: 'arm',
    variant: 'v7',
  });
  assert.deepEqual(parsePlatform('linux/arm/7'), { os: 'linux', architecture: 'arm', variant: 'v7' });
  assert.equal(formatPlatform(parsePlatform('linux/arm64/v8')), 'linux/arm64');
  assert.throws(() => parsePlatform('arm64'), fails('invalid-argument', /os\/arch/));
});

test('choosing a platform skips attestations and lists what exists when nothing matches', () => {
  const entry = (
    n: number,
    os: string,
    architecture: string,
    variant?: string,
    annotations?: Record<string, string>,
  ) => ({
    mediaType: MediaType.ociManifest,
    digest: D(n),
    size: 1,
    platform: { os, architecture, ...(variant ? { variant } : {}) },
    ...(annotations ? { annotations } : {}),
  });
  const index = parseManifest(
    enc({
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: [
        entry(1, 'unknown', 'unknown', undefined, { 'vnd.docker.reference.type': 'attestation-manifest' }),
        entry(2, 'linux', 'amd64'),
        entry(3, 'linux', 'arm64', 'v8'),
        entry(4, 'linux', 'arm', 'v7'),
      ],
    }),
    null,
  );
  assert.equal(index.kind, 'index');
  if (index.kind !== 'index') return;
  assert.equal(runnableEntries(index).length, 3);
  assert.equal(choosePlatform(index).digest, D(2));
  assert.equal(choosePlatform(index, { os: 'linux', architecture: 'aarch64' }).digest, D(3));
  assert.equal(choosePlatform(index, { os: 'linux', architecture: 'arm', variant: 'v7' }).digest, D(4));
  assert.throws(
    () => choosePlatform(index, { os: 'windows', architecture: 'amd64' }),
    (e) => {
      assert.ok(fails('platform-not-found', /Available platforms: linux\/amd64, linux\/arm64, linux\/arm\/v7/)(e));
      assert.deepEqual((e as SkiffError).platforms, ['linux/amd64', 'linux/arm64', 'linux/arm/v7']);
      return true;
    },
  );
});

test('fuzz: random and mutated documents only ever end in a SkiffError', () => {
  const random = prng(0x5eed);
  const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)]!;
  const values = [
    null,
    true,
    0,
    -1,
    1.5,
    2 ** 63,
    '',
    'x',
    `sha256:${'a'.repeat(64)}`,
    [],
    {},
    [{}],
    { os: 1 },
    'sha256:../x',
  ];
  const keys = [
    'schemaVersion',
    'mediaType',
    'config',
    'layers',
    'manifests',
    'digest',
    'size',
    'platform',
    'urls',
    'annotations',
    'rootfs',
    'diff_ids',
    'os',
    'architecture',
    'history',
    '__proto__',
  ];
  const randomValue = (depth: number): unknown => {
    if (depth > 3 || random() < 0.4) return pick(values);
    if (random() < 0.3) return Array.from({ length: Math.floor(random() * 4) }, () => randomValue(depth + 1));
    return Object.fromEntries(
      Array.from({ length: Math.floor(random() * 5) }, () => [pick(keys), randomValue(depth + 1)]),
    );
  };
  const seeds = [
    JSON.stringify(image),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: [{ ...layer, mediaType: MediaType.ociManifest, platform: { os: 'linux', architecture: 'amd64' } }],
    }),
  ];
  const started = Date.now();
  for (let i = 0; i < 20_000; i++) {
    let text: string;
    if (i % 2) {
      text = JSON.stringify({ schemaVersion: pick([2, 2, 1, '2']), ...(randomValue(0) as object) });
    } else {
      const chars = [...pick(seeds)];
      for (let m = 0; m < 1 + Math.floor(random() * 4); m++)
        chars[Math.floor(random() * chars.length)] = pick(['"', '{', '}', ',', '1', '-', 'a', ':', '[', ']', '\\']);
      text = chars.join('');
    }
    for (const parse of [
      () => parseManifest(enc(text), pick([null, MediaType.ociManifest, MediaType.ociIndex, 'text/html'])),
      () => parseConfig(enc(text)),
    ]) {
      try {
        const result = parse();
        if ('kind' in result && result.kind === 'index') runnableEntries(result);
      } catch (error) {
        if (!(error instanceof SkiffError)) assert.fail(`input ${JSON.stringify(text)} threw ${String(error)}`);
      }
    }
  }
  assert.ok(Date.now() - started < 10_000);
});
