/**
 * The fixture image builder, checked by real consumers: a real registry accepts the pushes, skopeo reads
 * manifests and configs back and verifies every blob digest on copy, and the gzip/zstd/tar CLIs decompress
 * and unpack the layers (diff_ids, entry types, odd names).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import {
  MediaType,
  bigNoiseSpec,
  bigZerosSpec,
  oddNameFiles,
  pushFixtures,
  pushImage,
  type Compression,
  type Fixtures,
  type PushedImage,
} from '../support/images.ts';
import { scratchDir } from '../support/process.ts';
import { startRegistry, type Registry } from '../support/registry.ts';
import { normalizePath, tarEntries } from '../support/tar-build.ts';

function run(command: string, args: string[], input?: Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const options = { encoding: 'buffer' as const, maxBuffer: 1 << 30, timeout: 600_000 };
    const child = execFile(command, args, options, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')}: ${stderr.toString() || error.message}`));
      else resolve(stdout);
    });
    child.stdin?.end(input);
  });
}

/** skopeo with a policy that accepts anything, so the machine's policy.json plays no part. */
const skopeo = (...args: string[]) => run('skopeo', ['--insecure-policy', ...args]);
const inspect = async (ref: string, ...flags: string[]) =>
  JSON.parse((await skopeo('inspect', '--tls-verify=false', ...flags, `docker://${ref}`)).toString());
const inspectRaw = (ref: string, ...flags: string[]) =>
  skopeo('inspect', '--tls-verify=false', '--raw', ...flags, `docker://${ref}`);
const mediaTypes = (descriptors: { mediaType: string }[]) => descriptors.map((d) => d.mediaType);

const sha256 = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** Decompresses with the CLIs, not with our own code, so a wrong stream cannot agree with itself. */
function decompress(blob: Uint8Array, compression: Compression): Promise<Buffer> {
  if (compression === 'none') return Promise.resolve(Buffer.from(blob));
  return run(compression === 'gzip' ? 'gzip' : 'zstd', ['-dc'], blob);
}

/** GNU tar's verbose listing, names unquoted. */
async function tarList(tar: Uint8Array): Promise<string[]> {
  const out = await run('tar', ['--list', '--verbose', '--numeric-owner', '--quoting-style=literal', '-f', '-'], tar);
  return out.toString('utf8').trimEnd().split('\n');
}

const entryName = (line: string) => line.replace(/^\S+ \S+ +\d+ \S+ \S+ /, '').replace(/ (->|link to) .*$/, '');

let registry: Registry;
let fx: Fixtures;
const work = scratchDir('images-test');

before(async () => {
  registry = await startRegistry();
  fx = await pushFixtures(registry);
});

after(async () => {
  await registry?.stop();
  work.remove();
});

