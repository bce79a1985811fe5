/**
 * The list's state under Node: names pasted or opened become rows, each once; rows are edited, merged and
 * refused. Rows that would be looked up name a registry nobody listens on (127.0.0.1:1), so they fail fast
 * with their own message, as a typo's row does.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { en } from '../i18n/en.ts';
import { downloadItems, imagesOnce } from './download-items.ts';
import { download } from './download.svelte.ts';
import pLimit from 'p-limit';
import { lineOf, queue } from './queue.svelte.ts';
import { resolver } from './resolve.svelte.ts';

const NOWHERE = '127.0.0.1:1';
const note = () => queue.note.map((line) => line(en)).join(' ');
const settled = () => queue.fresh(new AbortController().signal);

afterEach(() => queue.clear());

describe('the list', () => {
  it('takes each name of a paste once, comments and blank lines ignored, and says what it left out', () => {
    const added = queue.addText(
      `# release\n${NOWHERE}/a:v1, ${NOWHERE}/b:v1\n\n${NOWHERE}/a:v1   # again\nnot/a/Name\n`,
    );
    assert.equal(added.length, 3);
    assert.deepEqual(
      queue.items.map((q) => q.name),
      [`${NOWHERE}/a:v1`, `${NOWHERE}/b:v1`, 'not/a/Name'],
    );
    assert.equal(note(), `${NOWHERE}/a:v1 was listed twice; taken once.`);
    const invalid = queue.items[2]!;
    assert.equal(invalid.status, 'invalid');
    assert.match(invalid.message ?? '', /uppercase|invalid|lowercase/i);
    // The same names pasted again add nothing, and say so.
    assert.deepEqual(queue.addText(`${NOWHERE}/b:v1`), []);
    assert.equal(note(), `${NOWHERE}/b:v1 is already in the list.`);
  });

  it('gives a row that does not resolve its own message, and the others go on', async () => {
    queue.addText(`${NOWHERE}/a:v1\n${NOWHERE}/b:v1`);
    assert.deepEqual(
      queue.items.map((q) => q.status),
      ['resolving', 'resolving'],
    );
    await settled();
    for (const row of queue.items) {
      assert.equal(row.status, 'error');
      assert.ok(row.advice?.lines.length, 'a message in plain words');
    }
  });

  it('merges the same name with other platforms into its row', () => {
    queue.addText(`${NOWHERE}/multi:v1`);
    queue.addText(`${NOWHERE}/multi:v1 --platform linux/arm64`);
    assert.equal(queue.items.length, 1);
    // The row had the default; adding arm64 keeps amd64.
    assert.equal(queue.exportText(), `${NOWHERE}/multi:v1 --platform linux/amd64,linux/arm64\n`);
    assert.match(note(), /already in the list; the platforms were added to its row/);
    queue.addText(`${NOWHERE}/multi:v1 --platform all`);
    assert.equal(queue.exportText(), `${NOWHERE}/multi:v1 --platform all\n`);
  });

  it('takes the field’s platforms into the row of the same name when Download starts', async () => {
    queue.addText(`${NOWHERE}/multi:v1`);
    resolver.input = `${NOWHERE}/multi:v1`;
    resolver.platformPick = { image: `${NOWHERE}/multi:v1`, platform: 'all' };
    const started = download.start();
    assert.equal(queue.items.length, 1);
    assert.equal(queue.items[0]!.platforms, 'all');
    assert.equal(resolver.input, '', 'the field is free for the next name');
    resolver.platformPick = undefined;
    // The row cannot resolve (nobody listens there): the download is refused, naming it.
    await started;
    assert.deepEqual(queue.refused, [queue.items[0]!.id]);
    assert.equal(download.running, undefined);
  });

  it('edits a row in place: a fixed typo is looked up again, a name listed elsewhere merges', () => {
    queue.addText(`not/a/Name ${NOWHERE}/a:v1`);
    const [typo, other] = queue.items;
    assert.equal(queue.edit(typo!.id, `${NOWHERE}/fixed:v1`), true);
    const fixed = queue.items.find((q) => q.id === typo!.id)!;
    assert.equal(fixed.name, `${NOWHERE}/fixed:v1`);
    assert.equal(fixed.status, 'resolving');
    assert.equal(fixed.message, undefined);
    assert.equal(queue.edit(typo!.id, '   '), false, 'an empty name keeps the row as it was');
    // Its line, platforms included, is what the editor holds; dropping `--platform` drops them.
    queue.edit(typo!.id, `${NOWHERE}/fixed:v1 --platform linux/arm64`);
    assert.equal(lineOf(queue.items.find((q) => q.id === typo!.id)!), `${NOWHERE}/fixed:v1 --platform linux/arm64`);
    queue.edit(typo!.id, `${NOWHERE}/fixed:v1`);
    assert.deepEqual(queue.items.find((q) => q.id === typo!.id)!.platforms, []);
    queue.edit(typo!.id, `${NOWHERE}/a:v1 --platform all`);
    assert.deepEqual(
      queue.items.map((q) => q.id),
      [other!.id],
    );
    assert.equal(queue.items[0]!.platforms, 'all');
  });

  it('refuses a download while a row has a problem, naming it, and leaves it out only once removed', async () => {
    queue.addText(`${NOWHERE}/a:v1 Bad/Name`);
    const focus = queue.focusRequest;
    assert.equal(await downloadItems(false, new AbortController().signal), undefined);
    assert.deepEqual(
      queue.refused,
      queue.items.map((q) => q.id),
    );
    assert.equal(queue.focusRequest, focus + 1);
    queue.remove(queue.items[1]!.id);
    assert.equal(queue.refused.length, 1);
  });

  it('exports the list in the form it reads', () => {
    queue.addText(`docker.io/library/nginx:1.27\n${NOWHERE}/app@sha256:${'a'.repeat(64)} --platform all`);
    assert.equal(queue.exportText(), `nginx:1.27\n${NOWHERE}/app@sha256:${'a'.repeat(64)} --platform all\n`);
  });
});

describe('rows resolved at once', () => {
  it('never runs more than the limit, and runs the rest in order', async () => {
    const limiter = pLimit(2);
    const started: number[] = [];
    const releases: (() => void)[] = [];
    const runs = [0, 1, 2, 3].map((n) =>
      limiter(async () => {
        started.push(n);
        await new Promise<void>((go) => releases.push(go));
      }),
    );
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(started, [0, 1]);
    assert.equal(limiter.activeCount, 2);
    releases.shift()!();
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(started, [0, 1, 2]);
    while (releases.length) releases.shift()!();
    await new Promise((r) => setTimeout(r, 10));
    releases.shift()?.();
    await Promise.all(runs);
    assert.deepEqual(started, [0, 1, 2, 3]);
  });
});

describe('Done', () => {
  it('lists a multi-platform image once, with its platforms and the ID of the one docker load tags', () => {
    const entry = (platform: string, tagged: boolean) => ({
      reference: 'example.test/app:v1',
      repoTags: tagged ? ['example.test/app:v1'] : [],
      configDigest: `sha256:${platform.length}${platform}`,
      manifestDigest: 'sha256:m',
      mediaType: 'x',
      platform,
      indexDigest: 'sha256:index',
    });
    const single = { ...entry('linux/amd64', true), reference: 'example.test/one:v1', indexDigest: undefined };
    const { indexDigest: _none, ...plain } = single;
    const listed = imagesOnce([entry('linux/arm64', false), entry('linux/amd64', true), plain]);
    assert.equal(listed.length, 2);
    assert.deepEqual(listed[0]!.platforms, ['linux/arm64', 'linux/amd64']);
    assert.equal(listed[0]!.id, entry('linux/amd64', true).configDigest);
    assert.equal(listed[0]!.index, 'sha256:index');
    assert.equal(listed[1]!.index, undefined);
  });
});
