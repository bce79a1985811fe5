/**
 * A destination of its own handed to `pull()` in place of a stream: the seam a new archive-like destination
 * (an OCI layout folder, say) plugs into. Here an in-memory one, over a registry answered by an injected fetch.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import type { ArchiveDestination, ArchiveImage } from '../archive/writer.ts';
import { TarWriter } from '../archive/tar.ts';
import { pull } from '../pull.ts';

const sha = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

async function tarOf(name: string, text: string): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const tar = new TarWriter({ write: async (chunk) => void parts.push(chunk.slice()) });
  await tar.addFile(name, new TextEncoder().encode(text));
  await tar.finish();
  return Buffer.concat(parts);
}

/** A registry holding one image of two uncompressed layers; `tamper` changes a layer's bytes on the way. */
async function registry(tamper = false) {
  const layers = [await tarOf('a.txt', 'first'), await tarOf('b.txt', 'second')];
  const config = json({ os: 'linux', architecture: 'amd64', rootfs: { type: 'layers', diff_ids: layers.map(sha) } });
  const manifest = json({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.byteLength },
    layers: layers.map((l) => ({
      mediaType: 'application/vnd.oci.image.layer.v1.tar',
      digest: sha(l),
      size: l.byteLength,
    })),
  });
  const blobs = new Map([config, ...layers].map((b) => [sha(b), b]));
  const fetch = async (url: string) => {
    const path = new URL(url).pathname;
    if (path === '/v2/app/manifests/1')
      return new Response(manifest as Uint8Array<ArrayBuffer>, {
        headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
      });
    const blob = blobs.get(path.replace('/v2/app/blobs/', ''));
    if (!blob) return new Response('not found', { status: 404 });
    const body = tamper && blob === layers[1] ? blob.map((b, i) => (i === 0 ? b ^ 1 : b)) : blob;
    return new Response(body as Uint8Array<ArrayBuffer>, { headers: { 'content-length': String(body.byteLength) } });
  };
  return { fetch, layers, config, manifest };
}

/** Blobs by digest and the images named, in memory: what a folder destination would write as files. */
function memoryDestination() {
  const blobs = new Map<string, Uint8Array>();
  const images: ArchiveImage[] = [];
  const state = { finished: false, aborted: undefined as unknown };
  const destination: ArchiveDestination = {
    start: async () => {},
    has: (digest) => blobs.has(digest),
    addBlob: async (digest, bytes) => void blobs.set(digest, bytes),
    beginBlob: async (digest, size) => {
      const parts: Uint8Array[] = [];
      return {
        write: async (chunk) => void parts.push(chunk.slice()),
        end: async () => {
          const bytes = Buffer.concat(parts);
          assert.equal(bytes.byteLength, size);
          blobs.set(digest, bytes);
        },
      };
    },
    addImage: (image) => void images.push(image),
    finish: async () => void (state.finished = true),
    abort: async (reason) => void (state.aborted = reason),
    get bytesWritten() {
      return [...blobs.values()].reduce((sum, b) => sum + b.byteLength, 0);
    },
  };
  return { destination, blobs, images, state };
}

test('pull writes into a destination of its own: every blob by digest, the image named, then finished', async () => {
  const { fetch, layers, config, manifest } = await registry();
  const out = memoryDestination();
  const result = await pull(['127.0.0.1:5000/app:1'], out.destination, { fetch, layers: 'as-pulled' });
  assert.equal(out.state.finished, true);
  assert.equal(out.state.aborted, undefined);
  for (const blob of [config, manifest, ...layers]) assert.deepEqual(out.blobs.get(sha(blob)), blob);
  assert.equal(out.images.length, 1);
  assert.deepEqual(out.images[0]!.layerDigests, layers.map(sha));
  assert.equal(out.images[0]!.manifest.digest, sha(manifest));
  assert.equal(result.images[0]!.configDigest, sha(config));
  assert.equal(result.bytesWritten, out.destination.bytesWritten);
});

test('a layer that does not match its digest aborts the destination: it is never finished', async () => {
  const { fetch } = await registry(true);
  const out = memoryDestination();
  await assert.rejects(pull(['127.0.0.1:5000/app:1'], out.destination, { fetch, layers: 'as-pulled' }), /digest/i);
  assert.equal(out.state.finished, false);
  assert.ok(out.state.aborted instanceof Error);
});
