/**
 * `npm run pull -- [REF…] [-f LIST] -o FILE [--platform all|os/arch[,…]] [--user U --password P]
 *   [--layers kept|uncompressed|as-pulled] [--parallel N] [--relay URL] [--mirror HOST] [--plain-http HOST]…`
 * The engine from Node: for tests, benchmarks and anyone with Node. Writes FILE.partial and renames it
 * only when the archive is complete and verified.
 */
import { open, readFile, rename, rm } from 'node:fs/promises';
import { SkiffError } from '../core/errors.ts';
import { parsePlatform } from '../core/image/platform.ts';
import { parsePlatformSelection } from '../core/image/image-list.ts';
import { LAYER_MODES, type LayerMode, type TransferProgress, type RateLimit, pull } from '../core/pull.ts';
import { type Problem, resolveRequested } from './pull-list.ts';
import { startSha256Thread } from './sha256-thread.ts';
import { zlibGunzip } from './zlib-gunzip.ts';
import { parseCommandLine, waitOptions, waitUsage } from './args.ts';

const usage = `usage: npm run pull -- [REF…] [-f LIST] -o FILE [options]
  -o, --output FILE          archive to write (required)
  -f, --file LIST            images to pull, one per line (or separated by spaces or commas; # comments);
                             a line may add --platform all or --platform linux/amd64,linux/arm64
  --platform P               platforms of a multi-platform image, for every image that names none:
                             os/arch[/variant] (default linux/amd64), several with commas, or all
                             (the archive then holds the image's index in its OCI part)
  --load-platform os/arch    of several platforms, the one docker load loads (default linux/amd64)
  --user U --password P      credentials for the registry (or SKIFF_USER / SKIFF_PASSWORD)
  --layers MODE              kept (default): layers as the registry served them, digests kept; only
                             zstd layers (Docker before 23 cannot load them) are inflated.
                             uncompressed: every layer inflated, like docker save.
                             as-pulled: every layer as served, zstd too.
  --check-diff-ids           also inflate layers kept as served to check their diff_ids (blob digests
                             are always checked; docker load checks diff_ids itself)
  --skip-diff-ids            as-pulled only: do not inflate layers to check their diff_ids
  --parallel N               blob requests at once (default 4; 1 = one connection)
  --relay URL                send requests through a Skiff CORS relay
  --mirror HOST              Docker Hub mirror host
  --plain-http HOST          reach this registry over http (repeatable; loopback always is)
  --quiet                    no progress on stderr
  --stats                    print wall time and peak memory (RSS) when done
${waitUsage}`;

