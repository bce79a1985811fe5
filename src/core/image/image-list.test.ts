import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatImageList, looksLikeList, parseImageList, parsePlatformSelection } from './image-list.ts';
import { formatReference } from './reference.ts';

const names = (text: string) =>
  parseImageList(text).entries.map((e) => (e.reference ? formatReference(e.reference) : `!${e.text}`));

test('one per line, or separated by spaces or commas; comments and blank lines ignored', () => {
  const text = [
    '# release 1.4 images',
    'nginx:1.27',
    '',
    'ghcr.io/owner/app:1.4   quay.io/x/y:2 # the sidecar',
    'registry.k8s.io/pause:3.9,busybox',
    '   ',
  ].join('\n');
  assert.deepEqual(names(text), [
    'docker.io/library/nginx:1.27',
    'ghcr.io/owner/app:1.4',
    'quay.io/x/y:2',
    'registry.k8s.io/pause:3.9',
    'docker.io/library/busybox:latest',
  ]);
});

test('the same image twice is taken once, with the line it came from and a note of the repeat', () => {
  const list = parseImageList('nginx:1.27\ndocker.io/library/nginx:1.27\r\nnginx:1.26');
  assert.deepEqual(
    list.entries.map((e) => [e.text, e.line]),
    [
      ['nginx:1.27', 1],
      ['nginx:1.26', 3],
    ],
  );
  assert.deepEqual(list.repeated, [{ text: 'docker.io/library/nginx:1.27', line: 2, firstLine: 1, platforms: [] }]);
});

test('a typo stays in the list as its own entry with the reason, so its row can say it', () => {
  const list = parseImageList('nginx:1.27\nNGINX:1.27\nbusybox');
  assert.equal(list.entries.length, 3);
  assert.equal(list.entries[1]!.reference, undefined);
  assert.match(list.entries[1]!.error!, /lower ?case|uppercase|upper case/i);
});

test('a line may name platforms for its images; the same image again merges its platforms', () => {
  const list = parseImageList(
    'lab/multi:oci --platform linux/arm64\nlab/multi:oci --platform=linux/amd64,linux/arm64\nalpine --platform all\nbusybox',
  );
  assert.equal(list.entries.length, 3);
  assert.deepEqual(list.entries[0]!.platforms, [
    { os: 'linux', architecture: 'arm64' },
    { os: 'linux', architecture: 'amd64' },
  ]);
  assert.equal(list.entries[1]!.platforms, 'all');
  assert.deepEqual(list.entries[2]!.platforms, []);
  assert.equal(parseImageList('a:1 --platform linux/arm64\na:1 --platform all').entries[0]!.platforms, 'all');
});

test('a --platform without a usable value is a problem on its line, not a silent default', () => {
  const list = parseImageList('nginx --platform\nbusybox --platform linux');
  assert.deepEqual(
    list.problems.map((p) => p.line),
    [1, 2],
  );
  assert.throws(() => parsePlatformSelection(''), /needs a value/);
});

test('a list is recognised by more than one name or more than one line', () => {
  assert.equal(looksLikeList('nginx:1.27'), false);
  assert.equal(looksLikeList('  nginx:1.27  '), false);
  assert.equal(looksLikeList('nginx:1.27 # web'), false);
  assert.equal(looksLikeList('nginx:1.27 busybox'), true);
  assert.equal(looksLikeList('nginx:1.27,busybox'), true);
  assert.equal(looksLikeList('nginx:1.27\nbusybox'), true);
});

test('the exported list reads back to the same entries', () => {
  const text = 'nginx:1.27\nghcr.io/o/a:1 --platform linux/arm64,linux/amd64\nlab/multi --platform all';
  const exported = formatImageList(parseImageList(text).entries);
  assert.equal(
    exported,
    'nginx:1.27\nghcr.io/o/a:1 --platform linux/arm64,linux/amd64\nlab/multi:latest --platform all\n',
  );
  const shape = (t: string) =>
    parseImageList(t).entries.map((e) => [e.reference && formatReference(e.reference), e.platforms]);
  assert.deepEqual(shape(exported), shape(text));
});
