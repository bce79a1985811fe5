/**
 * The offline kit: one .zip (zip64, stored — tars of gzip layers do not shrink, and stored entries stream
 * at disk speed) holding each image's tar, SHA256SUMS, load.sh and load.ps1 that verify every tar and then
 * `docker load` it (and, asked to, `docker tag` + `docker push` each image under a prefix), images.txt (the
 * list, as `npm run pull -- -f` and the page read it) and a README.txt. Everything streams: each tar is written straight into its zip entry
 * and hashed on the way; nothing is held whole. What writes each tar is the caller's (pull.ts: `pullKit`).
 */
import type { Sha256Factory } from '../codecs/sha256.ts';
import { shellWord } from './shell-word.ts';

/** One image of the kit as the list and the scripts name it. */
export interface KitImage {
  /** Its line in images.txt (`nginx:1.27 --platform linux/amd64`). */
  line: string;
  /** What `docker load` tags it (`nginx:1.27`) and its path under a push prefix (`library/nginx:1.27`);
   *  absent for an image pulled by digest only (it loads untagged). */
  push?: { tag: string; path: string };
}

export interface KitEntry {
  /** File name inside the zip (`app_v1.tar`): letters, digits, `.`, `_`, `-` only. */
  name: string;
  images: KitImage[];
  /** Writes the tar into `sink` (and closes it); returns its lines for README.txt (one per image). */
  write(sink: WritableStream<Uint8Array>): Promise<string[]>;
}

export interface KitTar {
  name: string;
  size: number;
  /** Hex, as SHA256SUMS lists it. */
  sha256: string;
}

export interface ZipKitOptions {
  signal: AbortSignal;
  /** Hashers for each tar (a worker's, ideally). */
  sha256: Sha256Factory;
  /** Started before each tar. */
  onEntry?: (index: number) => void;
}

export async function writeZipKit(
  entries: KitEntry[],
  target: WritableStream<Uint8Array>,
  options: ZipKitOptions,
): Promise<KitTar[]> {
  const { ZipWriter, TextReader, configure } = await import('@zip.js/zip.js');
  // No workers: zip.js would start them from blob: URLs, which the page's CSP forbids, and stored entries
  // need no compression anyway.
  configure({ useWebWorkers: false, useCompressionStream: false });
  const zip = new ZipWriter(target, { zip64: true, level: 0, bufferedWrite: false, keepOrder: true });
  const lines: string[] = [];
  const tars: KitTar[] = [];
  try {
    for (const [index, entry] of entries.entries()) {
      options.onEntry?.(index);
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
      const adding = zip.add(entry.name, pipe.readable, { level: 0, signal: options.signal });
      // If the zip side fails first, the tar's writer must not wait forever on a pipe nobody reads.
      adding.catch((error: unknown) => pipeWriter.abort(error).catch(() => {}));
      const [written] = await Promise.all([entry.write(tarSink), adding]);
      tars.push({ name: entry.name, size, sha256: (await hash.digest()).slice('sha256:'.length) });
      lines.push(...written.map((line) => `  ${entry.name}: ${line}`));
    }
    await addKitFiles(zip, TextReader, tars, entries, lines);
    await zip.close();
    return tars;
  } catch (error) {
    // Never leave something that looks like a finished kit.
    await target.abort(error).catch(() => {});
    throw error;
  }
}

type ZipJs = typeof import('@zip.js/zip.js');

/** SHA256SUMS, images.txt, load.sh, load.ps1 and README.txt: what the kit holds besides its tars. */
async function addKitFiles(
  zip: InstanceType<ZipJs['ZipWriter']>,
  TextReader: ZipJs['TextReader'],
  tars: KitTar[],
  entries: Pick<KitEntry, 'images'>[],
  lines: string[],
): Promise<void> {
  const text = (value: string) => new TextReader(value);
  await zip.add('SHA256SUMS', text(sha256sums(tars)), { level: 0 });
  const images = entries.flatMap((entry) => entry.images);
  const pushes = images.flatMap((image) => (image.push ? [image.push] : []));
  await zip.add('images.txt', text(images.map((image) => `${image.line}\n`).join('')), { level: 0 });
  await zip.add('load.sh', text(loadSh(tars, pushes)), { level: 0, executable: true });
  await zip.add('load.ps1', text(loadPs1(tars, pushes)), { level: 0 });
  await zip.add('README.txt', text(readme(lines)), { level: 0 });
}

/**
 * What the zip adds around its tars, before they are written: the same zip with the same options, the tars
 * as empty entries (stored zip64 entries have headers of a fixed size) and the same files, whose only
 * unknowns (checksums) have a fixed length. `lines`: each tar's README.txt lines, as its `write` returns them.
 */
