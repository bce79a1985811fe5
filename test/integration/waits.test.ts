/**
 * Every wait ends: `npm run pull` against hosts that accept the connection and never answer, answer one byte
 * a second, or stall after every 2 MB, ends within the wait policy's bound with a message naming the host and
 * saying which it was, and leaves no file behind. SKIFF_WAIT_SECONDS scales the policy down to a few seconds
 * (the behaviour is the same as with the default minute; waits.test.ts in src checks those numbers).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type FaultProxy, always, fault, startFaultProxy } from '../support/fault-proxy.ts';
import { type PushedImage, pushImage, smallLayers } from '../support/images.ts';
import { scratchDir } from '../support/process.ts';
import { type Registry, startRegistry } from '../support/registry.ts';
import { type TokenServer, startTokenServer } from '../support/token-server.ts';
import { type ThrottleProxy, startThrottleProxy } from '../bench/throttle-proxy.ts';

const root = join(import.meta.dirname, '..', '..');
const dir = scratchDir('waits');
/** The policy's deadline for these runs; every other wait is a third of it. */
const WAIT_SECONDS = 6;
/** The CLI must have ended by then: the deadline, plus starting Node and a slow shared machine. */
const BOUND_MS = (WAIT_SECONDS + 14) * 1000;

interface Run {
  status: number | null;
  stderr: string;
  ms: number;
  /** What the output folder held when the CLI ended (or was stopped at the bound). */
  left: string[];
}

/** `npm run pull` with the short policy; stopped (and reported as such) if it outlives the bound. */
function pullWithin(reference: string, name: string, bound = BOUND_MS): Promise<Run> {
  const out = join(dir.path, `${name}.tar`);
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(root, 'src/cli/pull.ts'), reference, '-o', out, '--layers', 'as-pulled'],
      { cwd: root, env: { ...process.env, SKIFF_WAIT_SECONDS: String(WAIT_SECONDS) } },
    );
    let stderr = '';
    let left: string[] | undefined;
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      left = readdirSync(dir.path).filter((f) => f.startsWith(name));
      child.kill('SIGKILL');
    }, bound);
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({
        status,
        stderr,
        ms: Date.now() - started,
        left: left ?? readdirSync(dir.path).filter((f) => f.startsWith(name)),
      });
    });
  });
}

/** Ended in time, exit 1, the message naming the host and what it did, nothing on disk. */
function assertGivenUp(run: Run, host: string, what: RegExp) {
  assert.ok(run.ms < BOUND_MS, `still running after ${BOUND_MS / 1000} s (stopped); it printed:\n${run.stderr}`);
  assert.equal(run.status, 1, run.stderr);
  const error = run.stderr.split('\n').find((line) => line.startsWith('error ('));
  assert.ok(error, `an error line: ${run.stderr}`);
  assert.match(error, /^error \(timeout\)/);
  assert.ok(error.includes(host), `the error names ${host}: ${error}`);
  assert.match(error, what);
  assert.deepEqual(run.left, [], 'no archive and no .partial left');
  // It said what it was doing before it gave up.
  assert.match(run.stderr, /^looking up /m);
  if (process.env.SHOW_STDERR) console.log(run.stderr);
}

let registry: Registry;
let proxy: FaultProxy;
let image: PushedImage;
let tokens: TokenServer;
let tokenProxy: FaultProxy;
let tokenRegistry: Registry;
let tokenImage: PushedImage;
let steady: PushedImage;
let far: ThrottleProxy;

