/**
 * Images made by tools nobody here wrote — umoci, buildah, podman (gzip and zstd:chunked), skopeo and
 * `docker build` — pushed into a test registry, then described from what the registry serves (manifest,
 * config, layer media types), so a test can pull them and check `docker load` against the registry's own
 * digests. Each tool keeps its storage in a scratch dir; file contents are random per run, so no blob-info
 * cache of an earlier run can make a tool reuse a blob instead of writing its own.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Dockerd } from './dockerd.ts';
import { runCommand, scratchDir } from './process.ts';
import type { Registry } from './registry.ts';
import { skopeo } from './skopeo.ts';

export type RealTool = 'umoci' | 'buildah' | 'podman' | 'podman-zstd-chunked' | 'skopeo' | 'docker-build';

export interface ToolImage {
  tool: RealTool;
  /** `host/repository:tag`. */
  reference: string;
  manifestDigest: string;
  manifestMediaType: string;
  configDigest: string;
  diffIds: string[];
  layers: { digest: string; mediaType: string; size: number }[];
}

export interface ToolImages {
  /** The images that could be made here, by tool. */
  images: Partial<Record<RealTool, ToolImage>>;
  /** Why a tool's image could not be made (the tool's own error). */
  unavailable: Partial<Record<RealTool, string>>;
  remove(): void;
}

const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/** The files every tool puts in its image: two layers' worth, contents random so each run's blobs are new. */
function writeSources(dir: string): { first: string; second: string } {
  const first = join(dir, 'first');
  const second = join(dir, 'second');
  mkdirSync(join(first, 'etc'), { recursive: true });
  mkdirSync(join(second, 'usr/share/data'), { recursive: true });
  // 11 bytes: a last file whose data does not fill its 512-byte block, as in the layers that were refused.
  writeFileSync(join(first, 'etc/arch'), 'x86_64\nabc\n');
  writeFileSync(join(first, 'etc/id'), randomBytes(16).toString('hex'));
  writeFileSync(join(second, 'usr/share/data/noise.bin'), randomBytes(300_000 + Math.floor(Math.random() * 1000)));
  writeFileSync(join(second, 'usr/share/data/last.txt'), `${randomBytes(8).toString('hex')}\n`);
  return { first, second };
}

/** What the registry serves for `repository:tag`, digests as it computes them. */
export async function describePushed(registry: Registry, repository: string, tag: string, tool: RealTool) {
  const response = await fetch(`${registry.url}/v2/${repository}/manifests/${tag}`, {
    headers: { accept: MANIFEST_ACCEPT },
  });
  if (!response.ok) throw new Error(`${tool}: the registry has no ${repository}:${tag} (${response.status})`);
  const bytes = Buffer.from(await response.arrayBuffer());
  const manifest = JSON.parse(bytes.toString('utf8'));
  const config = await fetch(`${registry.url}/v2/${repository}/blobs/${manifest.config.digest}`);
  const configValue = JSON.parse(await config.text());
  const image: ToolImage = {
    tool,
    reference: `${registry.host}/${repository}:${tag}`,
    manifestDigest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
    manifestMediaType: manifest.mediaType ?? response.headers.get('content-type'),
    configDigest: manifest.config.digest,
    diffIds: configValue.rootfs.diff_ids,
    layers: manifest.layers.map((l: { digest: string; mediaType: string; size: number }) => ({
      digest: l.digest,
      mediaType: l.mediaType,
      size: l.size,
    })),
  };
  return image;
}

/** A layer blob as the registry serves it, inflated when gzip. */
export async function layerTar(registry: Registry, image: ToolImage, index: number): Promise<Buffer> {
  const layer = image.layers[index]!;
  const repository = image.reference.slice(registry.host.length + 1).split(':')[0]!;
  const blob = Buffer.from(await (await fetch(`${registry.url}/v2/${repository}/blobs/${layer.digest}`)).arrayBuffer());
  return layer.mediaType.endsWith('gzip') ? gunzipSync(blob) : blob;
}