export async function zipKitOverhead(
  entries: (Pick<KitEntry, 'name' | 'images'> & { lines: string[] })[],
): Promise<number> {
  const { ZipWriter, TextReader, configure } = await import('@zip.js/zip.js');
  configure({ useWebWorkers: false, useCompressionStream: false });
  let bytes = 0;
  const counter = new WritableStream<Uint8Array>({ write: (chunk) => void (bytes += chunk.byteLength) });
  const zip = new ZipWriter(counter, { zip64: true, level: 0, bufferedWrite: false, keepOrder: true });
  const tars = entries.map((entry) => ({ name: entry.name, size: 0, sha256: '0'.repeat(64) }));
  // A stream of unknown length, as the real tars are (so each gets its data descriptor).
  const empty = () => new ReadableStream<Uint8Array>({ start: (controller) => controller.close() });
  for (const tar of tars) await zip.add(tar.name, empty(), { level: 0 });
  const lines = entries.flatMap((entry) => entry.lines.map((line) => `  ${entry.name}: ${line}`));
  await addKitFiles(zip, TextReader, tars, entries, lines);
  await zip.close();
  return bytes;
}

export function sha256sums(tars: KitTar[]): string {
  return tars.map((t) => `${t.sha256}  ${t.name}\n`).join('');
}

const psQuote = (name: string) => `'${name.replace(/'/g, "''")}'`;

export function loadSh(tars: KitTar[], pushes: NonNullable<KitImage['push']>[] = []): string {
  return `#!/bin/sh
# Skiff offline kit: checks every tar against SHA256SUMS, then loads the images.
#   sh load.sh                             (Docker)
#   DOCKER=podman sh load.sh               (Podman)
#   sh load.sh --push harbor.corp/mirror   (then docker tag + docker push each image under that prefix)
set -eu
cd "$(dirname "$0")"
prefix=""
if [ "\${1:-}" = "--push" ]; then
  prefix="\${2:?load.sh --push needs a registry prefix, e.g. harbor.corp/mirror}"
  prefix="\${prefix%/}"
elif [ $# -gt 0 ]; then
  echo "usage: sh load.sh [--push REGISTRY/PATH]" >&2
  exit 2
fi
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
if [ -n "$prefix" ]; then
  for pair in ${pushes.map((p) => shellWord(`${p.tag}=${p.path}`)).join(' ')}; do
    target="$prefix/\${pair#*=}"
    echo "Pushing \${pair%%=*} as $target"
    "\${DOCKER:-docker}" tag "\${pair%%=*}" "$target"
    "\${DOCKER:-docker}" push "$target"
  done
fi
`;
}

export function loadPs1(tars: KitTar[], pushes: NonNullable<KitImage['push']>[] = []): string {
  return `# Skiff offline kit: checks every tar against SHA256SUMS, then loads the images.
#   powershell -ExecutionPolicy Bypass -File load.ps1          (Docker)
#   $env:DOCKER = 'podman'; powershell -ExecutionPolicy Bypass -File load.ps1
#   powershell -ExecutionPolicy Bypass -File load.ps1 -Push harbor.corp/mirror   (then tag + push each image)
param([string]$Push = '')
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
if ($Push) {
  $prefix = $Push.TrimEnd('/')
  foreach ($pair in @(${pushes.map((p) => psQuote(`${p.tag}=${p.path}`)).join(', ')})) {
    $image, $path = $pair -split '=', 2
    $target = "$prefix/$path"
    Write-Host "Pushing $image as $target"
    & $docker tag $image $target
    if ($LASTEXITCODE -ne 0) { throw "$docker tag failed for $image" }
    & $docker push $target
    if ($LASTEXITCODE -ne 0) { throw "$docker push failed for $target" }
  }
}
`;
}

function readme(images: string[]): string {
  const lines = ['Skiff offline kit', '', 'Images:', ...images];
  lines.push(
    '',
    'Load them (each tar is checked against SHA256SUMS first):',
    '  Linux, macOS:  sh load.sh            (Podman: DOCKER=podman sh load.sh)',
    '  Windows:       powershell -ExecutionPolicy Bypass -File load.ps1',
    '',
    'Load and push them into a registry under a prefix (docker tag + docker push; e.g. nginx:1.27 becomes',
    "harbor.corp/mirror/library/nginx:1.27). docker push sends the platform docker load loaded; Skiff's Push",
    'keeps whole multi-platform indexes and every digest:',
    '  sh load.sh --push harbor.corp/mirror',
    '  powershell -ExecutionPolicy Bypass -File load.ps1 -Push harbor.corp/mirror',
    '',
    'images.txt lists the images; pull them again with: npm run pull -- -f images.txt -o images.tar',
    '',
    'Or one by one:  docker load -i FILE.tar   /   podman load -i FILE.tar',
    '',
  );
  return lines.join('\n');
}
