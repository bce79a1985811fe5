/**
 * `npm run pull -- REF [REF…] -o FILE [--platform os/arch[/variant]] [--user U --password P]
 *   [--layers uncompressed|as-pulled] [--parallel N] [--relay URL] [--mirror HOST] [--plain-http HOST]…`
 * The engine from Node: for tests, benchmarks and anyone with Node. Writes FILE.partial and renames it
 * only when the archive is complete and verified.
 */
import { open, rename, rm } from 'node:fs/promises';
import { SkiffError } from '../core/errors.ts';
import { parsePlatform } from '../core/platform.ts';
import { type LayerMode, type PullProgress, type RateLimit, pull } from '../core/pull.ts';
import { startSha256Thread } from './sha256-thread.ts';
import { parseCommandLine, waitOptions, waitUsage } from './args.ts';

const usage = `usage: npm run pull -- REF [REF…] -o FILE [options]
  -o, --output FILE          archive to write (required)
  --platform os/arch[/var]   image of a multi-platform index to take (default linux/amd64)
  --user U --password P      credentials for the registry (or SKIFF_USER / SKIFF_PASSWORD)
  --layers MODE              uncompressed (default, like docker save) or as-pulled (smaller, faster)
  --skip-diff-ids            as-pulled only: do not inflate layers to check their diff_ids (blob
                             digests are still checked; docker load checks diff_ids itself)
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
  if (!values.output || positionals.length === 0) {
    console.error(usage);
    return 2;
  }
  const layers = (values.layers ?? 'uncompressed') as LayerMode;
  if (layers !== 'uncompressed' && layers !== 'as-pulled') {
    console.error(`--layers must be uncompressed or as-pulled, not "${values.layers}"`);
    return 2;
  }
  if (values['skip-diff-ids'] && layers !== 'as-pulled') {
    console.error('--skip-diff-ids needs --layers as-pulled: uncompressed layers are named by their checked diff_id');
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
  // Inflated layers are hashed on a second thread while this one inflates.
  const hashThread = startSha256Thread();
  const file = fileSink(partial);
  if (!values.quiet) console.error(`looking up ${positionals.join(', ')}…`);
  try {
    const result = await pull(positionals, file.sink, {
      ...waitOptions(values.quiet),
      layers,
      signal: controller.signal,
      layerSha256: hashThread.factory,
      ...(values['skip-diff-ids'] ? { verifyDiffIds: false } : {}),
      ...(parallel !== undefined ? { parallel } : {}),
      ...(values.platform ? { platform: parsePlatform(values.platform) } : {}),
      ...(username !== undefined && password !== undefined ? { credentials: { username, password } } : {}),
      ...(values.relay ? { relay: values.relay } : {}),
      ...(values.mirror ? { dockerHubMirror: values.mirror } : {}),
      ...(values['plain-http'] ? { plainHttp: values['plain-http'] } : {}),
      ...(progress ? { onProgress: progress, progressIntervalMs: 1000 } : {}),
    });
    await rename(partial, output);
    const seconds = (Date.now() - started) / 1000;
    for (const image of result.images) {
      console.error(
        `${image.reference} (${image.platform}) → ID ${image.configDigest}${image.repoTags.length ? `, tag ${image.repoTags.join(' ')}` : ', untagged'}`,
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
  return (p: PullProgress) => {
    const done = p.layers.filter((l) => l.state === 'done' || l.state === 'shared').length;
    const mb = (n: number) => (n / 1e6).toFixed(1);
    const rate = p.received / 1e6 / Math.max(0.001, (Date.now() - started) / 1000);
    console.error(
      `layers ${done}/${p.layers.length}  received ${mb(p.received)}/${mb(p.expected)} MB  written ${mb(p.written)} MB  ${rate.toFixed(1)} MB/s${p.rateLimit ? `  quota ${formatRateLimit(p.rateLimit)}` : ''}`,
    );
    for (const layer of p.layers) if (layer.stalled) console.error(`  ${layer.stalled}`);
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
