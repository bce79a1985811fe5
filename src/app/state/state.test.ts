/**
 * The page's state modules under Node (test/run.ts compiles `.svelte.ts` as vite does; alone:
 * `node --import tsx --import ./test/support/svelte-modules.ts --test src/app/state/state.test.ts`).
 * Nothing here reaches a registry: names that would be looked up are never left to settle.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { credentials } from './credentials.svelte.ts';
import { download } from './download.svelte.ts';
import { estimateSize } from './estimate.ts';
import { type QueueItem, queue } from './queue.svelte.ts';
import { looksComplete } from './image-input.svelte.ts';
import { resolver } from './resolve.svelte.ts';
import { parseReference } from '../../core/image/reference.ts';
import { fakeImage } from '../../../test/support/fake-image.ts';
import { setOf } from './list-rows.ts';

/** A resolved row of the list, as the list holds one after its look-up. */
function row(id: number, name: string, sizes = [1000]): QueueItem {
  return {
    id,
    text: name,
    name,
    reference: parseReference(name),
    platforms: [],
    status: 'resolved',
    resolved: setOf(fakeImage(name, sizes), []),
    transportKey: '',
  };
}

describe('the typed name', () => {
  it('waits while a registry host is still being typed', () => {
    for (const partial of ['1', '127.0.0.1', '127.0.0.1:5000', '127.0.0.1:5000/', 'ghcr.io', 'localhost', 'team/']) {
      assert.equal(looksComplete(partial), false, partial);
    }
    for (const complete of [
      'nginx',
      'nginx:1.27',
      '127.0.0.1:5000/team/multi',
      'ghcr.io/owner/app:v1',
      'a/b@sha256:x1',
    ]) {
      assert.equal(looksComplete(complete), true, complete);
    }
  });

  it('keeps a picked platform with the image it was picked for', () => {
    resolver.input = 'example.test/team/multi:v1';
    resolver.platformPick = { image: 'example.test/team/multi:v1', platform: 'linux/arm/v7' };
    assert.equal(resolver.platformChoice, 'linux/arm/v7');
    resolver.input = 'example.test/team/single:v1';
    assert.equal(resolver.platformChoice, '');
    resolver.input = 'example.test/team/multi:v1';
    assert.equal(resolver.platformChoice, 'linux/arm/v7');
    resolver.input = '';
    resolver.platformPick = undefined;
  });
});

describe('the download', () => {
  it('counts the typed image beside the queue, unless it is queued already', () => {
    queue.items = [row(1, 'example.test/team/multi:v1')];
    resolver.input = '';
    assert.equal(download.count, 1);
    resolver.input = 'example.test/team/single:v1';
    assert.equal(download.count, 2);
    assert.equal(download.canDownload(), true);
    resolver.input = 'example.test/team/multi:v1';
    assert.equal(download.count, 1);
    // A name that is not valid would be left out: Download waits until it is fixed or cleared.
    resolver.input = 'example.test/Team/Bad Name';
    assert.equal(download.canDownload(), false);
    resolver.input = '';
    queue.items = [];
  });

  it('estimates the file from the layers, each shared layer once', async () => {
    const one = row(1, 'example.test/a:v1', [10_000, 20_000]);
    queue.items = [one];
    const single = (await estimateSize(download.estimateInput!)).bytes;
    assert.ok(single > 30_000 && single < 40_000, String(single));
    // The same layers under a second tag: only that image's index entries are added (config and manifest are the same blobs).
    const second = { ...one, id: 2, name: 'example.test/a:v2', reference: parseReference('example.test/a:v2') };
    queue.items = [one, second];
    const twice = (await estimateSize(download.estimateInput!)).bytes;
    assert.ok(twice >= single && twice - single < 2_000, `${single} → ${twice}`);
    // A kit holds a tar per image: the shared layers twice.
    download.kind = 'zip';
    const kit = (await estimateSize(download.estimateInput!)).bytes;
    assert.ok(kit > 2 * single, `kit ${kit}, one tar ${single}`);
    download.kind = 'tar';
    queue.items = [];
  });

  it('says where the list was saved until the list or the file type changes', () => {
    const item = (id: number) => row(id, `example.test/a:v${id}`);
    queue.items = [item(1), item(2)];
    download.kind = 'zip';
    download.done = {
      kind: 'zip',
      method: 'stream',
      fileName: 'kit.zip',
      size: 1,
      images: [],
      notes: [],
      queued: [1, 2],
    };
    assert.equal(download.savedList, 'kit.zip');
    download.kind = 'tar';
    assert.equal(download.savedList, undefined, 'another file type makes another file');
    download.kind = 'zip';
    queue.items = [item(1)];
    assert.equal(download.savedList, undefined, 'a list with one image fewer is not what was saved');
    download.done = undefined;
    download.kind = 'tar';
    queue.items = [];
  });
});

describe('credentials', () => {
  it('reach requests only once signed in', () => {
    credentials.set('example.test', { username: 'bob', password: 'hunte', remember: false });
    assert.equal(credentials.lookup('example.test'), undefined);
    assert.equal(credentials.pending('example.test'), true);
    const before = resolver.transportKey;
    credentials.set('example.test', { username: 'bob', password: 'hunter2', remember: false });
    assert.equal(resolver.transportKey, before, 'typing changes nothing a request uses');
    credentials.signIn('example.test');
    assert.deepEqual(credentials.lookup('example.test'), { username: 'bob', password: 'hunter2' });
    assert.equal(credentials.pending('example.test'), false);
    assert.notEqual(resolver.transportKey, before);
    credentials.set('example.test', { username: '', password: '', remember: false });
    assert.equal(credentials.lookup('example.test'), undefined);
  });
});
