/**
 * `npm run copy -- SRC DST [--platform os/arch[/variant] | --all] [--user U --password P]
 *   [--dest-user U --dest-password P] [--relay URL]`
 * Registry to registry, streamed (no file in between), every blob checked; digests stay the same.
 */
import { copyImage } from '../core/copy.ts';
import { SkiffError } from '../core/errors.ts';
import { parsePlatform } from '../core/platform.ts';
import { parseCommandLine, waitOptions, waitUsage } from './args.ts';

const usage = `usage: npm run copy -- SRC DST [options]
  --platform os/arch[/var]        the image of a multi-platform index to copy (default linux/amd64)
  --all                           copy the whole index, every platform
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
  if (positionals.length !== 2 || (values.all && values.platform)) {
    console.error(usage);
    return 2;
  }
  const [source, target] = positionals as [string, string];
  const username = values.user ?? process.env.SKIFF_USER;
  const password = values.password ?? process.env.SKIFF_PASSWORD;
  const destUser = values['dest-user'];
  const destPassword = values['dest-password'];
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  const started = Date.now();
  try {
    const result = await copyImage(source, target, {
      ...waitOptions(false),
      signal: controller.signal,
      ...(values.all
        ? { platform: 'all' as const }
        : values.platform
          ? { platform: parsePlatform(values.platform) }
          : {}),
      ...(username !== undefined && password !== undefined ? { credentials: { username, password } } : {}),
      ...(destUser !== undefined && destPassword !== undefined
        ? { targetCredentials: { username: destUser, password: destPassword } }
        : {}),
      ...(values.relay ? { relay: values.relay } : {}),
      ...(values['plain-http'] ? { plainHttp: values['plain-http'] } : {}),
    });
    console.error(
      `copied ${source} → ${result.target} (${result.digest}): ${result.copied} blob(s) copied (${(result.bytes / 1e6).toFixed(1)} MB), ${result.existing} already there, ${result.mounted} mounted, in ${((Date.now() - started) / 1000).toFixed(1)} s`,
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
