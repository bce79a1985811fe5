/**
 * The offline kit: one .zip (zip64, stored — tars of gzip layers do not shrink, and stored entries stream
 * at disk speed) holding each image's tar, SHA256SUMS, load.sh and load.ps1 that verify every tar and then
 * `docker load` it, and a README.txt. Everything streams: each tar is pulled straight into its zip entry
 * and hashed on the way; nothing is held whole.
 */
import type { WaitPolicy } from '../../core/transport/waits.ts';
import type { Sha256Factory } from '../../core/codecs/sha256.ts';
import { type LayerMode, type PullProgress, type PullResult, pull } from '../../core/pull.ts';
import type { ResolvedImage } from '../../core/resolve.ts';
import { type ArchiveSize, archiveSize } from '../../core/archive-size.ts';
import { describeImage } from '../../core/pull/image-out.ts';
import { formatReference } from '../../core/reference.ts';
import { shellWord } from '../lib/shell.ts';

export interface KitItem {
  image: ResolvedImage;
  /** File name inside the zip (`app_v1.tar`): letters, digits, `.`, `_`, `-` only. */
  tarName: string;
}

export interface KitTar {
  name: string;
  size: number;
  /** Hex, as SHA256SUMS lists it. */
  sha256: string;
}

export interface KitResult {
  results: PullResult[];
  tars: KitTar[];
}

export interface KitOptions {
  layers: LayerMode;
  signal: AbortSignal;
  onProgress: (item: number, progress: PullProgress) => void;
  /** Started before each image's pull. */
  onItem?: (item: number) => void;
  /** Hashers for each tar and for the inflated layers (a worker's, ideally). */
  sha256: Sha256Factory;
  /** A layer download that sends nothing for this long is cut and resumed (the engine's default if unset). */
  idleTimeoutMs?: number;
  /** The wait policy's bounds (core/transport/waits.ts), when the host set them. */
  waits?: Partial<WaitPolicy>;
  /** Blob requests at once (the engine's default if unset). */
  parallel?: number;
}

