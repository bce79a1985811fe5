/**
 * Where the Push view sends each unit, and what each row says before and after a push. The state test at
 * the end reads a real docker-save tar made here (no registry): its units, their digest notes as the
 * compress choice changes, "Push all to" and two rows to one target.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import type { SetProgress } from '../../core/transfer/set-to-registry.ts';
import { tarEntries } from '../../../test/support/tar-build.ts';
import { pushedList, retarget, targetProblems, targetsUnderPrefix, unitViews } from './push-plan.ts';
import { push } from './push.svelte.ts';

const names = ['docker.io/library/nginx:1.27', 'ghcr.io/org/tools/app:2', ''];

describe('Push all to', () => {
  it("puts every named unit under the prefix by its repository path and tag, as the CLI's --to-prefix", () => {
    const current = ['a', 'b', 'untagged.example/own:1'];
    assert.deepEqual(targetsUnderPrefix(names, 'harbor.corp/mirror', current), [
      'harbor.corp/mirror/library/nginx:1.27',
      'harbor.corp/mirror/org/tools/app:2',
      'untagged.example/own:1',
    ]);
    assert.deepEqual(
      targetsUnderPrefix(names, 'harbor.corp:8443/mirror/', current)[0],
      'harbor.corp:8443/mirror/library/nginx:1.27',
    );
  });

  it('leaves the targets as they are while the prefix is empty', () => {
    assert.deepEqual(targetsUnderPrefix(names, '  ', ['a', 'b', 'c']), ['a', 'b', 'c']);
  });

  it("prefills from the archive's name, pointed at the registry pushed to last", () => {
    assert.equal(retarget('docker.io/library/nginx:1.27', 'harbor.corp'), 'harbor.corp/nginx:1.27');
    assert.equal(retarget('docker.io/library/nginx:1.27', undefined), 'docker.io/library/nginx:1.27');
  });
});

describe('targets checked before anything moves', () => {
  it('names every row going to one target on each of them, whatever the spelling', () => {
    const problems = targetProblems([
      'harbor.corp/m/app:1',
      'harbor.corp/m/other:1',
      'harbor.corp/m/app:1 ',
      'harbor.corp/m/app', // :latest is another target
      'harbor.corp/m/app:1',
    ]);
    assert.deepEqual(problems[0], { kind: 'same', rows: [2, 4], target: 'harbor.corp/m/app:1' });
    assert.equal(problems[1], undefined);
    assert.deepEqual(problems[2], { kind: 'same', rows: [0, 4], target: 'harbor.corp/m/app:1' });
    assert.equal(problems[3], undefined);
    assert.deepEqual(problems[4], { kind: 'same', rows: [0, 2], target: 'harbor.corp/m/app:1' });
  });

  it('tells an empty target and a digest target apart from a duplicate', () => {
    const [empty, digest] = targetProblems(['', `harbor.corp/m/app@sha256:${'a'.repeat(64)}`]);
    assert.deepEqual(empty, { kind: 'empty' });
    assert.equal(digest?.kind, 'invalid');
    assert.match((digest as { message: string }).message, /Push to a tag/);
  });
});

describe('after the push', () => {
  it('lists what went where as target@digest, one a line', () => {
    const list = pushedList([
      { target: 'harbor.corp/m/library/nginx:1.27', digest: 'sha256:aa' },
      { target: 'harbor.corp/m/app:2', digest: 'sha256:bb' },
    ]);
    assert.equal(list, 'harbor.corp/m/library/nginx:1.27@sha256:aa\nharbor.corp/m/app:2@sha256:bb\n');
  });

  it('names the unit whose layer was in flight as failed; the others say they were not tagged', () => {
    const blob = (image: number, state: SetProgress['blobs'][number]['state']) =>
      ({ image, digest: '', mediaType: '', size: 10, bytes: 5, state }) as SetProgress['blobs'][number];
    const progress = {
      blobs: [blob(0, 'done'), blob(1, 'uploading'), blob(2, 'waiting')],
      bytes: 0,
      totalBytes: 0,
      units: [
        { state: 'moving', bytes: 10, totalBytes: 10 },
        { state: 'moving', bytes: 5, totalBytes: 10 },
        { state: 'skipped', bytes: 0, totalBytes: 0 },
        { state: 'waiting', bytes: 0, totalBytes: 10 },
      ],
      // Unit 2 was held: its image is not moved; images 0, 1, 2 belong to units 0, 1, 3.
      imageUnits: [0, 1, 3],
    } as unknown as SetProgress;
    assert.deepEqual(
      unitViews(progress, 'failed').map((u) => u.state),
      ['untagged', 'failed', 'skipped', 'untagged'],
    );
    assert.equal(unitViews(progress, 'cancelled')[1]!.state, 'stopped');
    assert.equal(unitViews(progress)[1]!.state, 'moving');
  });
});

/** A docker-save tar of images with one uncompressed layer each, as `docker save` writes. */
function dockerSave(repoTags: string[]): File {
  const parts: Uint8Array[] = [];
  const files: { path: string; content: Uint8Array }[] = [];
  const manifest = repoTags.map((tag, i) => {
    const layer = Buffer.concat([...tarEntries([{ path: `file${i}.txt`, content: `image ${i}\n` }])]);
    const diffId = createHash('sha256').update(layer).digest('hex');
    const config = Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        rootfs: { type: 'layers', diff_ids: [`sha256:${diffId}`] },
      }),
    );
    const configHash = createHash('sha256').update(config).digest('hex');
    files.push({ path: `${diffId}/layer.tar`, content: layer }, { path: `${configHash}.json`, content: config });
    return { Config: `${configHash}.json`, RepoTags: [tag], Layers: [`${diffId}/layer.tar`] };
  });
  files.push({ path: 'manifest.json', content: Buffer.from(JSON.stringify(manifest)) });
  for (const chunk of tarEntries(files)) parts.push(chunk);
  return new File(parts as BlobPart[], 'images.tar');
}

describe('the Push view state', () => {
  it('lists the units, says why each digest changes as compress changes, fills under a prefix, refuses one target twice', async () => {
    await push.choose(dockerSave(['docker.io/library/nginx:1.27', 'ghcr.io/org/app:2']));
    assert.deepEqual(
      push.units.map((u) => [u.kind, u.name]),
      [
        ['image', 'docker.io/library/nginx:1.27'],
        ['image', 'ghcr.io/org/app:2'],
      ],
    );
    push.compress = true;
    assert.deepEqual(
      push.units.map((u) => u.reason),
      ['gzip', 'gzip'],
      'uncompressed layers gzipped on the way',
    );
    push.compress = false;
    assert.deepEqual(
      push.units.map((u) => u.reason),
      ['made', 'made'],
      'no manifest in a docker save: one is made',
    );
    push.setPrefix('harbor.corp/mirror');
    assert.deepEqual(push.targets, ['harbor.corp/mirror/library/nginx:1.27', 'harbor.corp/mirror/org/app:2']);
    assert.deepEqual([...push.problems], [undefined, undefined]);
    push.targets[1] = 'harbor.corp/mirror/library/nginx:1.27';
    assert.deepEqual(
      push.problems.map((p) => p?.kind === 'same' && p.rows),
      [[1], [0]],
    );
    // Refused before anything starts.
    await push.push();
    assert.equal(push.running, false);
    assert.equal(push.progress, undefined);
    assert.equal(push.result, undefined);
  });
});
