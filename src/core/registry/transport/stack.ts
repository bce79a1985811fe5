/**
 * The fetch layers under a registry client, composed here and nowhere else. From the wire up: the
 * platform's fetch → the relay (rewrites URLs through the CORS relay) → redirects (followed by hand, so
 * credentials never follow to a CDN) → retries (429/5xx, network failures, within the wait policy) → auth
 * (401 challenges, tokens per scope). Foreign layer URLs get the stack without auth.
 */
import { isLoopbackHost, registryApiHost } from '../../image/reference.ts';
import { RegistryAuth } from './auth.ts';
import { type Fetcher, platformFetch } from './fetcher.ts';
import type { TransportOptions } from './options.ts';
import { withRedirects } from './redirects.ts';
import { withRelay } from './relay.ts';
import { withRetry } from './retry.ts';
import { type WaitPolicy, waitPolicy } from './waits.ts';

export interface ClientRole {
  /** Ask for push rights as well as pull (uploads, manifest PUTs). */
  push?: boolean;
}

export interface RegistryTransport {
  /** `https://host` (or `http://` for loopback and plain-http hosts) of the registry's API. */
  baseUrl: string;
  /** The relay base URL without a trailing slash, when requests go through one. */
  relay: string | undefined;
  /** Authenticated requests to the registry. */
  fetch: Fetcher;
  /** The stack without auth, for foreign layer URLs: credentials never go there. */
  anonymousFetch: Fetcher;
  /** The bounds of every wait of this registry's requests (waits.ts). */
  waits: WaitPolicy;
  bodyDeadlineMs: number | undefined;
  /** Told each time a request is tried again (the CLI says it on stderr). */
  onWait: ((message: string) => void) | undefined;
}

export function registryTransport(
  registry: string,
  options: TransportOptions,
  role: ClientRole = {},
): RegistryTransport {
  const relay = options.relay ? options.relay.replace(/\/+$/, '') : undefined;
  const host =
    registry === 'docker.io' && options.dockerHubMirror ? options.dockerHubMirror : registryApiHost(registry);
  const plain =
    isLoopbackHost(host) ||
    (options.plainHttp ?? []).some(
      (h) => h.toLowerCase() === host.toLowerCase() || h.toLowerCase() === registry.toLowerCase(),
    );
  const baseUrl = `${plain ? 'http' : 'https'}://${host}`;
  const waits = waitPolicy(options);
  const anonymousFetch = withRetry(
    withRedirects(withRelay(options.fetch ?? platformFetch, options.relay)),
    waits,
    options.retry,
  );
  const credentials = typeof options.credentials === 'function' ? options.credentials(registry) : options.credentials;
  const auth = new RegistryAuth(anonymousFetch, new URL(baseUrl).origin, {
    credentials,
    policy: waits,
    ...(options.bodyDeadlineMs !== undefined ? { bodyDeadlineMs: options.bodyDeadlineMs } : {}),
    ...(role.push ? { push: true } : {}),
  });
  return {
    baseUrl,
    relay,
    fetch: auth.fetch,
    anonymousFetch,
    waits,
    bodyDeadlineMs: options.bodyDeadlineMs,
    onWait: options.retry?.onWait,
  };
}
