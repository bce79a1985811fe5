/**
 * `npm run push -- FILE (--to-prefix REGISTRY/PATH | --to REGISTRY/REPO:TAG [--to …]) [--user U --password P]`
 * Puts the images of a saved archive (docker save, podman save, skopeo, crane, Skiff's tars and .zip kit,
 * gzip- or zstd-compressed tars) into a registry, on the same engine as the web page: each image, or each
 * multi-platform index with all it names, byte for byte where the archive allows. `--list` shows what the
 * archive holds; at the end a table of what went where, and the pushed references on stdout, one a line.
 */
import { readArchive } from '../core/archive/reader.ts';
import { SkiffError } from '../core/errors.ts';
import { pushSet, pushUnits } from '../core/push.ts';
import { openFileBlob } from './file-blob.ts';
import { parseCommandLine, waitOptions, waitUsage } from './args.ts';
import { nodeSha256 } from './node-sha256.ts';
import { parallelGzip } from './parallel-gzip.ts';
import { printSetResult, setProgressPrinter } from './set-output.ts';

const usage = `usage: npm run push -- FILE (--to-prefix REGISTRY/PATH | --to REGISTRY/REPO:TAG …) [options]
  --to-prefix P              every image under P: P + its repository path + its tag
                             (harbor.corp/mirror + docker.io/library/nginx:1.27 → harbor.corp/mirror/library/nginx:1.27)
  --to REF                   where the image goes; repeat it, in order, for an archive of several images
  --list                     only show the images in FILE
  --user U --password P      credentials for the target registry (or SKIFF_USER / SKIFF_PASSWORD)
  --as-is                    push uncompressed layers as they are (default: gzip them, as docker push does)
  --chunk-mib N              upload chunk size in MiB (default 4; GHCR refuses more)
  --relay URL                send requests through a Skiff relay
  --plain-http HOST          reach this registry over http (repeatable; loopback always is)
  --quiet                    no progress on stderr
${waitUsage}`;

async function main(): Promise<number> {
  const parsed = parseCommandLine(usage, {
    allowPositionals: true,
    options: {
      to: { type: 'string', multiple: true },
      'to-prefix': { type: 'string' },
      list: { type: 'boolean' },
      user: { type: 'string' },
      password: { type: 'string' },
      'as-is': { type: 'boolean' },
      'chunk-mib': { type: 'string' },
      relay: { type: 'string' },
      'plain-http': { type: 'string', multiple: true },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) {
    console.error(usage);
    return 2;
  }
  const chunkMib = values['chunk-mib'] === undefined ? 4 : Number(values['chunk-mib']);
  if (!(chunkMib > 0 && chunkMib <= 1024)) {
    console.error(`--chunk-mib must be a number of MiB between 0 and 1024, not "${values['chunk-mib']}"`);
    return 2;
  }
  const file = positionals[0]!;
  const username = values.user ?? process.env.SKIFF_USER;
  const password = values.password ?? process.env.SKIFF_PASSWORD;
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  const started = Date.now();
  let blob: Awaited<ReturnType<typeof openFileBlob>> | undefined;
  try {
    try {
      blob = await openFileBlob(file);
    } catch (error) {
      console.error(`error: cannot read ${file}: ${(error as Error).message}`);
      return 1;
    }
    const contents = await readArchive(blob, controller.signal);
    const units = pushUnits(contents, { compress: !values['as-is'] });
    const targets = values.to ?? [];
    const prefix = values['to-prefix'];
    if (values.list || (!prefix && targets.length !== units.length)) {
      console.error(`${file} (${contents.format}) holds ${units.length} image(s):`);
      units.forEach((unit, n) => {
        const images = unit.images.map((i) => contents.images[i]!);
        const size = images.reduce((sum, image) => sum + image.size, 0);
        const what =
          unit.kind === 'index'
            ? `index ${unit.digest} of ${images.length} images`
            : `${images[0]!.layers.length} layers, ID ${images[0]!.config.digest}`;
        console.error(
          `  ${n + 1}. ${unit.name || '(untagged)'}  ${unit.platforms.join(',')}  ${what}, ${(size / 1e6).toFixed(1)} MB${images[0]!.source ? `  (${images[0]!.source})` : ''}`,
        );
        if (unit.note) console.error(`     ${unit.note}`);
      });
      if (values.list) return 0;
      console.error(
        targets.length === 0
          ? 'Say where they go with --to-prefix REGISTRY/PATH, or --to REGISTRY/REPO:TAG once per image, in this order.'
          : `Give one --to per image, in this order: ${targets.length} given for ${units.length}.`,
      );
      return 2;
    }
    const result = await pushSet(
      contents,
      { ...(prefix ? { prefix } : {}), targets },
      {
        ...waitOptions(values.quiet),
        signal: controller.signal,
        compress: !values['as-is'],
        // Node's own: OpenSSL's sha256 and zlib over every core, several times faster than the page's.
        sha256: nodeSha256,
        gzip: parallelGzip(),
        chunkBytes: Math.round(chunkMib * 1024 * 1024),
        ...(username !== undefined && password !== undefined ? { credentials: { username, password } } : {}),
        ...(values.relay ? { relay: values.relay } : {}),
        ...(values['plain-http'] ? { plainHttp: values['plain-http'] } : {}),
        ...(values.quiet ? {} : { onProgress: setProgressPrinter(started), progressIntervalMs: 1000 }),
      },
    );
    printSetResult(result, 'pushed', started);
    return 0;
  } catch (error) {
    if (error instanceof SkiffError) {
      console.error(`error (${error.code}): ${error.message}`);
      return 1;
    }
    throw error;
  } finally {
    await blob?.close();
  }
}

process.exitCode = await main();
