/**
 * Listing a repository's tags against a real registry (distribution), which hands them out in pages
 * when it supports it (`?n=` and `Link: <…>; rel="next"`; distribution 2.8 answers in one page; the paging
 * itself is unit-tested in src/core/transport/stack.test.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isSkiffError } from '../../src/core/errors.ts';
import { RegistryClient } from '../../src/core/registry/client.ts';
import { answerPreflights, startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { pushImage, smallLayers } from '../support/images.ts';
import { pushManifest, startRegistry, type Registry } from '../support/registry.ts';

const TAGS = ['1.25', '1.26', '1.27', '1.27.1', '1.28', 'latest', 'stable'];

let registry: Registry;
let front: FaultProxy;

before(async () => {
  registry = await startRegistry();
  const image = await pushImage(registry, 'team/app', TAGS[0]!, { format: 'oci', layers: smallLayers('gzip') });
  for (const tag of TAGS.slice(1))
    await pushManifest(registry, 'team/app', tag, Buffer.from(image.manifestBytes).toString(), image.manifestMediaType);
  front = await startFaultProxy(registry.url, answerPreflights);
});

after(async () => {
  await Promise.all([front?.stop(), registry?.stop()]);
});

describe('listTags', () => {
  it('reads all tags of a repository in one request (distribution 2.8 answers in one page, whatever n says)', async () => {
    const client = new RegistryClient(front.host);
    front.reset();
    const tags = await client.listTags('team/app', undefined, { pageSize: 3 });
    assert.deepEqual([...tags].sort(), [...TAGS].sort());
    assert.deepEqual(
      front.requests.map((r) => r.path),
      ['/v2/team/app/tags/list?n=3'],
    );
  });

  it('asks for 1000 at a time by default', async () => {
    const client = new RegistryClient(front.host);
    front.reset();
    assert.equal((await client.listTags('team/app')).length, TAGS.length);
    assert.deepEqual(
      front.requests.map((r) => r.path),
      ['/v2/team/app/tags/list?n=1000'],
    );
  });

  it('says not-found for a repository the registry does not hold', async () => {
    const client = new RegistryClient(front.host);
    await assert.rejects(client.listTags('team/nothing'), (error: unknown) => isSkiffError(error, 'not-found'));
  });
});
