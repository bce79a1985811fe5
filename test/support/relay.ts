/**
 * The CORS relay as tests run it: the Node server (`src/relay/serve.ts`, as `npm start` runs it) or the
 * worker on the real `workerd` binary (npm package `workerd`) with src/relay's capnp configs, each as a
 * separate process on an ephemeral loopback port. stop() ends the process.
 */
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { RELAY_ENV_VARS } from '../../src/relay/config.ts';
import { buildWorker } from '../../src/relay/build-worker.ts';
import { freePort, startProcess, type RunningProcess } from './process.ts';

const root = resolve(import.meta.dirname, '../..');

export type RelayRuntime = 'node' | 'workerd';

export interface RelayServer {
  runtime: RelayRuntime;
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** `http://127.0.0.1:PORT/relay`: what the engine's `relay` option takes. */
  base: string;
  /** The process's stdout and stderr so far (the relay's log lines). */
  output(): string;
  stop(): Promise<void>;
}

export interface RelayOptions {
  /** RELAY_* settings; the ones not given are cleared, so the caller's own environment cannot leak in. */
  env?: Record<string, string>;
  /** Node only: extra command-line flags, and the built app to serve. */
  args?: string[];
  distDir?: string;
  /** workerd only: `public` (src/relay/workerd.capnp) or `private` (workerd-private-egress.capnp). Default private. */
  egress?: 'public' | 'private';
}

function relayEnv(env: Record<string, string> = {}): Record<string, string> {
  const cleared = Object.fromEntries(RELAY_ENV_VARS.map((name) => [name, '']));
  return { ...cleared, ...env };
}

async function ready(proc: RunningProcess, url: string, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  // A process that exits (a refused setting) ends the wait at once instead of at the timeout.
  while (proc.child.exitCode === null && proc.child.signalCode === null && Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/relay/`);
      await res.body?.cancel();
      return;
    } catch (error) {
      last = error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  await proc.stop();
  throw new Error(`${what} did not start: ${proc.output() || String(last)}`);
}

export async function startNodeRelay(options: RelayOptions = {}): Promise<RelayServer> {
  const port = await freePort();
  const args = ['--import', 'tsx', resolve(root, 'src/relay/serve.ts'), '--port', String(port), '--host', '127.0.0.1'];
  if (options.distDir) args.push('--dist', options.distDir);
  args.push(...(options.args ?? []));
  const proc = startProcess(process.execPath, args, { env: relayEnv(options.env) });
  const url = `http://127.0.0.1:${port}`;
  await ready(proc, url, `node relay on ${url}`);
  return { runtime: 'node', url, base: `${url}/relay`, output: proc.output, stop: proc.stop };
}

let bundle: Promise<string> | undefined;

/** The workerd binary the npm package ships (its postinstall step is not needed for this path). */
export function workerdBinary(): string {
  const pkg = createRequire(import.meta.url)('workerd') as { default: string };
  return pkg.default;
}

export async function startWorkerdRelay(options: RelayOptions = {}): Promise<RelayServer> {
  bundle ??= buildWorker();
  await bundle;
  const port = await freePort();
  const config = resolve(
    root,
    'src/relay',
    options.egress === 'public' ? 'workerd.capnp' : 'workerd-private-egress.capnp',
  );
  const proc = startProcess(workerdBinary(), ['serve', config, '--socket-addr', `http=127.0.0.1:${port}`], {
    env: relayEnv(options.env),
  });
  const url = `http://127.0.0.1:${port}`;
  await ready(proc, url, `workerd relay on ${url}`);
  return { runtime: 'workerd', url, base: `${url}/relay`, output: proc.output, stop: proc.stop };
}

export function startRelay(runtime: RelayRuntime, options: RelayOptions = {}): Promise<RelayServer> {
  return runtime === 'node' ? startNodeRelay(options) : startWorkerdRelay(options);
}
