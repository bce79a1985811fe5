/**
 * The destination policy, in one place: which hosts the relay may contact (RELAY_ALLOW, the Docker Hub
 * mirror), whether they may be private addresses (RELAY_ALLOW_PRIVATE: checked here for IP literals and
 * `localhost` names, and by node-fetch.ts for the addresses a name resolves to), which scheme it speaks to
 * them, what an absolute URL (a redirect target, a token realm) may look like, and which names the Node
 * server answers to. Pure functions: the relay, node-fetch.ts and serve.ts call them.
 */
import { isLoopbackHost } from '../core/image/reference.ts';
import type { RelayConfig } from './config.ts';
import { RelayError } from './errors.ts';
import { type TargetHost, isLocalName, isPublicAddress, parseHost } from './hosts.ts';

export type DestinationPolicy = Pick<RelayConfig, 'allow' | 'allowPrivate' | 'plainHttp' | 'dockerHubMirror'>;

export interface Destination {
  host: TargetHost;
  scheme: 'http:' | 'https:';
  /** Whether the host may be (or resolve to) a private address. */
  allowPrivate: boolean;
}

/** The host a client named, or the Docker Hub mirror standing in for registry-1.docker.io. */
export function mirrored(policy: DestinationPolicy, host: TargetHost): TargetHost {
  const mirror = policy.dockerHubMirror;
  return mirror && host.hostname === 'registry-1.docker.io' && host.port === undefined ? mirror : host;
}

/** Allowlist and address checks for a host the relay is about to contact. */
export function destinationFor(policy: DestinationPolicy, target: TargetHost): Destination {
  const mirror = policy.dockerHubMirror;
  // The operator named the mirror, so it is allowed (its token realm too); it still needs RELAY_ALLOW_PRIVATE to be private.
  const isMirror = mirror !== undefined && target.hostname === mirror.hostname && target.port === mirror.port;
  if (!isMirror && !policy.allow.has(target)) {
    throw new RelayError(403, 'host-not-allowed', `${target.host} is not on this relay's allowlist (RELAY_ALLOW).`);
  }
  const allowPrivate = policy.allowPrivate.has(target);
  if (!allowPrivate && ((target.ip !== undefined && !isPublicAddress(target.ip)) || isLocalName(target.hostname))) {
    throw new RelayError(
      403,
      'private-address',
      `${target.host} is a private, loopback or link-local address; the relay only reaches those listed in RELAY_ALLOW_PRIVATE.`,
    );
  }
  return { host: target, scheme: schemeFor(policy, target), allowPrivate };
}

/** Plain http for hosts RELAY_PLAIN_HTTP lists, and for loopback ones as the engine (and Docker) do. */
export function schemeFor(policy: DestinationPolicy, target: TargetHost): 'http:' | 'https:' {
  return policy.plainHttp.has(target) || isLoopbackHost(target.host) ? 'http:' : 'https:';
}

/** The same checks for an absolute URL (a redirect target or a token realm): http(s), no user information. */
export function destinationForUrl(policy: DestinationPolicy, url: URL): Destination {
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new RelayError(403, 'scheme-not-allowed', `The relay only follows http and https URLs, not ${url.protocol}`);
  }
  if (url.username || url.password) throw new RelayError(403, 'bad-host', 'A URL with user information was refused.');
  const target = destinationFor(policy, parseHost(url.host));
  if (url.protocol === 'http:' && target.scheme !== 'http:') {
    throw new RelayError(
      403,
      'scheme-not-allowed',
      `${target.host.host} is reached over https only (RELAY_PLAIN_HTTP does not list it); refusing plain http.`,
    );
  }
  return { ...target, scheme: url.protocol };
}

/**
 * The addresses a name resolved to, checked at connect time (node-fetch.ts): any private answer refuses the
 * name, or a client could retry until the private one is dialled. Undefined when the connection may go ahead.
 */
export function refusedAddresses(
  hostname: string,
  addresses: readonly { address: string }[],
  allowPrivate: boolean,
): RelayError | undefined {
  if (allowPrivate || addresses.every((a) => isPublicAddress(a.address))) return undefined;
  return new RelayError(
    403,
    'private-address',
    `${hostname} resolves to a private, loopback or link-local address; the relay only reaches those listed in RELAY_ALLOW_PRIVATE.`,
  );
}

/**
 * Whether the Node server answers to a Host header: IP literals, localhost, and the RELAY_PUBLIC_URL host.
 * Against DNS rebinding: a foreign page whose name is re-pointed at this server would otherwise be
 * same-origin with it, and could use the relay (and any private registries it reaches) from the visitor's network.
 */
export function knownHost(host: string | undefined, publicUrl: string | undefined): boolean {
  if (host === undefined) return false;
  const name = host.toLowerCase().replace(/:\d+$/, '');
  if (publicUrl !== undefined && new URL(publicUrl).hostname === name) return true;
  return (
    name === 'localhost' ||
    name.endsWith('.localhost') ||
    /^\d+\.\d+\.\d+\.\d+$/.test(name) ||
    /^\[[0-9a-f:.]+\]$/.test(name)
  );
}
