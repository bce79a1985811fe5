/** `npm start`'s command line: each setting as a flag or as the environment variable named beside it. */
import type { RelayEnv } from './config.ts';

const FLAGS: Record<string, string> = {
  '--port': 'PORT',
  '--host': 'HOST',
  '--allow': 'RELAY_ALLOW',
  '--allow-private': 'RELAY_ALLOW_PRIVATE',
  '--allow-push': 'RELAY_ALLOW_PUSH',
  '--plain-http': 'RELAY_PLAIN_HTTP',
  '--origins': 'RELAY_ORIGINS',
  '--mirror': 'RELAY_DOCKERHUB_MIRROR',
  '--public-url': 'RELAY_PUBLIC_URL',
  '--client-ip-header': 'RELAY_CLIENT_IP_HEADER',
  '--rate-limit': 'RELAY_RATE_LIMIT',
  '--concurrency': 'RELAY_CONCURRENCY',
  '--max-connections': 'RELAY_MAX_CONNECTIONS',
  '--max-connections-per-client': 'RELAY_MAX_CONNECTIONS_PER_CLIENT',
  '--header-timeout': 'RELAY_HEADER_TIMEOUT',
  '--dist': 'RELAY_DIST',
};

export const USAGE = `Usage: node --import tsx src/relay/serve.ts [flags]   (npm start builds the app first)

Serves the app from dist/ and the CORS relay at /relay/<registry-host>/v2/...
Each flag also reads from the environment variable named beside it; flags win.

  --port N                PORT                    listen port (default 8080)
  --host ADDR             HOST                    listen address (default 127.0.0.1)
  --allow LIST            RELAY_ALLOW             registries the relay may reach: host[:port], *.suffix, cdn*.example.com;
                                                  "defaults" stands for the built-in public list (the default)
  --allow-private LIST    RELAY_ALLOW_PRIVATE     hosts allowed to be private/loopback addresses (also allowed by this)
  --allow-push LIST       RELAY_ALLOW_PUSH        registries the relay may push to (uploads, manifest PUTs); none by default
  --plain-http LIST       RELAY_PLAIN_HTTP        hosts reached over http instead of https
  --origins LIST          RELAY_ORIGINS           origins whose pages may use the relay, or * (default: its own origin)
  --mirror HOST[:PORT]    RELAY_DOCKERHUB_MIRROR  send registry-1.docker.io requests to this mirror
  --public-url URL        RELAY_PUBLIC_URL        the origin browsers use, when behind a TLS-terminating proxy
  --client-ip-header NAME RELAY_CLIENT_IP_HEADER  take the client address from this header (only behind a proxy that sets it)
  --rate-limit N          RELAY_RATE_LIMIT        requests per minute per client (default 600)
  --concurrency N         RELAY_CONCURRENCY       requests in flight per client (default 128)
  --max-connections N     RELAY_MAX_CONNECTIONS   open connections in all (default 2048)
  --max-connections-per-client N
                          RELAY_MAX_CONNECTIONS_PER_CLIENT  open connections per peer address (default 64;
                                                  not applied behind RELAY_CLIENT_IP_HEADER)
  --header-timeout S      RELAY_HEADER_TIMEOUT    seconds a client has to send a request's headers (default 10)
  --dist DIR              RELAY_DIST              the built app (default dist/)
`;

/** Flags (`--allow a,b` or `--allow=a,b`) over the environment. */
export function envFromArgs(argv: readonly string[], env: RelayEnv): Record<string, unknown> {
  const out: Record<string, unknown> = { ...env };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const flag = eq < 0 ? arg : arg.slice(0, eq);
    const name = FLAGS[flag];
    if (!name) throw new Error(`Unknown argument ${JSON.stringify(arg)}.\n\n${USAGE}`);
    const value = eq < 0 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined) throw new Error(`${flag} needs a value.`);
    out[name] = value;
  }
  return out;
}
