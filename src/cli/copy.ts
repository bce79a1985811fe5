/**
 * `npm run copy -- SRC DST [--platform os/arch[/variant] | all] [--user U --password P]
 *   [--dest-user U --dest-password P] [--relay URL]`, or `npm run copy -- -f LIST --to-prefix REGISTRY/PATH`
 * Registry to registry, streamed (no file in between), every blob checked; digests stay the same.
 */
import { readFileSync } from 'node:fs';
import { copyImage, copySet } from '../core/copy.ts';
import { parseImageList, parsePlatformSelection } from '../core/image/image-list.ts';
import { SkiffError } from '../core/errors.ts';
import { parsePlatform } from '../core/image/platform.ts';
import { parseCommandLine, waitOptions, waitUsage } from './args.ts';
import { printSetResult, setProgressPrinter } from './set-output.ts';

const usage = `usage: npm run copy -- SRC DST [options]
       npm run copy -- -f LIST --to-prefix REGISTRY/PATH [options]
  -f, --file LIST                 the images to copy: one a line (or spaces, commas; # comments), a line may
                                  add --platform all or --platform os/arch
  --to-prefix P                   each image of LIST under P: P + its repository path + its tag
  --platform os/arch[/var]|all    the image of a multi-platform index to copy (default linux/amd64), or all:
                                  the whole index byte for byte (for LIST: every line that names none)
  --all                           the same as --platform all
  --quiet                         no progress on stderr
  --user U --password P           credentials for both registries (or SKIFF_USER / SKIFF_PASSWORD)
  --dest-user U --dest-password P credentials for the target when they differ
  --relay URL                     send requests through a Skiff relay
  --plain-http HOST               reach this registry over http (repeatable; loopback always is)
${waitUsage}`;

async function main(): Promise<number> {
  const parsed = parseCommandLine(usage, {
    allowPositionals: true,
    options: {
      platform: { type: 'string' },
      file: { type: 'string', short: 'f' },
      'to-prefix': { type: 'string' },
      all: { type: 'boolean' },
      user: { type: 'string' },
      password: { type: 'string' },
      'dest-user': { type: 'string' },
      'dest-password': { type: 'string' },
      relay: { type: 'string' },
      'plain-http': { type: 'string', multiple: true },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const listed = values.file !== undefined;
  if (
    (listed ? positionals.length !== 0 || !values['to-prefix'] : positionals.length !== 2) ||
    (values.all && values.platform)
  ) {
    console.error(usage);
    return 2;
  }
  const username = values.user ?? process.env.SKIFF_USER;
  const password = values.password ?? process.env.SKIFF_PASSWORD;
  const destUser = values['dest-user'];
  const destPassword = values['dest-password'];
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  const started = Date.now();
  const transport = {
    ...(username !== undefined && password !== undefined ? { credentials: { username, password } } : {}),
    ...(destUser !== undefined && destPassword !== undefined
      ? { targetCredentials: { username: destUser, password: destPassword } }
      : {}),
    ...(values.relay ? { relay: values.relay } : {}),
    ...(values['plain-http'] ? { plainHttp: values['plain-http'] } : {}),
  };
  try {
    if (listed) {
      const list = parseImageList(readFileSync(values.file!, 'utf8'));
      const wrong = [
        ...list.problems.map((p) => `line ${p.line}: ${p.message}`),
        ...list.entries.filter((e) => e.error).map((e) => `line ${e.line}: ${e.error}`),
      ];
      if (wrong.length) {
        console.error(`${values.file}:\n  ${wrong.join('\n  ')}`);
        return 2;
      }
      const all = values.all || values.platform?.trim().toLowerCase() === 'all';
      const fallback = all ? ('all' as const) : values.platform ? parsePlatformSelection(values.platform) : [];
      const result = await copySet(
        list.entries.map((e) => ({
          reference: e.text,
          platforms: e.platforms === 'all' || e.platforms.length ? e.platforms : fallback,
        })),
        { prefix: values['to-prefix']! },
        {
          signal: controller.signal,
          ...waitOptions(values.quiet),
          ...transport,
          ...(values.quiet ? {} : { onProgress: setProgressPrinter(started) }),
        },
      );
      printSetResult(result, 'copied', started);
      return 0;
    }
    const [source, target] = positionals as [string, string];
    const result = await copyImage(source, target, {
      ...waitOptions(values.quiet),
      signal: controller.signal,
      ...(values.all || values.platform?.trim().toLowerCase() === 'all'
        ? { platform: 'all' as const }
        : values.platform
          ? { platform: parsePlatform(values.platform) }
          : {}),
      ...transport,
    });
    const tagged = result.index ?? { reference: result.images[0]!.reference, digest: result.images[0]!.manifestDigest };
    console.error(
      `copied ${source} → ${tagged.reference} (${tagged.digest}): ${result.copied} layer(s) copied (${(result.bytes / 1e6).toFixed(1)} MB), ${result.existing} already there, ${result.mounted} mounted, in ${((Date.now() - started) / 1000).toFixed(1)} s`,
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

process.exitCode = await main();
