/**
 * A private dockerd (Debian `docker.io` 20.10) for tests that check what `docker load` makes of our tars.
 * Runs as root with vfs storage and no networking setup, so it touches neither iptables nor a system daemon;
 * every path it uses lives under two scratch dirs that stop() removes. (dockerd 20.10 still creates
 * /etc/docker/key.json once; it has no flag to move it.)
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { runCommand, scratchDir, startProcess, waitUntil, type CommandResult } from './process.ts';

export interface Dockerd {
  /** Path of the API socket. */
  socket: string;
  /** dockerd's process id. */
  pid: number;
  /** `unix://<socket>`, for DOCKER_HOST or `-H`. */
  host: string;
  /** Environment that points a docker CLI (or skopeo's docker-daemon: transport) at this daemon. */
  env: Record<string, string>;
  /** Runs the docker CLI against this daemon; rejects on a non-zero exit. */
  docker(args: string[], options?: { input?: string | Buffer; timeoutMs?: number }): Promise<CommandResult>;
  /** `docker load -i tarPath`. */
  load(tarPath: string): Promise<{ stdout: string }>;
  /** `docker image inspect ref`, parsed (the single object, not the array). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- docker's own JSON; tests read the fields they assert
  inspect(ref: string): Promise<any>;
  /** Full IDs (`sha256:…`) of every image, intermediate ones included. */
  imageIds(): Promise<string[]>;
  /** dockerd's own log so far, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/** The CLI that ships with Debian's dockerd; a newer `docker` earlier in PATH would do too, but this one matches. */
export const DOCKER_CLI = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';

export async function startDockerd(options: { extraArgs?: string[]; timeoutMs?: number } = {}): Promise<Dockerd> {
  if (process.getuid?.() !== 0) throw new Error('startDockerd needs root (dockerd is not run rootless here)');
  const dir = scratchDir('dockerd');
  // Unix socket paths are limited to 108 bytes, and containerd puts its own sockets under the exec root:
  // keep that root short whatever TMPDIR is.
  const execRoot = mkdtempSync('/tmp/skd-');
  const socket = join(execRoot, 'docker.sock');
  const host = `unix://${socket}`;
  const configFile = join(dir.path, 'daemon.json');
  // An empty config file so a machine's /etc/docker/daemon.json (mirrors, proxies, drivers) cannot leak in.
  writeFileSync(configFile, '{}\n');
  const cliConfig = join(dir.path, 'cli');
  mkdirSync(cliConfig);
  // DOCKER_CONFIG keeps the CLI off root's ~/.docker (credentials, contexts).
  const env = { DOCKER_HOST: host, DOCKER_CONFIG: cliConfig };

  const proc = startProcess('dockerd', [
    `--config-file=${configFile}`,
    '--storage-driver=vfs',
    '--iptables=false',
    '--ip6tables=false',
    '--bridge=none',
    `--data-root=${join(dir.path, 'data')}`,
    `--exec-root=${execRoot}`,
    `--host=${host}`,
    `--pidfile=${join(dir.path, 'dockerd.pid')}`,
    ...(options.extraArgs ?? []),
  ]);

  const cleanup = async () => {
    await proc.stop();
    // dockerd normally stops the containerd it started; make sure, since a stray one would hold our dirs.
    const containerdPid = readPid(join(execRoot, 'containerd', 'containerd.pid'));
    if (containerdPid !== undefined && isOurs(containerdPid, execRoot)) {
      process.kill(containerdPid, 'SIGKILL');
    }
    // With vfs nothing should be mounted, but a container run by a test leaves netns/shm mounts if killed.
    for (const mount of mountsUnder([execRoot, dir.path])) {
      await runCommand('umount', ['-l', mount]).catch(() => undefined);
    }
    rmSync(execRoot, { recursive: true, force: true });
    dir.remove();
  };

  try {
    await waitUntil(
      `dockerd on ${socket}`,
      async () => {
        if (proc.child.exitCode !== null) throw new Error(proc.output());
        return (await ping(socket)) === 'OK';
      },
      options.timeoutMs ?? 30_000,
    );
  } catch (error) {
    const log = proc.output();
    await cleanup();
    throw new Error(`dockerd failed to start: ${log.slice(-4000) || String(error)}`, { cause: error });
  }

  const docker: Dockerd['docker'] = (args, runOptions = {}) =>
    runCommand(DOCKER_CLI, args, { env, input: runOptions.input, timeoutMs: runOptions.timeoutMs ?? 300_000 });

  return {
    socket,
    pid: proc.child.pid ?? 0,
    host,
    env,
    docker,
    async load(tarPath) {
      const { stdout } = await docker(['load', '-i', tarPath]);
      return { stdout };
    },
    async inspect(ref) {
      const { stdout } = await docker(['image', 'inspect', ref]);
      const parsed = JSON.parse(stdout) as unknown[];
      return parsed[0];
    },
    async imageIds() {
      const { stdout } = await docker(['images', '--all', '--quiet', '--no-trunc']);
      return [
        ...new Set(
          stdout
            .split('\n')
            .map((l) => l.trim())
            .filter(Boolean),
        ),
      ];
    },
    output: () => proc.output(),
    stop: cleanup,
  };
}

/** GET /_ping over the unix socket; the body is "OK" once the API serves. */
function ping(socket: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, path: '/_ping', timeout: 2_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(body));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('ping timed out')));
    req.on('error', reject);
    req.end();
  });
}

function readPid(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** True when pid is alive and was started with our exec root on its command line (not a recycled pid). */
function isOurs(pid: number, execRoot: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(execRoot);
  } catch {
    return false;
  }
}

function mountsUnder(roots: string[]): string[] {
  let table: string;
  try {
    table = readFileSync('/proc/self/mounts', 'utf8');
  } catch {
    return [];
  }
  return table
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .filter((mount) => roots.some((root) => mount === root || mount.startsWith(`${root}/`)))
    .sort((a, b) => b.length - a.length); // deepest first
}
