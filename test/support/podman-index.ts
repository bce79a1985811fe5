/**
 * A multi-platform image whose index podman wrote: three platform images (amd64, arm64, arm/v7, sharing their
 * base layer) pushed by digest, `podman manifest create` / `add` / `push` over them, then BuildKit-style
 * attestation manifests (an in-toto layer each, `vnd.docker.reference.type: attestation-manifest`) added to
 * podman's index as a fixture step, since podman 4.3 cannot add them itself. The final index is pushed under
 * the tag; `digest` is what the registry serves for it.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { type Platform, type PushedImage, platformKey, prose, pushImage, pushIndex } from './images.ts';
import { runCommand, scratchDir } from './process.ts';
import { type Registry, pushManifest } from './registry.ts';

export interface PodmanIndex {
  /** `host/repository:tag`. */
  reference: string;
  digest: string;
  bytes: Buffer;
  byPlatform: Record<string, PushedImage>;
  /** Attestation manifest digests, by the image manifest they are about. */
  attestations: Map<string, string>;
}

const PLATFORMS: Platform[] = [
  { os: 'linux', architecture: 'amd64' },
  { os: 'linux', architecture: 'arm64' },
  { os: 'linux', architecture: 'arm', variant: 'v7' },
];

export async function pushPodmanIndex(registry: Registry, repository: string, tag: string): Promise<PodmanIndex> {
  const images: PushedImage[] = [];
  for (const platform of PLATFORMS) {
    images.push(
      await pushImage(registry.url, repository, null, {
        format: 'oci',
        platform,
        layers: [
          { compression: 'gzip', files: [{ path: 'etc/motd', content: `shared base of ${repository}\n` }] },
          {
            compression: 'gzip',
            files: [{ path: 'platform', content: `${platformKey(platform)}\n${prose(2048, platformKey(platform))}` }],
          },
        ],
        config: { Cmd: ['/bin/cat', '/platform'] },
      }),
    );
  }
  const dir = scratchDir('podman-index');
  try {
    // podman refuses a runroot path longer than 50 characters: short names.
    const storage = ['--root', join(dir.path, 's'), '--runroot', join(dir.path, 'r'), '--storage-driver', 'vfs'];
    const podman = (args: string[]) => runCommand('podman', [...storage, ...args], { timeoutMs: 120_000 });
    const list = `localhost/skiff-list-${process.pid}`;
    await podman(['manifest', 'create', list]);
    for (const image of images)
      await podman([
        'manifest',
        'add',
        '--tls-verify=false',
        list,
        `docker://${registry.host}/${repository}@${image.manifestDigest}`,
      ]);
    await podman([
      'manifest',
      'push',
      '--all',
      '--tls-verify=false',
      list,
      `docker://${registry.host}/${repository}:${tag}-podman`,
    ]);
  } finally {
    dir.remove();
  }
  const podmanIndex = await getManifest(registry, repository, `${tag}-podman`);
  // BuildKit's attestations, pushed beside the images, then named in podman's index as BuildKit names them.
  const withAttestations = await pushIndex(
    registry.url,
    repository,
    `${tag}-attestations`,
    images.map((image) => ({ image })),
    { format: 'oci', attestations: true },
  );
  const index = JSON.parse(podmanIndex.toString('utf8'));
  for (const a of withAttestations.attestations)
    index.manifests.push({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: a.digest,
      size: a.size,
      annotations: { 'vnd.docker.reference.digest': a.refersTo, 'vnd.docker.reference.type': 'attestation-manifest' },
      platform: { architecture: 'unknown', os: 'unknown' },
    });
  const digest = await pushManifest(registry, repository, tag, JSON.stringify(index), index.mediaType);
  const bytes = await getManifest(registry, repository, tag);
  if (`sha256:${createHash('sha256').update(bytes).digest('hex')}` !== digest) throw new Error('index digest differs');
  return {
    reference: `${registry.host}/${repository}:${tag}`,
    digest,
    bytes,
    byPlatform: Object.fromEntries(images.map((image) => [platformKey(image.platform), image])),
    attestations: new Map(withAttestations.attestations.map((a) => [a.refersTo, a.digest])),
  };
}

async function getManifest(registry: Registry, repository: string, reference: string): Promise<Buffer> {
  const response = await fetch(`${registry.url}/v2/${repository}/manifests/${reference}`, {
    headers: {
      accept: 'application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json',
    },
  });
  if (!response.ok) throw new Error(`${repository}:${reference}: ${response.status}`);
  return Buffer.from(await response.arrayBuffer());
}
