/**
 * The relay in process, in front of the engine's own client, where only the network is replaced: a name
 * that does not resolve. What the client makes of the relay's answer is what the page tells the person.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSkiffError } from '../core/errors.ts';
import { RegistryClient } from '../core/registry/client.ts';
import { relayConfigFromEnv } from './config.ts';
import { type RelayHandler, createRelay } from './handler.ts';
import { type LookupAll, createNodeFetch } from './node-fetch.ts';

/** The relay as the client meets it over HTTP, where an answer to a HEAD has no body. */
function overHttp(relay: RelayHandler) {
  return async (url: string, init: RequestInit = {}) => {
    const response = await relay(new Request(url, init));
    if (init.method !== 'HEAD') return response;
    await response.body?.cancel();
    return new Response(null, { status: response.status, headers: response.headers });
  };
}

const noDns: LookupAll = (hostname, _options, callback) =>
  callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);

function clientThroughRelay(log: string[]): RegistryClient {
  const relay = createRelay(relayConfigFromEnv({}), {
    fetch: createNodeFetch({ lookup: noDns }),
    log: (line) => log.push(line),
  });
  return new RegistryClient('docker.io', {
    relay: 'http://127.0.0.1:8080/relay',
    retry: { attempts: 1 },
    fetch: overHttp(relay),
  });
}

describe('the relay’s own answers reach the client', () => {
  it('a HEAD to a registry whose name does not resolve is told as the relay not finding it', async () => {
    const log: string[] = [];
    const error = await clientThroughRelay(log)
      .headManifest('library/ngnix', 'latest')
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(isSkiffError(error, 'relay-refused'), String(error));
    assert.deepEqual(error.relay, { code: 'upstream-unreachable', host: 'registry-1.docker.io' });
    assert.match(error.message, /ENOTFOUND registry-1\.docker\.io/);
    assert.match(
      log.join('\n'),
      /HEAD registry-1\.docker\.io \/v2\/library\/ngnix\/manifests\/latest 502 .* upstream-unreachable/,
    );
  });

  it('a HEAD the relay refuses names the relay’s reason, not an answer from the registry', async () => {
    const relay = createRelay(relayConfigFromEnv({}), { log: () => {} });
    const client = new RegistryClient('nosuch.invalid', {
      relay: 'http://127.0.0.1:8080/relay',
      retry: { attempts: 1 },
      fetch: overHttp(relay),
    });
    const error = await client.headManifest('x', '1').then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(isSkiffError(error, 'relay-refused'), String(error));
    assert.deepEqual(error.relay, { code: 'host-not-allowed', host: 'nosuch.invalid' });
  });
});
