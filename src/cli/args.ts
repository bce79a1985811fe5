/**
 * The command line as every Skiff command reads it: a usage error prints the message and the usage (exit 2),
 * `--help` prints the usage (exit 0). Either way the caller gets the exit status instead of the values.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import type { RetryOptions } from '../core/registry/transport/retry.ts';
import { type WaitPolicy, scaledWaits } from '../core/registry/transport/waits.ts';

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

/** How the commands say their waits, in their usage. */
export const waitUsage = `environment:
  SKIFF_WAIT_SECONDS=N       give up on a registry that does not answer or keeps stalling after
                             about N s (default 60; every other wait is scaled to it)`;

/**
 * The wait policy's options for a command: SKIFF_WAIT_SECONDS scales every wait (tests use a few seconds),
 * and each request tried again is said on stderr, so a person sees that it is waiting and on what.
 */
export function waitOptions(quiet: boolean | undefined): { waits?: Partial<WaitPolicy>; retry: RetryOptions } {
  const seconds = Number(process.env.SKIFF_WAIT_SECONDS);
  const waits = Number.isFinite(seconds) && seconds > 0 ? { waits: scaledWaits(seconds * 1000) } : {};
  return { ...waits, retry: quiet ? {} : { onWait: (message) => console.error(`waiting: ${message}`) } };
}
