/**
 * Foreign (non-distributable) layers, as Windows base images have: the manifest lists `urls` and the registry
 * does not hold the blob. The engine fetches them from the URL, without the registry's credentials.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import { SkiffError } from '../../src/core/errors.ts';
import { type Dockerd, startDockerd } from '../support/dockerd.ts';
import { scratchDir } from '../support/process.ts';
import { pullToFile } from '../support/pull-to-file.ts';
import { type Registry, pushBlob, pushManifest, startRegistry } from '../support/registry.ts';
import { tarEntries } from '../support/tar-build.ts';

const sha = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const dir = scratchDir('foreign');
let registry: Registry;
let dockerd: Dockerd;
let server: Server;
const served: { path: string; authorization: boolean }[] = [];
let configDigest: string;
let diffId: string;

before(async () => {
  // distribution refuses manifests with foreign URLs unless an allow pattern names them.
  registry = await startRegistry({
    auth: { htpasswd: { username: 'u', password: 'p' } },
    extraConfig: "validation:\n  manifests:\n    urls:\n      allow: ['^http://127\\.0\\.0\\.1:']\n",
  });
  const tar = Buffer.concat([...tarEntries([{ path: 'foreign.txt', content: 'from a foreign URL\n' }])]);
  const blob = gzipSync(tar);
  diffId = sha(tar);
  server = createServer((req, res) => {
    served.push({ path: req.url ?? '', authorization: req.headers.authorization !== undefined });
    if (req.url === '/layer.tar.gz') res.writeHead(200, { 'content-length': blob.byteLength }).end(blob);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [diffId] }, config: {} }),
  );
  const pushed = await pushBlob(registry, 'win/app', config);
  configDigest = pushed.digest;
  const layer = (urls: string[]) => ({
    mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
    digest: sha(blob),
    size: blob.byteLength,
    urls,
  });
  const manifest = (urls: string[]) => ({
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: {
      mediaType: 'application/vnd.docker.container.image.v1+json',
      digest: configDigest,
      size: config.byteLength,
    },
    layers: [layer(urls)],
  });
  await pushManifest(registry, 'win/app', 'v1', manifest([`${base}/missing`, `${base}/layer.tar.gz`]));
  await pushManifest(registry, 'win/app', 'gone', manifest([`${base}/missing`]));
  dockerd = await startDockerd();
});
after(async () => {
  server?.close();
  await dockerd?.stop();
  await registry?.stop();
  dir.remove();
});

test('a foreign layer comes from its URL (the next one when one fails), without credentials, and loads', async () => {
  const tar = join(dir.path, 'foreign.tar');
  await pullToFile([`${registry.host}/win/app:v1`], tar, { credentials: { username: 'u', password: 'p' } });
  assert.ok(served.some((s) => s.path === '/layer.tar.gz'));
  assert.ok(
    served.every((s) => !s.authorization),
    'registry credentials never sent to a foreign URL',
  );
  await dockerd.load(tar);
  const inspected = await dockerd.inspect(configDigest);
  assert.deepEqual(inspected.RootFS.Layers, [diffId]);
});

test('a foreign layer whose URLs all fail ends in a clear error', async () => {
  await assert.rejects(
    pullToFile([`${registry.host}/win/app:gone`], join(dir.path, 'gone.tar'), {
      credentials: { username: 'u', password: 'p' },
    }),
    (e) => e instanceof SkiffError && /Foreign layer URL .*404/.test(e.message),
  );
});