describe('fixture images, read back by skopeo', () => {
  test('the catalogue pushes', (t) => {
    t.diagnostic(`catalogue pushed in ${fx.seconds.toFixed(2)} s`);
    assert.equal(fx.host, registry.host);
  });

  test('small/docker: Docker v2s2 manifest and config as built', async () => {
    const img = fx.small.docker;
    const summary = await inspect(img.reference);
    assert.equal(summary.Digest, img.manifestDigest);
    assert.equal(summary.Architecture, 'amd64');
    assert.equal(summary.Os, 'linux');
    assert.deepEqual(
      summary.Layers,
      img.layers.map((l) => l.digest),
    );
    assert.deepEqual(summary.Env, [
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      'GREETING=hello world',
    ]);
    assert.deepEqual(summary.Labels, {
      'org.opencontainers.image.title': 'skiff small',
      'com.example.quote': 'it\'s "quoted"',
    });
    assert.equal(summary.Created, '2024-01-01T00:00:00Z');

    const raw = await inspectRaw(img.reference);
    assert.deepEqual(new Uint8Array(raw), img.manifestBytes, 'the registry serves the manifest bytes we pushed');
    const manifest = JSON.parse(raw.toString());
    assert.equal(manifest.mediaType, MediaType.dockerManifest);
    assert.equal(manifest.config.mediaType, MediaType.dockerConfig);
    assert.deepEqual(mediaTypes(manifest.layers), [MediaType.dockerLayerGzip, MediaType.dockerLayerGzip]);

    const configRaw = await inspectRaw(img.reference, '--config');
    assert.deepEqual(new Uint8Array(configRaw), img.configBytes);
    assert.equal(sha256(configRaw), img.configDigest);
    const config = JSON.parse(configRaw.toString());
    assert.deepEqual(config.rootfs, { type: 'layers', diff_ids: img.diffIds });
    assert.deepEqual(config.config.Entrypoint, ['/bin/hello']);
    assert.deepEqual(config.config.Cmd, ['--verbose', 'two words']);
    assert.deepEqual(config.config.ExposedPorts, { '8080/tcp': {}, '53/udp': {} });
    assert.equal(config.config.WorkingDir, '/app');
    assert.equal(config.history.length, 7);
    assert.equal(config.history.filter((h: { empty_layer?: boolean }) => !h.empty_layer).length, 2);
  });

  test('small/oci: the same layers under OCI media types', async () => {
    const img = fx.small.oci;
    const raw = await inspectRaw(img.reference);
    assert.deepEqual(new Uint8Array(raw), img.manifestBytes);
    const manifest = JSON.parse(raw.toString());
    assert.equal(manifest.mediaType, MediaType.ociManifest);
    assert.equal(manifest.config.mediaType, MediaType.ociConfig);
    assert.deepEqual(mediaTypes(manifest.layers), [MediaType.ociLayerGzip, MediaType.ociLayerGzip]);
    assert.deepEqual(
      img.layers.map((l) => l.digest),
      fx.small.docker.layers.map((l) => l.digest),
    );
    assert.deepEqual(new Uint8Array(await inspectRaw(img.reference, '--config')), img.configBytes);
  });

  test('multi/app: OCI index with three platforms and BuildKit attestations', async () => {
    const index = fx.multi.app;
    const raw = await inspectRaw(index.reference);
    assert.deepEqual(new Uint8Array(raw), index.bytes);
    const parsed = JSON.parse(raw.toString());
    assert.equal(parsed.mediaType, MediaType.ociIndex);
    assert.equal(parsed.manifests.length, 6);
    const attestations = parsed.manifests.slice(3);
    for (const [i, a] of attestations.entries()) {
      assert.deepEqual(a.platform, { architecture: 'unknown', os: 'unknown' });
      assert.equal(a.annotations['vnd.docker.reference.type'], 'attestation-manifest');
      assert.equal(a.annotations['vnd.docker.reference.digest'], parsed.manifests[i].digest);
      const attRaw = await inspectRaw(`${index.registry}/${index.repository}@${a.digest}`);
      assert.equal(sha256(attRaw), a.digest);
      assert.equal(JSON.parse(attRaw.toString()).layers[0].mediaType, MediaType.inToto);
    }

    const cases: [string[], string][] = [
      [['--override-os', 'linux', '--override-arch', 'amd64'], 'linux/amd64'],
      [['--override-arch', 'arm64'], 'linux/arm64/v8'],
      [['--override-arch', 'arm', '--override-variant', 'v7'], 'linux/arm/v7'],
    ];
    const seen = new Set<string>();
    for (const [flags, key] of cases) {
      const img = index.byPlatform[key];
      assert.ok(img, key);
      const summary = await inspect(index.reference, ...flags);
      assert.equal(summary.Digest, index.digest, 'skopeo reports the index digest');
      assert.equal(summary.Architecture, img.platform.architecture);
      assert.deepEqual(
        summary.Layers,
        img.layers.map((l) => l.digest),
      );
      assert.deepEqual(summary.Env, [`PLATFORM=${key}`]);
      seen.add(img.layers[1]!.digest);
    }
    assert.equal(seen.size, 3, 'each platform has its own top layer');
    assert.equal(new Set(index.manifests.map((m) => m.image.layers[0]!.digest)).size, 1, 'and one shared base layer');
  });

  test('multi/list: Docker manifest list over amd64 and arm64', async () => {
    const list = fx.multi.list;
    const raw = await inspectRaw(list.reference);
    assert.deepEqual(new Uint8Array(raw), list.bytes);
    const parsed = JSON.parse(raw.toString());
    assert.equal(parsed.mediaType, MediaType.dockerManifestList);
    assert.deepEqual(mediaTypes(parsed.manifests), [MediaType.dockerManifest, MediaType.dockerManifest]);
    const arm = list.byPlatform['linux/arm64/v8']!;
    const summary = await inspect(list.reference, '--override-arch', 'arm64');
    assert.equal(summary.Architecture, 'arm64');
    assert.deepEqual(
      summary.Layers,
      arm.layers.map((l) => l.digest),
    );
  });

  test('many/layers: 32 layers, all different', async () => {
    const img = fx.many.layers;
    const summary = await inspect(img.reference);
    assert.equal(summary.Layers.length, 32);
    assert.equal(new Set(img.diffIds).size, 32);
  });

  test('shared/a and shared/b share their base layers, and b got them by cross-repository mount', async () => {
    const { a, b } = fx.shared;
    assert.deepEqual(a.layers.slice(0, 2), b.layers.slice(0, 2));
    assert.notEqual(a.layers[2]!.digest, b.layers[2]!.digest);
    for (const layer of b.layers) {
      const res = await fetch(`${registry.url}/v2/shared/b/blobs/${layer.digest}`, { method: 'HEAD' });
      assert.equal(res.status, 200, layer.digest);
    }
  });
});

