/**
 * Relay configuration from environment variables (Node) or bindings (Workers). Every value is checked at
 * start-up, so a typo stops the relay instead of silently widening or narrowing what it allows.
 */
import { HostList, type TargetHost, parseHost } from './hosts.ts';

/**
 * Registries and their blob CDNs that a public relay allows when RELAY_ALLOW is not set. Deliberately absent:
 * `*.cloudfront.net`, `*.amazonaws.com`, `storage.googleapis.com` and other shared hosting, where anyone can
 * publish content, which would make the relay a proxy for that content. Add the exact host a registry
 * redirects to (the relay's 403 names it) if you need one.
 */
export const DEFAULT_ALLOW: readonly string[] = [
  // Docker Hub: API, token service, blob CDNs (Cloudflare, then R2).
  'registry-1.docker.io',
  'auth.docker.io',
  'production.cloudflare.docker.com',
  'docker-images-prod.6aa30f8b08e16409b46e0173d6de2f56.r2.cloudflarestorage.com',
  'docker-images-prod.r2.cloudflarestorage.com',
  // GitHub Container Registry and its blob host.
  'ghcr.io',
  'pkg-containers.githubusercontent.com',
  // Quay and its CDN (cdn.quay.io, cdn01.quay.io, …).
  'quay.io',
  'cdn*.quay.io',
  // Google Container Registry and Artifact Registry.
  'gcr.io',
  '*.gcr.io',
  '*.pkg.dev',
  // registry.k8s.io sends blobs to Artifact Registry (*.pkg.dev) or, for AWS clients, to its own S3 buckets:
  // only bucket names starting prod-registry-k8s-io-, never S3 as a whole.
  'registry.k8s.io',
  'prod-registry-k8s-io-*.s3.dualstack.*.amazonaws.com',
  // Microsoft Container Registry and its regional data endpoints.
  'mcr.microsoft.com',
  '*.data.mcr.microsoft.com',
  // Amazon ECR Public (its token realm is public.ecr.aws/token/).
  'public.ecr.aws',
  // GitLab: registry, token realm (gitlab.com/jwt/auth; only token paths are relayed there) and blob CDN.
  'registry.gitlab.com',
  'gitlab.com',
  'cdn.registry.gitlab-static.net',
];

export interface RelayConfig {
  /** Path the relay is mounted under, without a trailing slash. */
  prefix: string;
  /** Registries, token services and CDNs the relay may contact. */
  allow: HostList;
  /** Hosts that may be (or resolve to) private, loopback or link-local addresses. They are allowed too. */
  allowPrivate: HostList;
  /** Registries the relay may write to (blob uploads, manifest PUTs); none by default. They are allowed for reads too. */
  allowPush: HostList;
  /** Hosts reached over plain http instead of https. */
  plainHttp: HostList;
  /** Origins whose pages may read answers: `'*'`, or a list; the relay's own origin is always allowed. */
  origins: '*' | readonly string[];
  /** Where requests for registry-1.docker.io go instead. */
  dockerHubMirror?: TargetHost;
  /** The relay's origin as browsers see it (behind a TLS proxy); default: the request's own origin. */
  publicUrl?: string;
  /** Request header that carries the client's address (set it only behind a proxy that overwrites it). */
  clientIpHeader?: string;
  /** Requests per minute per client (token bucket; the bucket holds one minute's worth). */
  ratePerMinute: number;
  /** Requests in flight per client, bodies included. */
  concurrency: number;
  /** Largest token POST body accepted. */
  tokenBodyLimit: number;
  /** Largest answer relayed from a token endpoint (they are small JSON documents). */
  tokenResponseLimit: number;
  /** Time allowed for upstream response headers, and for each gap between body chunks. */
  upstreamTimeoutMs: number;
  /** Node server: open connections in all, and per peer address (not counted behind RELAY_CLIENT_IP_HEADER). */
  maxConnections: number;
  maxConnectionsPerClient: number;
  /** Node server: time a client has to send a request's headers. */
  headerTimeoutMs: number;
}

/** Values as they come from process.env or Workers bindings (a missing workerd `fromEnvironment` is null). */
export type RelayEnv = Readonly<Record<string, unknown>>;

