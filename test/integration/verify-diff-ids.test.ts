/**
 * `verifyDiffIds: false` (as-pulled only) skips inflating layers to check their diff_ids: the archive is
 * the same, blob digests are still checked, and only a config that does not match its layers gets through
 * (for `docker load` to refuse). Uncompressed mode always checks.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { SkiffError } from '../../src/core/errors.ts';
import { pull } from '../../src/core/pull.ts';
import { type FaultProxy, always, fault, startFaultProxy } from '../support/fault-proxy.ts';
import { recordingSink } from '../support/pull-to-file.ts';
import { type Registry, pushBlob, pushManifest, startRegistry } from '../support/registry.ts';
import { tarEntries } from '../support/tar-build.ts';

const sha = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
let registry: Registry;

async function pushImage(repo: string, blob: Uint8Array, diffId: string): Promise<{ ref: string; digest: string }> {
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [diffId] }, config: {} }),
  );
  const configBlob = await pushBlob(registry, repo, config);
  const layer = await pushBlob(registry, repo, blob);
  await pushManifest(registry, repo, 'v1', {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configBlob.digest, size: configBlob.size },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layer.digest, size: layer.size }],
  });
  return { ref: `${registry.host}/${repo}:v1`, digest: layer.digest };
}

before(async () => {
  registry = await startRegistry();
});
after(async () => {
  await registry?.stop();
});

describe('verifyDiffIds: false', () => {
  const tar = Buffer.concat([...tarEntries([{ path: 'etc/hello', content: 'hello\n'.repeat(1000) }])]);

  test('writes the same archive as a verified as-pulled pull', async () => {
    const { ref } = await pushImage('verify/same', gzipSync(tar), sha(tar));
    const checked = recordingSink();
    const unchecked = recordingSink();
    await pull([ref], checked.sink, { layers: 'as-pulled' });
    await pull([ref], unchecked.sink, { layers: 'as-pulled', verifyDiffIds: false });
    assert.ok(unchecked.state.closed);
    assert.deepEqual(unchecked.bytes(), checked.bytes());
  });

  test('lets a wrong diff_id through in as-pulled mode only', async () => {
    const { ref } = await pushImage('verify/wrong', gzipSync(tar), sha(Buffer.from('other')));
    const unchecked = recordingSink();
    await pull([ref], unchecked.sink, { layers: 'as-pulled', verifyDiffIds: false });
    assert.ok(unchecked.state.closed);
    await assert.rejects(
      pull([ref], recordingSink().sink, { layers: 'uncompressed', verifyDiffIds: false }),
      (e) => e instanceof SkiffError && e.code === 'digest-mismatch',
    );
  });

  test('still checks every blob digest', async () => {
    const { ref, digest } = await pushImage('verify/blob', gzipSync(tar), sha(tar));
    let proxy: FaultProxy | undefined;
    try {
      // The layer's bytes are flipped on the way: its digest no longer matches.
      proxy = await startFaultProxy(
        registry.url,
        always((r) => r.method === 'GET' && r.path.includes(digest), fault.flipByte(100)),
      );
      const sink = recordingSink();
      await assert.rejects(
        pull([ref.replace(registry.host, proxy.host)], sink.sink, { layers: 'as-pulled', verifyDiffIds: false }),
        (e) => e instanceof SkiffError && e.code === 'digest-mismatch',
      );
      assert.ok(sink.state.aborted, 'the sink was aborted');
    } finally {
      await proxy?.stop();
    }
  });
});
