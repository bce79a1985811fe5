import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseReference } from '../../core/image/reference.ts';
import { archiveName, imageFileStem, safeName, uniqueNames } from './names.ts';

describe('file names', () => {
  const amd64 = { os: 'linux', architecture: 'amd64' };
  it('names a tar after the image, its tag and a chosen platform', () => {
    assert.equal(imageFileStem(parseReference('nginx:1.27'), amd64, false), 'nginx_1.27');
    assert.equal(
      imageFileStem(parseReference('ghcr.io/owner/app:v1'), { os: 'linux', architecture: 'arm', variant: 'v7' }, true),
      'ghcr.io_owner_app_v1_linux-arm-v7',
    );
    assert.equal(imageFileStem(parseReference('ghcr.io/owner/app:v1'), amd64, true), 'ghcr.io_owner_app_v1');
    assert.equal(imageFileStem(parseReference(`alpine@sha256:${'a'.repeat(64)}`), amd64, false), 'alpine_aaaaaaaaaaaa');
  });
  it('keeps only safe characters', () => {
    assert.equal(safeName('../../etc/passwd'), 'etc_passwd');
    assert.equal(safeName('a b;c$(rm)'), 'a_b_c_rm');
    assert.equal(safeName('***'), 'image');
  });
  it('uses a fixed name, or the stem, or a count', () => {
    assert.equal(archiveName(['nginx_1.27'], '', 'tar'), 'nginx_1.27.tar');
    assert.equal(archiveName(['a', 'b', 'c'], '', 'zip'), 'images-3.zip');
    assert.equal(archiveName(['a'], 'bundle', 'tar'), 'bundle.tar');
    assert.equal(archiveName(['a'], 'bundle.tar', 'zip'), 'bundle.zip');
    assert.equal(archiveName(['a'], 'x/y:z', 'tar'), 'x_y_z.tar');
    assert.deepEqual(uniqueNames(['a', 'b', 'a'], '.tar'), ['a.tar', 'b.tar', 'a-2.tar']);
  });
});