before(async () => {
  registry = await startRegistry();
  image = await pushImage(registry, 'waits/app', '1', {
    format: 'oci',
    // A layer of 20 MB that gzip cannot shrink: five Range segments, each three times "2 MB and a stall".
    layers: [{ compression: 'gzip', level: 1, files: [{ path: 'noise.bin', content: { noise: 20_000_000 } }] }],
  });
  proxy = await startFaultProxy(registry.url);
  tokens = await startTokenServer({ anonymousPull: true });
  tokenProxy = await startFaultProxy(tokens.url);
  tokenRegistry = await startRegistry({ auth: { token: tokens, realm: `${tokenProxy.url}/token` } });
  tokenImage = await pushImage(tokenRegistry, 'waits/tok', '1', { format: 'oci', layers: smallLayers() });
  steady = await pushImage(registry, 'waits/steady', '1', {
    format: 'oci',
    layers: [{ compression: 'gzip', level: 1, files: [{ path: 'noise.bin', content: { noise: 2_500_000 } }] }],
  });
  // A far link: 300 ms round trips, 250 kB/s for all connections together.
  far = await startThrottleProxy(registry.url, { latencyMs: 300, connectionRate: 250_000, totalRate: 250_000 });
});
after(async () => {
  await far?.stop();
  await proxy?.stop();
  await registry?.stop();
  await tokenRegistry?.stop();
  await tokenProxy?.stop();
  await tokens?.stop();
  dir.remove();
});

describe('every wait of `npm run pull` ends within the bound, naming the host', () => {
  const layer = () => image.layers.reduce((a, b) => (b.size > a.size ? b : a));
  const viaProxy = () => `${proxy.host}/${image.repository}:${image.tag}`;

  test('a token service that accepts the connection and never answers', async () => {
    tokenProxy.setPlan(always('/token', fault.hang()));
    try {
      const run = await pullWithin(tokenImage.reference, 'token');
      assertGivenUp(run, tokenProxy.host, /did not answer/);
      assert.match(run.stderr, /^waiting: .*did not answer.*trying again/m, 'said it was waiting');
      // One share of tries, not a token retry around a request retry.
      const asked = tokenProxy.requests.filter((r) => r.path.startsWith('/token')).length;
      assert.ok(asked <= 4, `${asked} token requests`);
    } finally {
      tokenProxy.setPlan(undefined);
    }
  });

  test('a manifest that is never answered', async () => {
    proxy.setPlan(always('/manifests/', fault.hang()));
    try {
      assertGivenUp(await pullWithin(viaProxy(), 'manifest'), proxy.host, /did not answer/);
    } finally {
      proxy.setPlan(undefined);
    }
  });

  test('a config sent one byte a second', async () => {
    proxy.setPlan(always(`/blobs/${image.configDigest}`, fault.drip(0, 1)));
    try {
      assertGivenUp(await pullWithin(viaProxy(), 'config'), proxy.host, /too slowly/);
    } finally {
      proxy.setPlan(undefined);
    }
  });

  test('a layer sent one byte a second', async () => {
    proxy.setPlan(always(`/blobs/${layer().digest}`, fault.drip(0, 1)));
    try {
      assertGivenUp(await pullWithin(viaProxy(), 'drip'), proxy.host, /too slowly/);
    } finally {
      proxy.setPlan(undefined);
    }
  });

  test('a layer that stalls after every 2 MB', async () => {
    proxy.setPlan(always(`/blobs/${layer().digest}`, fault.stall(2_000_000)));
    try {
      const run = await pullWithin(viaProxy(), 'stalls');
      assertGivenUp(run, proxy.host, /kept stalling/);
      assert.ok(proxy.requests.filter((r) => r.faults.includes('stall')).length >= 2, 'it was picked up again');
    } finally {
      proxy.setPlan(undefined);
    }
  });
});

test('a slow but steady layer on a far link is not cut, though it takes longer than the deadline', async () => {
  const run = await pullWithin(`${far.host}/${steady.repository}:${steady.tag}`, 'far', 120_000);
  assert.equal(run.status, 0, run.stderr);
  assert.ok(run.ms > WAIT_SECONDS * 1000, `took ${run.ms} ms`);
  assert.doesNotMatch(run.stderr, /trying again|waiting:/, 'nothing was cut or tried again');
  assert.deepEqual(run.left, ['far.tar']);
});
