/**
 * The relay on the Workers runtime (Cloudflare Workers, or workerd locally with src/relay/workerd.capnp).
 * Configuration comes from the env bindings of the same names as the Node environment variables.
 *
 * workerd does not expose DNS, so names are not resolved here: IP literals and `localhost` names are checked
 * by the relay, and everything else by the platform's egress (Cloudflare refuses private destinations; the
 * local workerd.capnp allows only public addresses unless you choose its private-egress variant).
 */
import { type RelayEnv, relayConfigFromEnv } from './config.ts';
import { RelayError } from './errors.ts';
import { type RelayHandler, createRelay } from './handler.ts';

interface WorkerRequest extends Request {
  /** Set by the runtime: on Cloudflare it describes the edge; local workerd puts the peer in `clientIp` ("addr:port"). */
  cf?: { clientIp?: string };
}

let built: { env: RelayEnv; handler: RelayHandler } | { env: RelayEnv; error: string } | undefined;

function handlerFor(env: RelayEnv): RelayHandler | string {
  if (built?.env !== env) {
    try {
      built = { env, handler: createRelay(relayConfigFromEnv(withoutNulls(env))) };
    } catch (error) {
      built = { env, error: error instanceof Error ? error.message : String(error) };
    }
  }
  return 'handler' in built ? built.handler : built.error;
}

/** workerd passes an unset `fromEnvironment` binding as null: treat it as absent so defaults apply. */
function withoutNulls(env: RelayEnv): Record<string, unknown> {
  return Object.fromEntries(Object.entries(env).filter(([, value]) => value !== null && value !== undefined));
}

function clientAddress(request: WorkerRequest): string | undefined {
  const peer = request.cf?.clientIp;
  if (typeof peer !== 'string') return undefined;
  const bracketed = /^\[([^\]]+)\]:\d+$/.exec(peer);
  if (bracketed) return bracketed[1];
  return /^[0-9.]+:\d+$/.test(peer) ? peer.slice(0, peer.lastIndexOf(':')) : peer;
}

export default {
  async fetch(request: WorkerRequest, env: RelayEnv): Promise<Response> {
    const handler = handlerFor(env);
    if (typeof handler === 'string') {
      console.error(`skiff relay: bad configuration: ${handler}`);
      const error = new RelayError(500, 'bad-configuration', `The relay is misconfigured: ${handler}`);
      return Response.json({ error: { code: error.code, message: error.message } }, { status: error.status });
    }
    // Local workerd gives the peer address (a client-sent CF-Connecting-IP is then ignored); on Cloudflare
    // the edge sets CF-Connecting-IP, overwriting any value the client sent.
    const peer = clientAddress(request) ?? request.headers.get('cf-connecting-ip') ?? undefined;
    return handler(request, peer ? { clientAddress: peer } : {});
  },
};
