/** `npm run pull` as a person runs it: a complete archive on success, nothing left behind on failure. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type PushedImage, pushImage, smallLayers } from '../support/images.ts';
import { scratchDir } from '../support/process.ts';
import { readJsonFromTar } from '../support/pull-to-file.ts';
import { type Registry, startRegistry } from '../support/registry.ts';

const root = join(import.meta.dirname, '..', '..');
const dir = scratchDir('cli');
let registry: Registry;
let image: PushedImage;

function cli(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/pull.ts'), ...args], {
    cwd: root,
    encoding: 'utf8',
  });
}

before(async () => {
  registry = await startRegistry({ auth: { htpasswd: { username: 'ci', password: 'pw' } } });
  image = await pushImage(registry, 'cli/app', '1.0', { format: 'docker', layers: smallLayers() });
});
after(async () => {
  await registry?.stop();
  dir.remove();
});

test('pulls to the named file, prints the ID and the load command, and stats on request', () => {
  const out = join(dir.path, 'app.tar');
  const run = cli(
    image.reference,
    '-o',
    out,
    '--user',
    'ci',
    '--password',
    'pw',
    '--layers',
    'as-pulled',
    '--quiet',
    '--stats',
  );
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stderr, new RegExp(`ID ${image.configDigest}`));
  assert.match(run.stderr, /docker load -i /);
  const stats = JSON.parse(run.stdout.trim());
  assert.ok(stats.peakRssBytes > 0 && stats.seconds > 0);
  assert.ok(existsSync(out));
  assert.ok(!existsSync(`${out}.partial`));
  return readJsonFromTar(out, 'manifest.json').then((m) => assert.deepEqual(m[0].RepoTags, [image.reference]));
});

test('failures exit 1 with the reason and leave no file', () => {
  const out = join(dir.path, 'fail.tar');
  const cases: [string[], RegExp][] = [
    [['Not/A/Valid:Name:x', '-o', out], /error \(invalid-reference\)/],
    [
      [image.reference, '-o', out, '--user', 'ci', '--password', 'wrong'],
      /error \(unauthorized\).*refused these credentials/,
    ],
    [[`${registry.host}/cli/missing:1`, '-o', out, '--user', 'ci', '--password', 'pw'], /error \(not-found\)/],
    [
      [image.reference, '-o', out, '--platform', 'linux/s390x', '--user', 'ci', '--password', 'pw'],
      /error \(platform-not-found\).*linux\/amd64/,
    ],
  ];
  for (const [args, message] of cases) {
    const run = cli(...args);
    assert.equal(run.status, 1, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, message);
    assert.deepEqual(
      readdirSync(dir.path).filter((f) => f.startsWith('fail')),
      [],
    );
  }
});

test('usage errors exit 2', () => {
  assert.equal(cli('-o', join(dir.path, 'x.tar')).status, 2);
  assert.equal(cli('a', '-o', 'x.tar', '--layers', 'zip').status, 2);
});
