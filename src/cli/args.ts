/**
 * The command line as every Skiff command reads it: a usage error prints the message and the usage (exit 2),
 * `--help` prints the usage (exit 0). Either way the caller gets the exit status instead of the values.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';

export function parseCommandLine<const T extends ParseArgsConfig>(
  usage: string,
  config: T,
): ReturnType<typeof parseArgs<T>> | number {
  let parsed: ReturnType<typeof parseArgs<T>>;
  try {
    parsed = parseArgs(config);
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    return 2;
  }
  if ((parsed.values as { help?: boolean }).help) {
    console.log(usage);
    return 0;
  }
  return parsed;
}
