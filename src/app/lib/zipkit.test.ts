import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadPs1, loadSh, sha256sums } from '../../core/archive/zip-kit.ts';

describe('offline kit scripts', () => {
  const tars = [
    { name: 'a_v1.tar', size: 1, sha256: 'ab'.repeat(32) },
    { name: "it's.tar", size: 1, sha256: 'cd'.repeat(32) },
  ];
  it('lists sums in sha256sum format and quotes names for each shell', () => {
    assert.equal(sha256sums(tars), `${'ab'.repeat(32)}  a_v1.tar\n${'cd'.repeat(32)}  it's.tar\n`);
    assert.match(loadSh(tars), /for file in a_v1\.tar 'it'\\''s\.tar'; do/);
    assert.match(loadPs1(tars), /@\('a_v1\.tar', 'it''s\.tar'\)/);
  });
});
