/**
 * The write policy: uploads and manifest PUTs pass only to RELAY_ALLOW_PUSH hosts, and only from no page
 * (the CLI) or from a page whose whole origin is the relay's own or one RELAY_ORIGINS names. RELAY_ORIGINS=*
 * lets any page read, never write.
 */
import type { RelayConfig } from './config.ts';
import { isNamedOrigin } from './cors.ts';
import { RelayError } from './errors.ts';
import type { TargetHost } from './hosts.ts';

export function checkWrite(
  config: Pick<RelayConfig, 'allowPush' | 'origins'>,
  host: TargetHost,
  origin: string | null,
  own: readonly string[],
): void {
  if (!config.allowPush.has(host)) {
    throw new RelayError(
      403,
      'push-not-allowed',
      `${host.host} is not on this relay's push list (RELAY_ALLOW_PUSH): the relay does not write to it.`,
    );
  }
  if (origin !== null && !isNamedOrigin(origin, own, config.origins)) {
    throw new RelayError(
      403,
      'origin-not-allowed',
      `Pages from ${origin} may not push through this relay (RELAY_ORIGINS must name them; behind a TLS proxy, set RELAY_PUBLIC_URL).`,
    );
  }
}
