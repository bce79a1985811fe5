/** `npm run pull` as a person runs it: a complete archive on success, nothing left behind on failure. */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type FaultProxy, always, fault, once, startFaultProxy } from '../support/fault-proxy.ts';
import { SMALL_CONFIG, type PushedImage, pushImage, smallLayers } from '../support/images.ts';
import { scratchDir } from '../support/process.ts';
import { readJsonFromTar } from '../support/pull-to-file.ts';
import { type Registry, startRegistry } from '../support/registry.ts';

const root = join(import.meta.dirname, '..', '..');
const dir = scratchDir('cli');
let registry: Registry;
let image: PushedImage;
let manyLayers: PushedImage;
let noisy: PushedImage;
let proxy: FaultProxy;
const credentials = ['--user', 'ci', '--password', 'pw'];

function cli(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/pull.ts'), ...args], {
    cwd: root,
    encoding: 'utf8',
  });
}

/** The CLI without blocking this process, which also runs the fault proxy the CLI talks to. */
function cliAsync(...args: string[]): Promise<{ status: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/pull.ts'), ...args], { cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** A message, not a Node stack trace or an uncaught exception. */
function assertNoStackTrace(stderr: string) {
  assert.doesNotMatch(stderr, /^\s+at .+:\d+:\d+\)?$/m, stderr);
  assert.doesNotMatch(stderr, /Uncaught|node:internal|triggerUncaughtException/, stderr);
}

before(async () => {
  registry = await startRegistry({ auth: { htpasswd: { username: 'ci', password: 'pw' } } });
  image = await pushImage(registry, 'cli/app', '1.0', {
    format: 'docker',
    layers: smallLayers(),
    config: SMALL_CONFIG,
  });
  manyLayers = await pushImage(registry, 'cli/many', '1.0', {
    format: 'oci',
    layers: Array.from({ length: 14 }, (_, i) => ({
      compression: 'gzip' as const,
      files: [{ path: `layer/${i}.txt`, content: `layer ${i}\n` }],
    })),
  });
  noisy = await pushImage(registry, 'cli/noisy', '1.0', {
    format: 'oci',
    layers: [{ compression: 'gzip', level: 1, files: [{ path: 'noise.bin', content: { noise: 3_000_000 } }] }],
  });
  proxy = await startFaultProxy(registry.url);
});
after(async () => {
  await proxy?.stop();
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

test('a pull of many requests prints no MaxListenersExceededWarning', () => {
  const out = join(dir.path, 'many.tar');
  const run = cli(manyLayers.reference, '-o', out, ...credentials);
  assert.equal(run.status, 0, run.stderr);
  assert.doesNotMatch(run.stderr, /MaxListenersExceededWarning|Warning:/);
});

describe('cut bodies through a fault proxy end in a retry or a message, never a stack trace', () => {
  const viaProxy = (i: PushedImage) => `${proxy.host}/${i.repository}:${i.tag}`;
  const manifestPath = (i: PushedImage) => `/manifests/${i.tag}`;
  const cases: {
    name: string;
    plan: () => ReturnType<typeof once>;
    ok: boolean;
    message?: (i: PushedImage) => RegExp;
  }[] = [
    { name: 'the manifest cut after 100 bytes once', plan: () => once(manifestPath(image), fault.cut(100)), ok: true },
    {
      name: 'the manifest cut after 100 bytes every time',
      plan: () => always(manifestPath(image), fault.cut(100)),
      ok: false,
      message: () =>
        new RegExp(
          `error \\(network\\): Manifest cli/app:1\\.0 from ${proxy.host}: the connection (broke off|ended) after 100 .*gave up after 4 tries`,
        ),
    },
    {
      name: 'the config cut after 500 bytes once',
      plan: () => once(`/blobs/${image.configDigest}`, fault.cut(500)),
      ok: true,
    },
    {
      name: 'the config cut after 500 bytes every time',
      plan: () => always(`/blobs/${image.configDigest}`, fault.cut(500)),
      ok: false,
      message: (i) =>
        new RegExp(
          `error \\(network\\): Config ${i.configDigest} from ${proxy.host}: the connection (broke off|ended) after 500 .*gave up after 4 tries`,
        ),
    },
    {
      name: 'the gzip-trailer Range request cut after 3 bytes once',
      plan: () => once((r) => /^bytes=\d+-\d+$/.test(r.range ?? ''), fault.cut(3)),
      ok: true,
    },
    {
      name: 'the gzip-trailer Range request cut after 3 bytes every time',
      plan: () => always((r) => /^bytes=\d+-\d+$/.test(r.range ?? ''), fault.cut(3)),
      ok: false,
      message: () =>
        new RegExp(
          `error \\(network\\): The last 8 bytes of blob sha256:[0-9a-f]{64} \\(Range bytes=\\d+-\\d+\\) from ${proxy.host}: the connection (broke off|ended) after 3 .*gave up after 4 tries`,
        ),
    },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      assert.ok(image.configBytes.byteLength > 500, 'the config is longer than the cut');
      const out = join(dir.path, `cut-${c.name.replace(/\W+/g, '-')}.tar`);
      proxy.setPlan(c.plan());
      proxy.reset();
      // The gzip-trailer cases need layers that are inflated: uncompressed mode.
      const run = await cliAsync(viaProxy(image), '-o', out, ...credentials, '--quiet', '--layers', 'uncompressed');
      proxy.setPlan(undefined);
      assertNoStackTrace(run.stderr);
      assert.ok(
        proxy.requests.some((r) => r.faults.includes('cut')),
        `the cut took effect: ${proxy.requests.map((r) => `${r.method} ${r.path} ${r.range ?? ''}`).join('; ')}`,
      );
      if (c.ok) {
        assert.equal(run.status, 0, run.stderr);
        assert.match(run.stderr, new RegExp(`ID ${image.configDigest}`));
        assert.ok(existsSync(out));
      } else {
        assert.equal(run.status, 1, run.stderr);
        assert.match(run.stderr, c.message!(image));
        assert.ok(!existsSync(out) && !existsSync(`${out}.partial`), 'nothing left behind');
      }
    });
  }
});

test('a full disk says so, how much was written, and that nothing was kept', (t) => {
  const disk = join(dir.path, 'tiny-disk');
  mkdirSync(disk);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', disk], { stdio: 'pipe' });
  } catch (error) {
    t.skip(`cannot mount a 1 MiB tmpfs here (needs root): ${(error as Error).message}`);
    return;
  }
  try {
    const out = join(disk, 'noisy.tar');
    const run = cli(noisy.reference, '-o', out, ...credentials, '--quiet');
    assert.equal(run.status, 1, run.stderr);
    assertNoStackTrace(run.stderr);
    const match =
      /error \(disk-full\): the disk is full: (\d+) bytes of the archive were written to .*noisy\.tar\.partial before no space was left\. Nothing was kept/.exec(
        run.stderr,
      );
    assert.ok(match, run.stderr);
    const written = Number(match[1]);
    assert.ok(written > 900_000 && written <= 1024 * 1024, `about the 1 MiB the disk holds: ${written}`);
    assert.deepEqual(readdirSync(disk), [], 'the partial file is removed');
  } finally {
    execFileSync('umount', [disk]);
  }
});