/** Builds and pushes one image per tool; a tool that fails here is reported in `unavailable`, not thrown. */
export async function pushRealToolImages(registry: Registry, dockerd?: Dockerd): Promise<ToolImages> {
  const dir = scratchDir('real-tools');
  const images: ToolImages['images'] = {};
  const unavailable: ToolImages['unavailable'] = {};
  // podman refuses a runroot path longer than 50 characters: short names.
  let stores = 0;
  const storage = () => [
    '--root',
    join(dir.path, `s${++stores}`),
    '--runroot',
    join(dir.path, `r${stores}`),
    '--storage-driver',
    'vfs',
  ];
  const attempt = async (tool: RealTool, make: (work: string) => Promise<void>) => {
    const work = join(dir.path, tool);
    mkdirSync(work, { recursive: true });
    try {
      await make(work);
      images[tool] = await describePushed(registry, `tools/${tool}`, 'v1', tool);
    } catch (error) {
      unavailable[tool] = (error as Error).message.slice(0, 600);
    }
  };
  const target = (tool: RealTool) => `${registry.host}/tools/${tool}:v1`;

  await attempt('umoci', async (work) => {
    const { first, second } = writeSources(work);
    const layout = join(work, 'layout');
    await runCommand('umoci', ['init', '--layout', layout]);
    await runCommand('umoci', ['new', '--image', `${layout}:img`]);
    await runCommand('umoci', ['insert', '--image', `${layout}:img`, join(first, 'etc'), '/etc']);
    await runCommand('umoci', ['insert', '--image', `${layout}:img`, join(second, 'usr'), '/usr']);
    await runCommand('umoci', ['config', '--image', `${layout}:img`, '--config.cmd', '/bin/true']);
    await skopeo(['copy', '--quiet', '--dest-tls-verify=false', `oci:${layout}:img`, `docker://${target('umoci')}`]);
  });

  await attempt('skopeo', async (work) => {
    // An OCI layout (umoci's, the simplest one to make) copied by skopeo into Docker v2s2 form.
    const { first } = writeSources(work);
    const layout = join(work, 'layout');
    await runCommand('umoci', ['init', '--layout', layout]);
    await runCommand('umoci', ['new', '--image', `${layout}:img`]);
    await runCommand('umoci', ['insert', '--image', `${layout}:img`, join(first, 'etc'), '/etc']);
    await skopeo([
      'copy',
      '--quiet',
      '--format',
      'v2s2',
      '--dest-tls-verify=false',
      `oci:${layout}:img`,
      `docker://${target('skopeo')}`,
    ]);
  });

  await attempt('buildah', async (work) => {
    const { first, second } = writeSources(work);
    const s = storage();
    const { stdout } = await runCommand('buildah', [...s, 'from', 'scratch']);
    const container = stdout.trim().split('\n').at(-1)!;
    await runCommand('buildah', [...s, 'copy', container, join(first, 'etc'), '/etc']);
    await runCommand('buildah', [...s, 'copy', container, join(second, 'usr'), '/usr']);
    await runCommand('buildah', [...s, 'config', '--cmd', '/bin/true', container]);
    await runCommand('buildah', [...s, 'commit', container, 'localhost/tools-buildah:v1']);
    await runCommand('buildah', [
      ...s,
      'push',
      '--tls-verify=false',
      'localhost/tools-buildah:v1',
      `docker://${target('buildah')}`,
    ]);
  });

  const podman = (tool: 'podman' | 'podman-zstd-chunked', pushArgs: string[]) =>
    attempt(tool, async (work) => {
      writeSources(work);
      writeFileSync(
        join(work, 'Containerfile'),
        'FROM scratch\nCOPY first/etc /etc\nCOPY second/usr /usr\nCMD ["/x"]\n',
      );
      const s = storage();
      await runCommand('podman', [...s, 'build', '--isolation', 'chroot', '-t', `localhost/tools-${tool}:v1`, work], {
        timeoutMs: 300_000,
      });
      await runCommand('podman', [
        ...s,
        'push',
        '--tls-verify=false',
        ...pushArgs,
        `localhost/tools-${tool}:v1`,
        `docker://${target(tool)}`,
      ]);
    });
  await podman('podman', []);
  await podman('podman-zstd-chunked', ['--compression-format', 'zstd:chunked']);

  if (dockerd) {
    await attempt('docker-build', async (work) => {
      writeSources(work);
      writeFileSync(join(work, 'Dockerfile'), 'FROM scratch\nCOPY first/etc /etc\nCOPY second/usr /usr\nCMD ["/x"]\n');
      const tag = target('docker-build');
      await dockerd.docker(['build', '-q', '-t', tag, work]);
      await dockerd.docker(['push', tag]);
      // The image must come back from the archive, not stay from the build.
      await dockerd.docker(['rmi', '-f', tag]);
    });
  } else {
    unavailable['docker-build'] = 'no dockerd was started';
  }

  return { images, unavailable, remove: () => dir.remove() };
}
