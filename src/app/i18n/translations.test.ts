import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { en } from './en.ts';
import { zh } from './zh.ts';

describe('every string translated', () => {
  it('has the same keys in English and Chinese', () => {
    const keys = (o: object, prefix = ''): string[] =>
      Object.entries(o).flatMap(([k, v]) =>
        typeof v === 'object' && v ? keys(v, `${prefix}${k}.`) : [`${prefix}${k}`],
      );
    assert.deepEqual(keys(zh).sort(), keys(en).sort());
  });
});
