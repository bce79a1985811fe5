import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nearestTags } from './nearest.ts';

const TAGS = ['1.25', '1.26', '1.27', '1.27.1', '1.27-alpine', 'latest', 'stable', 'mainline'];

test('a mistyped tag finds the tags it most likely meant first', () => {
  assert.equal(nearestTags('1.2.7', TAGS)[0], '1.27');
  assert.equal(nearestTags('lates', TAGS)[0], 'latest');
  assert.equal(nearestTags('Stable', TAGS)[0], 'stable');
  assert.deepEqual(nearestTags('1.28', TAGS, 3), ['1.27', '1.26', '1.25']);
});

test('at most `count` tags, never the typed one itself, none from an empty list', () => {
  assert.equal(nearestTags('x', TAGS, 4).length, 4);
  assert.ok(!nearestTags('latest', TAGS).includes('latest'));
  assert.deepEqual(nearestTags('1.0', []), []);
});
