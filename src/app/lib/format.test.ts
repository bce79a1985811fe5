import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatBytes, formatDuration } from './format.ts';

describe('formatting', () => {
  it('prints sizes as docker does and durations in both languages', () => {
    assert.equal(formatBytes(0), '0 B');
    assert.equal(formatBytes(1420), '1.42 kB');
    assert.equal(formatBytes(123_456_789), '123 MB');
    assert.equal(formatDuration(75, 'en'), '1 min 15 s');
    assert.equal(formatDuration(3700, 'zh'), '1 小时 1 分');
    assert.equal(formatDuration(undefined, 'en'), '–');
    assert.equal(formatDuration(0.4, 'en'), '1 s', 'a moment left is not "0 s"');
  });
});