/** Copies to an OCI layout (skopeo verifies each blob's digest on the way) and reads blobs back from it. */
async function copyToOci(img: PushedImage, name: string) {
  const dir = join(work.path, name);
  // --preserve-digests: fail rather than re-encode (skopeo gzips uncompressed layers for oci: by default).
  const flags = ['--quiet', '--preserve-digests', '--dest-oci-accept-uncompressed-layers', '--src-tls-verify=false'];
  await skopeo('copy', ...flags, `docker://${img.reference}`, `oci:${dir}:v1`);
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
  const blob = (digest: string) => readFileSync(join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length)));
  return { dir, manifestDigest: index.manifests[0].digest as string, blob };
}

/** Every layer through skopeo copy, then the CLIs: compressed digest, diff_id, uncompressed size. */
async function verifyLayers(img: PushedImage, name: string): Promise<Buffer[]> {
  const layout = await copyToOci(img, name);
  assert.equal(layout.manifestDigest, img.manifestDigest);
  const tars: Buffer[] = [];
  for (const layer of img.layers) {
    const blob = layout.blob(layer.digest);
    assert.equal(sha256(blob), layer.digest);
    assert.equal(blob.length, layer.size);
    const tar = await decompress(blob, layer.compression);
    assert.equal(sha256(tar), layer.diffId, `diff_id of ${layer.digest} (${layer.compression})`);
    assert.equal(tar.length, layer.uncompressedSize);
    tars.push(tar);
  }
  return tars;
}