export async function writeKit(
  items: KitItem[],
  target: WritableStream<Uint8Array>,
  options: KitOptions,
): Promise<KitResult> {
  const { ZipWriter, TextReader, configure } = await import('@zip.js/zip.js');
  // No workers: zip.js would start them from blob: URLs, which the page's CSP forbids, and stored entries
  // need no compression anyway.
  configure({ useWebWorkers: false, useCompressionStream: false });
  const zip = new ZipWriter(target, { zip64: true, level: 0, bufferedWrite: false, keepOrder: true });
  const results: PullResult[] = [];
  const tars: KitTar[] = [];
  try {
    for (const [index, item] of items.entries()) {
      options.onItem?.(index);
      const hash = await options.sha256();
      let size = 0;
      const pipe = new TransformStream<Uint8Array, Uint8Array>();
      const pipeWriter = pipe.writable.getWriter();
      // The tar side: hashes and counts what goes into the zip entry.
      const tarSink = new WritableStream<Uint8Array>({
        async write(chunk) {
          await hash.update(chunk);
          size += chunk.byteLength;
          await pipeWriter.write(chunk);
        },
        close: () => pipeWriter.close(),
        abort: (reason) => pipeWriter.abort(reason),
      });
      const adding = zip.add(item.tarName, pipe.readable, { level: 0, signal: options.signal });
      // If the zip side fails first, the pull must not wait forever on a pipe nobody reads.
      adding.catch((error: unknown) => pipeWriter.abort(error).catch(() => {}));
      const [result] = await Promise.all([
        pull([item.image], tarSink, {
          layers: options.layers,
          signal: options.signal,
          progressIntervalMs: 200,
          layerSha256: options.sha256,
          ...(options.idleTimeoutMs ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
          ...(options.waits ? { waits: options.waits } : {}),
          ...(options.parallel ? { parallel: options.parallel } : {}),
          onProgress: (p) => options.onProgress(index, p),
        }),
        adding,
      ]);
      results.push(result);
      tars.push({ name: item.tarName, size, sha256: (await hash.digest()).slice('sha256:'.length) });
    }
    await addKitFiles(zip, TextReader, tars, results);
    await zip.close();
    return { results, tars };
  } catch (error) {
    // Never leave something that looks like a finished kit.
    await target.abort(error).catch(() => {});
    throw error;
  }
}

type ZipJs = typeof import('@zip.js/zip.js');

async function addKitFiles(
  zip: InstanceType<ZipJs['ZipWriter']>,
  TextReader: ZipJs['TextReader'],
  tars: KitTar[],
  results: Pick<PullResult, 'images'>[],
): Promise<void> {
  const text = (value: string) => new TextReader(value);
  await zip.add('SHA256SUMS', text(sha256sums(tars)), { level: 0 });
  await zip.add('load.sh', text(loadSh(tars)), { level: 0, executable: true });
  await zip.add('load.ps1', text(loadPs1(tars)), { level: 0 });
  await zip.add('README.txt', text(readme(tars, results)), { level: 0 });
}

/**
 * The kit's size before it is made: each image's tar (archiveSize) plus what the zip adds, counted by
 * writing the same zip with the same options, the tars as empty entries (stored zip64 entries have headers
 * of a fixed size) and the same scripts, whose only unknowns (checksums) have a fixed length.
 */
export async function kitSize(
  items: KitItem[],
  layers: LayerMode,
  inflatedSizes: Record<string, number> = {},
): Promise<ArchiveSize> {
  const { ZipWriter, TextReader, configure } = await import('@zip.js/zip.js');
  configure({ useWebWorkers: false, useCompressionStream: false });
  const sizes = await Promise.all(items.map((item) => archiveSize([item.image], layers, inflatedSizes)));
  let zipBytes = 0;
  const counter = new WritableStream<Uint8Array>({ write: (chunk) => void (zipBytes += chunk.byteLength) });
  const zip = new ZipWriter(counter, { zip64: true, level: 0, bufferedWrite: false, keepOrder: true });
  const tars = items.map((item) => ({ name: item.tarName, size: 0, sha256: '0'.repeat(64) }));
  // A stream of unknown length, as the real tars are (so each gets its data descriptor).
  const empty = () => new ReadableStream<Uint8Array>({ start: (controller) => controller.close() });
  for (const tar of tars) await zip.add(tar.name, empty(), { level: 0 });
  await addKitFiles(
    zip,
    TextReader,
    tars,
    items.map(({ image }) => plannedResult(image)),
  );
  await zip.close();
  return {
    bytes: zipBytes + sizes.reduce((sum, s) => sum + s.bytes, 0),
    exact: sizes.every((s) => s.exact),
  };
}

/** What README.txt says of an image, known before the pull. */
function plannedResult(image: ResolvedImage): Pick<PullResult, 'images'> {
  const manifest = { mediaType: '', digest: '', size: 0, layerDigests: [] };
  const { platform } = image;
  return {
    images: [
      {
        reference: formatReference(image.reference),
        repoTags: describeImage(image, manifest).entry.repoTags,
        configDigest: image.config.digest,
        manifestDigest: image.manifest.digest,
        platform: [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/'),
      },
    ],
  };
}

export function sha256sums(tars: KitTar[]): string {
  return tars.map((t) => `${t.sha256}  ${t.name}\n`).join('');
}

const psQuote = (name: string) => `'${name.replace(/'/g, "''")}'`;

export function loadSh(tars: KitTar[]): string {
  return `#!/bin/sh
# Skiff offline kit: checks every tar against SHA256SUMS, then loads the images.
#   sh load.sh                  (Docker)
#   DOCKER=podman sh load.sh    (Podman)
set -eu
cd "$(dirname "$0")"
if command -v sha256sum >/dev/null 2>&1; then
  sha256sum -c SHA256SUMS
elif command -v shasum >/dev/null 2>&1; then
  shasum -a 256 -c SHA256SUMS
else
  echo "load.sh: no sha256sum or shasum here, so the files cannot be checked" >&2
  exit 1
fi
for file in ${tars.map((t) => shellWord(t.name)).join(' ')}; do
  echo "Loading $file"
  "\${DOCKER:-docker}" load -i "$file"
done
`;
}

export function loadPs1(tars: KitTar[]): string {
  return `# Skiff offline kit: checks every tar against SHA256SUMS, then loads the images.
#   powershell -ExecutionPolicy Bypass -File load.ps1          (Docker)
#   $env:DOCKER = 'podman'; powershell -ExecutionPolicy Bypass -File load.ps1
$ErrorActionPreference = 'Stop'
Set-Location -LiteralPath $PSScriptRoot
$docker = if ($env:DOCKER) { $env:DOCKER } else { 'docker' }
foreach ($line in Get-Content -LiteralPath 'SHA256SUMS') {
  if (-not $line.Trim()) { continue }
  $expected, $name = $line -split '\\s+', 2
  $actual = (Get-FileHash -Algorithm SHA256 -LiteralPath $name).Hash.ToLowerInvariant()
  if ($actual -ne $expected) { throw "\${name}: FAILED, the checksum does not match" }
  Write-Host "\${name}: OK"
}
foreach ($name in @(${tars.map((t) => psQuote(t.name)).join(', ')})) {
  Write-Host "Loading $name"
  & $docker load -i $name
  if ($LASTEXITCODE -ne 0) { throw "$docker load failed for $name" }
}
`;
}

function readme(tars: KitTar[], results: Pick<PullResult, 'images'>[]): string {
  const lines = ['Skiff offline kit', '', 'Images:'];
  tars.forEach((tar, i) => {
    for (const image of results[i]?.images ?? []) {
      lines.push(
        `  ${tar.name}: ${image.repoTags.join(', ') || image.reference} (${image.platform}), image ID ${image.configDigest}`,
      );
    }
  });
  lines.push(
    '',
    'Load them (each tar is checked against SHA256SUMS first):',
    '  Linux, macOS:  sh load.sh            (Podman: DOCKER=podman sh load.sh)',
    '  Windows:       powershell -ExecutionPolicy Bypass -File load.ps1',
    '',
    'Or one by one:  docker load -i FILE.tar   /   podman load -i FILE.tar',
    '',
  );
  return lines.join('\n');
}
