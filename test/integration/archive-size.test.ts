/**
 * The size an as-pulled tar is announced with before the download starts (src/core/archive/size.ts) is the
 * size the pull then writes, byte for byte: a wrong one would make the browser cut or fail every download.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { asPulledArchiveSize } from '../../src/core/archive/size.ts';
import { pull } from '../../src/core/pull.ts';
import { resolve } from '../../src/core/registry/resolve.ts';
import { pushFixtures, type Fixtures } from '../support/images.ts';
import { startRegistry, type Registry } from '../support/registry.ts';
import { recordingSink } from '../support/pull-to-file.ts';

let registry: Registry;
let fixtures: Fixtures;

before(async () => {
  registry = await startRegistry();
  fixtures = await pushFixtures(registry);
});

after(async () => {
  await registry?.stop();
});

describe('the as-pulled archive size, known up front', () => {
  it('is what the pull writes, for every fixture and for several images with shared layers', async () => {
    const host = registry.host;
    const cases: string[][] = [
      ['small/docker:v1'],
      ['small/oci:v1'],
      ['multi/app:v1'],
      ['multi/list:v1'],
      ['codec/zstd:v1'],
      ['codec/plain:v1'],
      ['codec/multimember:v1'],
      ['codec/mixed:v1'],
      ['names/odd:v1'],
      ['many/layers:v1'],
      ['shared/a:v1', 'shared/b:v1'],
      ['small/docker:v1', 'small/docker:v1'],
      [`small/oci@${fixtures.small.oci.manifestDigest}`],
    ];
    for (const names of cases) {
      const images = await Promise.all(names.map((n) => resolve(`${host}/${n}`)));
      const predicted = await asPulledArchiveSize(images);
      const { sink, state, bytes } = recordingSink();
      const result = await pull(images, sink, { layers: 'as-pulled' });
      assert.equal(state.closed, true);
      assert.equal(predicted, bytes().byteLength, names.join(' + '));
      assert.equal(predicted, result.bytesWritten, names.join(' + '));
    }
  });
});
