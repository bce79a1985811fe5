import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isSkiffError } from '../errors.ts';
import { duplicateTargets, planTargets, targetUnderPrefix } from './targets.ts';

test('a prefix takes the repository path and tag, not the source registry host (as hauler does)', () => {
  assert.equal(
    targetUnderPrefix('harbor.corp/mirror', 'docker.io/library/nginx:1.27'),
    'harbor.corp/mirror/library/nginx:1.27',
  );
  assert.equal(targetUnderPrefix('harbor.corp/mirror/', 'ghcr.io/o/app:1'), 'harbor.corp/mirror/o/app:1');
  assert.equal(targetUnderPrefix('127.0.0.1:5000', 'nginx'), '127.0.0.1:5000/library/nginx:latest');
  assert.equal(targetUnderPrefix('harbor.corp/a/bx', 'localhost/x:1'), 'harbor.corp/a/bx/x:1');
  assert.throws(() => targetUnderPrefix('harbor.corp/m', 'ghcr.io/o/app@sha256:' + 'a'.repeat(64)), /names no tag/);
  assert.throws(() => targetUnderPrefix(' ', 'nginx'), /prefix is empty/);
});

test('explicit targets override the prefix; two entries to one target are refused naming both', () => {
  const entries = [
    { name: 'docker.io/library/nginx:1', label: 'Image 1 (nginx:1)' },
    { name: 'ghcr.io/o/app:1', label: 'Image 2 (ghcr.io/o/app:1)' },
  ];
  assert.deepEqual(planTargets(entries, { prefix: 'h.corp/m', targets: [undefined, 'h.corp/other/app:2'] }), [
    'h.corp/m/library/nginx:1',
    'h.corp/other/app:2',
  ]);
  assert.throws(
    () => planTargets(entries, { prefix: 'h.corp/m', targets: [undefined, 'h.corp/m/library/nginx:1'] }),
    (e: unknown) =>
      isSkiffError(e, 'invalid-argument') &&
      /Image 1 \(nginx:1\) and Image 2 .* h\.corp\/m\/library\/nginx:1/.test(String(e)),
  );
  assert.throws(() => planTargets([{ name: '', label: 'Image 1 (untagged)' }], { prefix: 'h.corp/m' }), /has no name/);
  assert.deepEqual(duplicateTargets(['h.corp/a:1', 'h.corp/b:1', 'h.corp/a:1']), [
    { first: 0, second: 2, target: 'h.corp/a:1' },
  ]);
});