/** The variables read, for usage text and docs. */
export const RELAY_ENV_VARS = [
  'RELAY_ALLOW',
  'RELAY_ALLOW_PRIVATE',
  'RELAY_ALLOW_PUSH',
  'RELAY_PLAIN_HTTP',
  'RELAY_ORIGINS',
  'RELAY_DOCKERHUB_MIRROR',
  'RELAY_PUBLIC_URL',
  'RELAY_CLIENT_IP_HEADER',
  'RELAY_RATE_LIMIT',
  'RELAY_CONCURRENCY',
  'RELAY_MAX_CONNECTIONS',
  'RELAY_MAX_CONNECTIONS_PER_CLIENT',
  'RELAY_HEADER_TIMEOUT',
] as const;

function text(env: RelayEnv, name: string): string | undefined {
  const value = env[name];
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

export function splitList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

function positiveInteger(env: RelayEnv, name: string, fallback: number): number {
  const value = text(env, name);
  if (value === undefined) return fallback;
  if (!/^[0-9]+$/.test(value) || Number(value) < 1)
    throw new Error(`${name} must be a positive whole number, not ${JSON.stringify(value)}.`);
  return Number(value);
}

function hostList(name: string, items: string[]): HostList {
  try {
    return new HostList(items);
  } catch (error) {
    throw new Error(`${name}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

function origin(value: string, name: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${name}: ${JSON.stringify(value)} is not an origin like https://app.example.com`);
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.origin !== value.replace(/\/$/, '')) {
    throw new Error(
      `${name}: ${JSON.stringify(value)} is not an origin like https://app.example.com (scheme, host and port only)`,
    );
  }
  return url.origin;
}

export function relayConfigFromEnv(env: RelayEnv): RelayConfig {
  // "defaults" in RELAY_ALLOW stands for the built-in list, so intranet hosts can be added without retyping it.
  const allowItems =
    text(env, 'RELAY_ALLOW') === undefined
      ? [...DEFAULT_ALLOW]
      : splitList(text(env, 'RELAY_ALLOW')).flatMap((item) =>
          item.toLowerCase() === 'defaults' ? DEFAULT_ALLOW : [item],
        );
  const privateItems = splitList(text(env, 'RELAY_ALLOW_PRIVATE'));
  const pushItems = splitList(text(env, 'RELAY_ALLOW_PUSH'));

  const originsText = text(env, 'RELAY_ORIGINS');
  const origins = originsText === '*' ? '*' : splitList(originsText).map((o) => origin(o, 'RELAY_ORIGINS'));

  const mirrorText = text(env, 'RELAY_DOCKERHUB_MIRROR');
  let dockerHubMirror: TargetHost | undefined;
  if (mirrorText !== undefined) {
    try {
      dockerHubMirror = parseHost(mirrorText.replace(/^https?:\/\//, '').replace(/\/$/, ''));
    } catch (error) {
      throw new Error(`RELAY_DOCKERHUB_MIRROR: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
    }
  }
  const publicUrlText = text(env, 'RELAY_PUBLIC_URL');
  const clientIpHeader = text(env, 'RELAY_CLIENT_IP_HEADER')?.toLowerCase();
  if (clientIpHeader !== undefined && !/^[a-z0-9-]+$/.test(clientIpHeader))
    throw new Error(`RELAY_CLIENT_IP_HEADER: ${JSON.stringify(clientIpHeader)} is not a header name.`);

  return {
    prefix: '/relay',
    allow: hostList('RELAY_ALLOW', [...allowItems, ...privateItems, ...pushItems]),
    allowPrivate: hostList('RELAY_ALLOW_PRIVATE', privateItems),
    allowPush: hostList('RELAY_ALLOW_PUSH', pushItems),
    plainHttp: hostList('RELAY_PLAIN_HTTP', splitList(text(env, 'RELAY_PLAIN_HTTP'))),
    origins,
    ...(dockerHubMirror ? { dockerHubMirror } : {}),
    ...(publicUrlText !== undefined ? { publicUrl: origin(publicUrlText, 'RELAY_PUBLIC_URL') } : {}),
    ...(clientIpHeader !== undefined ? { clientIpHeader } : {}),
    ratePerMinute: positiveInteger(env, 'RELAY_RATE_LIMIT', 600),
    concurrency: positiveInteger(env, 'RELAY_CONCURRENCY', 16),
    tokenBodyLimit: 64 * 1024,
    tokenResponseLimit: 1024 * 1024,
    upstreamTimeoutMs: 30_000,
    maxConnections: positiveInteger(env, 'RELAY_MAX_CONNECTIONS', 2048),
    maxConnectionsPerClient: positiveInteger(env, 'RELAY_MAX_CONNECTIONS_PER_CLIENT', 64),
    headerTimeoutMs: positiveInteger(env, 'RELAY_HEADER_TIMEOUT', 10) * 1000,
  };
}