async function main(): Promise<number> {
  const parsed = parseCommandLine(usage, {
    allowPositionals: true,
    options: {
      output: { type: 'string', short: 'o' },
      file: { type: 'string', short: 'f' },
      'load-platform': { type: 'string' },
      'check-diff-ids': { type: 'boolean' },
      platform: { type: 'string' },
      user: { type: 'string' },
      password: { type: 'string' },
      layers: { type: 'string' },
      'skip-diff-ids': { type: 'boolean' },
      parallel: { type: 'string' },
      relay: { type: 'string' },
      mirror: { type: 'string' },
      'plain-http': { type: 'string', multiple: true },
      quiet: { type: 'boolean' },
      stats: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (!values.output || (positionals.length === 0 && !values.file)) {
    console.error(usage);
    return 2;
  }
  const layers = (values.layers ?? 'kept') as LayerMode;
  if (!LAYER_MODES.includes(layers)) {
    console.error(`--layers must be ${LAYER_MODES.join(', ')}, not "${values.layers}"`);
    return 2;
  }
  if (values['skip-diff-ids'] && layers !== 'as-pulled') {
    console.error(
      '--skip-diff-ids needs --layers as-pulled (kept layers are not inflated unless --check-diff-ids; uncompressed layers are named by their checked diff_id)',
    );
    return 2;
  }
  let platforms, loadPlatform;
  let list: { name: string; text: string } | undefined;
  try {
    platforms = values.platform ? parsePlatformSelection(values.platform) : [];
    loadPlatform = values['load-platform'] ? parsePlatform(values['load-platform']) : undefined;
    if (values.file) list = { name: values.file, text: await readFile(values.file, 'utf8') };
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    return 2;
  }
  const parallel = values.parallel === undefined ? undefined : Number(values.parallel);
  if (parallel !== undefined && !(Number.isInteger(parallel) && parallel >= 1 && parallel <= 64)) {
    console.error(`--parallel must be a whole number from 1 to 64, not "${values.parallel}"`);
    return 2;
  }
  const username = values.user ?? process.env.SKIFF_USER;
  const password = values.password ?? process.env.SKIFF_PASSWORD;
  const output = values.output;
  const partial = `${output}.partial`;
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  const started = Date.now();
  const progress = values.quiet ? undefined : progressPrinter(started);
  const transport = {
    ...waitOptions(values.quiet),
    signal: controller.signal,
    ...(username !== undefined && password !== undefined ? { credentials: { username, password } } : {}),
    ...(values.relay ? { relay: values.relay } : {}),
    ...(values.mirror ? { dockerHubMirror: values.mirror } : {}),
    ...(values['plain-http'] ? { plainHttp: values['plain-http'] } : {}),
  };
  // Every name is resolved before the file is opened: a typo stops the run with every problem named.
  if (!values.quiet) console.error(`looking up ${list ? `the images of ${list.name}` : positionals.join(', ')}…`);
  const requested = await resolveRequested({ positionals, platforms, ...(list ? { file: list } : {}) }, transport);
  if (requested.problems.length && !list) {
    // Names on the command line only: the first failure, as a pull of them always said it.
    const [{ code, message }] = requested.problems as [Problem];
    console.error(`error (${code}): ${message}`);
    return 1;
  }
  if (requested.problems.length) {
    for (const { where, code, name, message } of requested.problems)
      console.error(`error (${code}) at ${where}: ${name ? `${name}: ` : ''}${message}`);
    console.error(`Nothing was pulled: ${requested.problems.length} problem(s) in the list. Fix them and run again.`);
    return 2;
  }
  // Inflated layers are hashed on a second thread while this one inflates.
  const hashThread = startSha256Thread();
  const file = fileSink(partial);
  try {
    const result = await pull(requested.sets, file.sink, {
      ...transport,
      layers,
      sha256: hashThread.factory,
      gunzip: zlibGunzip,
      ...(values['skip-diff-ids'] ? { verifyDiffIds: false } : {}),
      ...(values['check-diff-ids'] ? { checkDiffIds: true } : {}),
      ...(loadPlatform ? { loadPlatform } : {}),
      ...(parallel !== undefined ? { parallel } : {}),
      ...(progress ? { onProgress: progress, progressIntervalMs: 1000 } : {}),
    });
    await rename(partial, output);
    const seconds = (Date.now() - started) / 1000;
    for (const image of result.images) {
      console.error(
        `${image.reference} (${image.platform}) → ID ${image.configDigest}${image.repoTags.length ? `, tag ${image.repoTags.join(' ')}` : image.indexDigest ? `, in index ${image.indexDigest}` : ', untagged'}`,
      );
    }
    for (const note of result.notes) console.error(`note: ${note}`);
    if (result.rateLimit) console.error(`registry pull quota: ${formatRateLimit(result.rateLimit)}`);
    console.error(
      `wrote ${output}: ${result.bytesWritten} bytes in ${seconds.toFixed(1)} s. Load it with: docker load -i ${output}`,
    );
    if (values.stats) {
      // maxRSS is in KiB; one machine-readable line for scripts and benchmarks.
      console.log(
        JSON.stringify({
          seconds,
          peakRssBytes: process.resourceUsage().maxRSS * 1024,
          bytesWritten: result.bytesWritten,
        }),
      );
    }
    return 0;
  } catch (error) {
    await file.closed;
    await rm(partial, { force: true });
    const code = (error as { code?: unknown } | undefined)?.code;
    if (error instanceof SkiffError) {
      console.error(`error (${error.code}): ${error.message}`);
    } else if (code === 'ENOSPC' || code === 'EDQUOT') {
      console.error(
        `error (disk-full): the disk is full: ${file.written()} bytes of the archive were written to ${partial} before no space was left. Nothing was kept (the partial file is removed); free some space and pull again.`,
      );
    } else if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
      console.error(
        `error (file): could not write ${partial} after ${file.written()} bytes (${(error as Error).message}). Nothing was kept.`,
      );
    } else {
      // Not a failure the engine foresaw: still a message, not a stack trace, and nothing left behind.
      console.error(`error (unexpected): ${error instanceof Error ? error.message : String(error)}. Nothing was kept.`);
    }
    return 1;
  } finally {
    await hashThread.close();
  }
}

/** The archive file as a WritableStream that counts what reached the disk, so a failure can say how much did. */
function fileSink(path: string) {
  let written = 0;
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= handle?.close().catch(() => {}) ?? Promise.resolve());
  const sink = new WritableStream<Uint8Array>({
    async start() {
      handle = await open(path, 'w');
    },
    async write(chunk) {
      for (let at = 0; at < chunk.byteLength;) {
        const { bytesWritten } = await handle!.write(chunk, at, chunk.byteLength - at);
        at += bytesWritten;
        written += bytesWritten;
      }
    },
    close,
    abort: close,
  });
  return {
    sink,
    written: () => written,
    get closed() {
      return close();
    },
  };
}

function progressPrinter(started: number) {
  return (p: TransferProgress) => {
    const done = p.blobs.filter((l) => l.state === 'done' || l.state === 'shared').length;
    const mb = (n: number) => (n / 1e6).toFixed(1);
    const rate = p.bytes / 1e6 / Math.max(0.001, (Date.now() - started) / 1000);
    console.error(
      `layers ${done}/${p.blobs.length}  received ${mb(p.bytes)}/${mb(p.totalBytes)} MB  written ${mb(p.written ?? 0)} MB  ${rate.toFixed(1)} MB/s${p.rateLimit ? `  quota ${formatRateLimit(p.rateLimit)}` : ''}`,
    );
    for (const layer of p.blobs) if (layer.stalled) console.error(`  ${layer.stalled}`);
  };
}

/** `76 of 100 pulls left (per 6 h)`: Docker Hub's quota as its headers state it. */
function formatRateLimit(limit: RateLimit): string {
  const of = limit.limit !== undefined ? ` of ${limit.limit}` : '';
  const hours = limit.windowSeconds ? limit.windowSeconds / 3600 : undefined;
  const per = hours ? ` per ${Number.isInteger(hours) ? hours : hours.toFixed(1)} h` : '';
  return `${limit.remaining}${of} pulls left${per}`;
}

process.exitCode = await main();