describe('fixture layers, verified by skopeo copy and the gzip/zstd/tar CLIs', () => {
  const copied: [string, () => PushedImage][] = [
    ['small/docker (gzip, Docker)', () => fx.small.docker],
    ['codec/zstd', () => fx.codec.zstd],
    ['codec/plain', () => fx.codec.plain],
    ['codec/multimember', () => fx.codec.multimember],
    ['codec/mixed (gzip + zstd + none)', () => fx.codec.mixed],
    ['names/odd', () => fx.names.odd],
    ['shared/b (mounted blobs)', () => fx.shared.b],
  ];
  for (const [title, pick] of copied) {
    test(`${title}: blobs verify, layers decompress to their diff_ids`, async () => {
      await verifyLayers(pick(), title.split(' ')[0]!.replace('/', '-'));
    });
  }

  test('multi/app: skopeo copy --all takes every image and attestation', async () => {
    const dir = join(work.path, 'multi-app');
    await skopeo(
      'copy',
      '--quiet',
      '--all',
      '--src-tls-verify=false',
      `docker://${fx.multi.app.reference}`,
      `oci:${dir}:v1`,
    );
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
    assert.equal(index.manifests[0].digest, fx.multi.app.digest);
  });

  test('codec/mixed: gzip, zstd and plain tar layers, each under its media type and magic bytes', async () => {
    const layers = fx.codec.mixed.layers;
    assert.deepEqual(
      layers.map((l) => l.mediaType),
      [MediaType.ociLayerGzip, MediaType.ociLayerZstd, MediaType.ociLayerTar],
    );
    const blobs = await Promise.all(
      layers.map(async (l) =>
        Buffer.from(await (await fetch(`${registry.url}/v2/codec/mixed/blobs/${l.digest}`)).arrayBuffer()),
      ),
    );
    assert.equal(blobs[0]!.subarray(0, 2).toString('hex'), '1f8b');
    assert.equal(blobs[1]!.subarray(0, 4).toString('hex'), '28b52ffd');
    assert.equal(blobs[2]!.subarray(257, 263).toString('latin1'), 'ustar\0');
  });

  test('codec/multimember: three gzip members, each inflating on its own', async () => {
    const layer = fx.codec.multimember.layers[0]!;
    assert.equal(layer.memberSizes.length, 3);
    const res = await fetch(`${registry.url}/v2/codec/multimember/blobs/${layer.digest}`);
    const blob = new Uint8Array(await res.arrayBuffer());
    assert.equal(
      blob.length,
      layer.memberSizes.reduce((a, b) => a + b, 0),
    );
    const parts: Buffer[] = [];
    let at = 0;
    for (const size of layer.memberSizes) {
      const member = blob.subarray(at, at + size);
      assert.deepEqual([...member.subarray(0, 2)], [0x1f, 0x8b], 'each member starts with the gzip magic');
      parts.push(gunzipSync(member));
      at += size;
    }
    assert.equal(sha256(Buffer.concat(parts)), layer.diffId);
  });

  test('small layers: every entry type, both whiteout kinds, modes and owners', async () => {
    const layout = await copyToOci(fx.small.oci, 'small-oci');
    const [one, two] = await Promise.all(
      fx.small.oci.layers.map(async (l) => tarList(await decompress(layout.blob(l.digest), l.compression))),
    );
    const line = (lines: string[] | undefined, name: string) => {
      const found = lines?.find((l) => entryName(l) === name);
      assert.ok(found, `${name} in ${lines?.join('\n')}`);
      return found;
    };
    assert.match(line(one, 'etc/'), /^drwxr-xr-x 0\/0 /);
    assert.match(line(one, 'bin/hello'), /^-rwxr-xr-x 0\/0 +34 2024-01-01 00:00 /);
    assert.match(line(one, 'bin/hi'), /^lrwxrwxrwx .* bin\/hi -> hello$/);
    assert.match(line(one, 'bin/hello-again'), /^h.* bin\/hello-again link to bin\/hello$/);
    assert.match(line(one, 'app/data/'), /^drwxr-x--- /);
    assert.match(line(one, 'tmp/'), /^drwxrwxrwt /);
    assert.match(line(one, 'home/user/notes.txt'), /^-rw-r--r-- 1000\/1000 /);
    assert.match(line(two, 'app/.wh.removed'), /^-rw-r--r-- 0\/0 +0 /);
    assert.match(line(two, 'app/data/.wh..wh..opq'), /^-rw-r--r-- 0\/0 +0 /);
    const names = two!.map(entryName);
    assert.ok(
      names.indexOf('app/data/') < names.indexOf('app/data/.wh..wh..opq'),
      'the opaque marker follows its directory',
    );
  });

  test('names/odd: GNU tar unpacks long, unicode and quoted names to the right files', async () => {
    const img = fx.names.odd;
    const layout = await copyToOci(img, 'names-odd-unpack');
    const layer = img.layers[0]!;
    const tar = await decompress(layout.blob(layer.digest), layer.compression);
    const names = new Set((await tarList(tar)).map(entryName));
    const root = join(work.path, 'names-odd-root');
    mkdirSync(root);
    await run('tar', ['-x', '-f', '-', '-C', root], tar);
    for (const file of oddNameFiles()) {
      const path = normalizePath(file.path);
      assert.ok(names.has(path), `listed: ${path}`);
      const onDisk = join(root, path);
      if (file.type === 'symlink') {
        assert.equal(readlinkSync(onDisk), file.linkname);
      } else if (file.type === 'hardlink') {
        assert.equal(lstatSync(onDisk).ino, statSync(join(root, normalizePath(file.linkname))).ino);
      } else if (file.type !== 'dir') {
        assert.equal(readFileSync(onDisk, 'utf8'), file.content);
      }
    }
    assert.ok(
      [...names].some((n) => Buffer.byteLength(n) > 255),
      'a path over 255 bytes',
    );
  });
});

/** Runs `fn`, counting the requests it makes through the global fetch, by method. */
async function countRequests<T>(fn: () => Promise<T>) {
  const methods: string[] = [];
  const original = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    methods.push(init?.method ?? 'GET');
    return original(input, init);
  };
  try {
    const result = await fn();
    return { result, count: (method: string) => methods.filter((m) => m === method).length };
  } finally {
    globalThis.fetch = original;
  }
}

describe('tar writer edge cases', () => {
  test('PAX record lengths around a digit boundary read back in GNU tar', async () => {
    // Non-ASCII names force PAX; "NN path=…\n" crosses from two to three length digits near 100 bytes.
    const files = Array.from({ length: 16 }, (_, i) => ({ path: `é${'x'.repeat(84 + i)}`, content: `${i}\n` }));
    const tar = Buffer.concat([...tarEntries(files)]);
    const names = (await tarList(tar)).map(entryName);
    assert.deepEqual(
      names,
      files.map((f) => f.path),
    );
  });

  test('a file of 8 GiB or more gets its size in a PAX record', () => {
    const size = 9 * 2 ** 30;
    const entries = tarEntries([{ path: 'huge', content: { zeros: size } }]);
    const head: Uint8Array[] = [];
    // The generator is lazy: take the three header blocks, and nothing past them is ever made.
    for (let got = 0; got < 3 * 512;) {
      const chunk = entries.next().value as Uint8Array;
      head.push(chunk);
      got += chunk.length;
    }
    entries.return(undefined);
    const blocks = Buffer.concat(head);
    assert.equal(blocks.subarray(156, 157).toString(), 'x', 'a PAX header comes first');
    assert.match(blocks.subarray(512, 1024).toString('utf8'), new RegExp(`^\\d+ size=${size}\n`));
    assert.equal(
      blocks.subarray(1024 + 124, 1024 + 136).toString(),
      '00000000000\0',
      'the ustar size field is left at 0',
    );
  });
});

