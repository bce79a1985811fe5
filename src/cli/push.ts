/**
 * `npm run push -- FILE --to REGISTRY/REPO:TAG [--to …] [--user U --password P] [--relay URL] [--as-is]`
 * Puts the images of a saved archive (docker save, podman save, skopeo, crane, Skiff's tars and .zip kit,
 * gzip- or zstd-compressed tars) into a registry, on the same engine as the web page. `--list` shows
 * what the archive holds.
 */
import { openAsBlob } from 'node:fs';
import { readArchive } from '../core/archive-read.ts';
import { fromWebBlob } from '../core/blob-source.ts';
import { SkiffError } from '../core/errors.ts';
import { formatPlatform } from '../core/platform.ts';
import { type PushProgress, pushArchive } from '../core/push.ts';
import { parseCommandLine, waitOptions, waitUsage } from './args.ts';

const usage = `usage: npm run push -- FILE --to REGISTRY/REPO:TAG [options]
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
  try {
    let blob;
    try {
      blob = fromWebBlob(await openAsBlob(file));
    } catch (error) {
      console.error(`error: cannot read ${file}: ${(error as Error).message}`);
      return 1;
    }
    const contents = await readArchive(blob, controller.signal);
    const targets = values.to ?? [];
    if (values.list || targets.length !== contents.images.length) {
      console.error(`${file} (${contents.format}) holds ${contents.images.length} image(s):`);
      contents.images.forEach((image, i) => {
        console.error(
          `  ${i + 1}. ${image.repoTags.join(' ') || '(untagged)'}  ${formatPlatform(image.platform)}  ${image.layers.length} layers, ${(image.size / 1e6).toFixed(1)} MB  ID ${image.config.digest}${image.source ? `  (${image.source})` : ''}`,
        );
      });
      if (values.list) return 0;
      console.error(
        targets.length === 0
          ? 'Say where each goes with --to REGISTRY/REPO:TAG (once per image, in this order).'
          : `Give one --to per image, in this order: ${targets.length} given for ${contents.images.length}.`,
      );
      return 2;
    }
    const result = await pushArchive(
      contents,
      targets.map((reference, image) => ({ image, reference })),
      {
        ...waitOptions(values.quiet),
        signal: controller.signal,
        compress: !values['as-is'],
        chunkBytes: Math.round(chunkMib * 1024 * 1024),
        ...(username !== undefined && password !== undefined ? { credentials: { username, password } } : {}),
        ...(values.relay ? { relay: values.relay } : {}),
        ...(values['plain-http'] ? { plainHttp: values['plain-http'] } : {}),
        ...(values.quiet ? {} : { onProgress: progressPrinter(started), progressIntervalMs: 1000 }),
      },
    );
    for (const image of result.images) {
      console.error(`pushed ${image.target} (${image.platform}) → ${image.manifestDigest}, ID ${image.configDigest}`);
      console.error(`  ${image.pullCommand}`);
    }
    console.error(
      `${result.uploaded} blob(s) uploaded, ${result.existing} already there, ${result.mounted} mounted, in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    return 0;
  } catch (error) {
    if (error instanceof SkiffError) {
      console.error(`error (${error.code}): ${error.message}`);
      return 1;
    }
    throw error;
  }
}

function progressPrinter(started: number) {
  return (p: PushProgress) => {
    const done = p.layers.filter((l) => ['done', 'exists', 'mounted', 'shared'].includes(l.state)).length;
    const mb = (n: number) => (n / 1e6).toFixed(1);
    const rate = p.read / 1e6 / Math.max(0.001, (Date.now() - started) / 1000);
    console.error(`layers ${done}/${p.layers.length}  ${mb(p.read)}/${mb(p.expected)} MB  ${rate.toFixed(1)} MB/s`);
  };
}

process.exitCode = await main();