describe('push mechanics', () => {
  test('chunked PATCH upload from a spool file; a re-push sends no blob again', async () => {
    const spec = {
      format: 'oci' as const,
      layers: [
        { compression: 'gzip' as const, files: [{ path: 'noise.bin', content: { noise: 300_000 } }] },
        { compression: 'zstd' as const, files: [{ path: 'more-noise.bin', content: { noise: 200_000 } }] },
      ],
    };
    // 64 KiB chunks and a 100 KB spill threshold: both big-blob paths with small data.
    const opts = { chunkSize: 64 * 1024, spillBytes: 100_000 };
    const first = await countRequests(() => pushImage(registry, 'chunked/test', 'v1', spec, opts));
    const chunks = first.result.layers.reduce((n, l) => n + Math.ceil(l.size / opts.chunkSize), 0);
    assert.ok(chunks >= 8);
    assert.equal(first.count('PATCH'), chunks);
    await verifyLayers(first.result, 'chunked');

    const again = await countRequests(() => pushImage(registry, 'chunked/test', 'v2', spec, opts));
    assert.equal(again.result.manifestDigest, first.result.manifestDigest, 'same spec, same bytes');
    assert.equal(again.count('HEAD'), 3, 'two layers and the config, each found by HEAD');
    assert.deepEqual(
      [again.count('POST'), again.count('PATCH'), again.count('PUT')],
      [0, 0, 1],
      'only the manifest goes up',
    );
  });

  test('htpasswd registry: refused without credentials, accepted with Basic auth', async () => {
    const secured = await startRegistry({ auth: { htpasswd: { username: 'pusher', password: 's3cret pass' } } });
    try {
      const layers = [{ compression: 'gzip' as const, files: [{ path: 'x', content: 'x\n' }] }];
      const spec = { format: 'docker' as const, layers };
      await assert.rejects(pushImage(secured.url, 'auth/test', 'v1', spec), /answered 401/);
      const viaOption = await pushImage(secured.url, 'auth/test', 'v1', spec, {
        basicAuth: { username: 'pusher', password: 's3cret pass' },
      });
      const viaTarget = await pushImage(secured, 'auth/test', 'v2', spec); // the registry's own authHeaders
      assert.equal(viaTarget.manifestDigest, viaOption.manifestDigest);
      const summary = await inspect(viaOption.reference, '--creds', 'pusher:s3cret pass');
      assert.equal(summary.Digest, viaOption.manifestDigest);
    } finally {
      await secured.stop();
    }
  });
});

describe(
  'big images (SKIFF_BIG=1)',
  { skip: process.env.SKIFF_BIG !== '1' && 'set SKIFF_BIG=1 to push 2 × 1.1 GiB' },
  () => {
    for (const [name, spec] of [
      ['zeros', bigZerosSpec],
      ['noise', bigNoiseSpec],
    ] as const) {
      test(`big/${name}: streams the push, stays under 300 MB RSS, and verifies`, async (t) => {
        const started = performance.now();
        const img = await pushImage(registry, `big/${name}`, 'v1', spec());
        const seconds = (performance.now() - started) / 1000;
        const maxRssMb = process.resourceUsage().maxRSS / 1024;
        const [big] = img.layers;
        t.diagnostic(
          `big/${name}: ${seconds.toFixed(1)} s, process peak RSS ${maxRssMb.toFixed(0)} MB, ` +
            `layer ${big!.size} B compressed / ${big!.uncompressedSize} B tar`,
        );
        assert.ok(maxRssMb < 300, `peak RSS ${maxRssMb.toFixed(0)} MB`);
        assert.ok(big!.uncompressedSize > 2 ** 30);

        // skopeo checks the compressed digests; gzip -dc | sha256sum checks the diff_id without holding it.
        const layout = await copyToOci(img, `big-${name}`);
        const path = join(layout.dir, 'blobs', 'sha256', big!.digest.slice('sha256:'.length));
        const out = await run('sh', ['-c', 'gzip -dc "$1" | sha256sum', 'sh', path]);
        assert.equal(`sha256:${out.toString().split(' ')[0]}`, big!.diffId);
      });
    }
  },
);
