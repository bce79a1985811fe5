/**
 * What the relay refuses, on Node and on workerd against real registries: hosts off the allowlist, private
 * addresses, other methods and bodies, path tricks, foreign origins; and what it logs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startRelay, type RelayRuntime, type RelayServer } from '../support/relay.ts';
import type { Registry } from '../support/registry.ts';
import type { TokenServer } from '../support/token-server.ts';
import {
  ACCEPT,
  FOREIGN_ORIGIN,
  SECRET_BEARER,
  APP_ORIGIN,
  raw,
  refused,
  errorCode,
  type RelayLab,
  startRelayLab,
} from '../support/relay-lab.ts';

describe('CORS relay refusals', () => {
  let lab: RelayLab;
  let registry: Registry;
  let tokens: TokenServer;
  let origin: RelayLab['origin'];
  let unlisted: RelayLab['unlisted'];
  let env: Record<string, string>;

  before(async () => {
    lab = await startRelayLab();
    ({ registry, tokens, origin, unlisted, env } = lab);
  });
  after(() => lab?.stop());

  for (const runtime of ['node', 'workerd'] as RelayRuntime[]) {
    describe(`refusals on ${runtime}`, () => {
      let relay: RelayServer;
      before(async () => {
        relay = await startRelay(runtime, { env });
      });
      after(() => relay?.stop());

      it('refuses hosts off the allowlist and private addresses', async () => {
        const before = unlisted.requests.length;
        await refused(await raw(relay.url, `/relay/example.com/v2/`), 403, 'host-not-allowed');
        await refused(await raw(relay.url, `/relay/127.0.0.1:${unlisted.port}/v2/x`), 403, 'host-not-allowed');
        await refused(await raw(relay.url, `/relay/localhost:${unlisted.port}/v2/`), 403, 'host-not-allowed');
        assert.equal(unlisted.requests.length, before);
        const registryPort = registry.host.split(':')[1];
        // On the allowlist, but not as private: refused for the address (a name that means loopback included).
        for (const host of [`localhost:${registryPort}`, '10.0.0.1:5000', '[::1]:5000', '169.254.169.254']) {
          await refused(await raw(relay.url, `/relay/${host}/v2/`), 403, 'private-address');
        }
      });

      it('refuses other methods, bodies outside token POSTs, and oversized or mistyped token bodies', async () => {
        const manifest = `/relay/${registry.host}/v2/relay/app/manifests/v1`;
        for (const method of ['DELETE', 'PATCH']) {
          const response = await raw(relay.url, manifest, {
            method,
            body: '{}',
            headers: { 'content-type': 'application/json' },
          });
          await refused(response, 405, 'method-not-allowed');
          assert.match(String(response.headers.allow), /GET/);
        }
        await refused(
          await raw(relay.url, manifest, {
            method: 'POST',
            body: 'x=1',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
          }),
          405,
          'method-not-allowed',
        );
        // Writes (uploads, manifest PUTs) go only to hosts on RELAY_ALLOW_PUSH, which is empty here.
        await refused(
          await raw(relay.url, `/relay/${registry.host}/v2/relay/app/blobs/uploads/`, { method: 'POST' }),
          403,
          'push-not-allowed',
        );
        await refused(
          await raw(relay.url, manifest, {
            method: 'PUT',
            body: '{}',
            headers: { 'content-type': 'application/json' },
          }),
          403,
          'push-not-allowed',
        );
        await refused(
          await raw(relay.url, manifest, { method: 'GET', body: 'hello', headers: { 'content-length': '5' } }),
          400,
          'body-not-allowed',
        );

        const tokenPath = `/relay/${new URL(tokens.url).host}/token`;
        await refused(
          await raw(relay.url, tokenPath, {
            method: 'POST',
            body: '{}',
            headers: { 'content-type': 'application/json' },
          }),
          415,
          'unsupported-media-type',
        );
        const big = `grant_type=password&username=alice&password=${'x'.repeat(70 * 1024)}`;
        await refused(
          await raw(relay.url, tokenPath, {
            method: 'POST',
            body: big,
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
          }),
          413,
          'body-too-large',
        );
        // Token endpoints answer small JSON: a large answer is cut off.
        await refused(await raw(relay.url, `/relay/127.0.0.1:${origin.port}/v2/token`), 502, 'upstream-too-large');
      });

      it('refuses path tricks', async () => {
        const host = registry.host;
        const cases: [string, number, string][] = [
          [`/relay/${host}/v2/%2e%2e/%2e%2e/example.com/v2/`, 400, 'bad-path'],
          [`/relay/${host}/v2/.%2E/x`, 400, 'bad-path'],
          [`/relay/${host}/v2/relay%2Fapp/manifests/v1`, 400, 'bad-path'],
          [`/relay/${host}/v2/relay%2fapp/manifests/v1`, 400, 'bad-path'],
          [`/relay/${host}/v2/relay%5capp/manifests/v1`, 400, 'bad-path'],
          [`/relay/${host}/v2/a%00b`, 400, 'bad-path'],
          [`/relay/user@${host}/v2/`, 400, 'bad-host'],
          [`/relay/user:pw@${host}/v2/`, 400, 'bad-host'],
          [`/relay/127.0.0.1:99999/v2/`, 400, 'bad-port'],
          [`/relay/127.0.0.1:0/v2/`, 400, 'bad-port'],
          [`/relay/127.1:${host.split(':')[1]}/v2/`, 400, 'bad-host'],
          [`/relay/2130706433:${host.split(':')[1]}/v2/`, 400, 'bad-host'],
          [`/relay/${host}/debug/vars`, 403, 'path-not-allowed'],
          [`/relay/${host}/`, 403, 'path-not-allowed'],
          [`/relay/${host}`, 403, 'path-not-allowed'],
          [`/relay/`, 400, 'bad-host'],
        ];
        cases.push(
          [`/relay/${host}/v2/../../example.com/v2/`, 400, 'bad-path'],
          [`/relay/${host}/v2/./relay/app/manifests/v1`, 400, 'bad-path'],
          [`/relay/${host}/v2/relay//app/manifests/v1`, 400, 'bad-path'],
          [`/relay//v2/`, 400, 'bad-host'],
          [`/relay/${host}/v2\\..\\x`, 400, 'bad-path'],
        );
        for (const [path, status, code] of cases) {
          const response = await raw(relay.url, path);
          assert.equal(response.status, status, `${path}: ${response.body.toString().slice(0, 300)}`);
          assert.equal(errorCode(response), code, path);
        }
      });

      it('answers preflights for allowed origins only', async () => {
        const path = `/relay/${registry.host}/v2/relay/app/manifests/v1`;
        const preflight = (originHeader: string, method = 'GET') =>
          raw(relay.url, path, {
            method: 'OPTIONS',
            headers: {
              origin: originHeader,
              'access-control-request-method': method,
              'access-control-request-headers': 'authorization, range',
            },
          });
        const ok = await preflight(APP_ORIGIN);
        assert.equal(ok.status, 204);
        assert.equal(ok.headers['access-control-allow-origin'], APP_ORIGIN);
        assert.match(String(ok.headers['access-control-allow-methods']), /GET/);
        assert.match(String(ok.headers['access-control-allow-methods']), /HEAD/);
        assert.match(String(ok.headers['access-control-allow-methods']), /POST/);
        for (const name of ['Authorization', 'Accept', 'Range', 'Content-Type'])
          assert.match(String(ok.headers['access-control-allow-headers']), new RegExp(name));
        assert.ok(Number(ok.headers['access-control-max-age']) > 0);

        // The relay's own origin (the app served beside it) is always allowed.
        const own = await preflight(relay.url);
        assert.equal(own.status, 204);
        assert.equal(own.headers['access-control-allow-origin'], relay.url);

        const foreign = await preflight(FOREIGN_ORIGIN);
        await refused(foreign, 403, 'origin-not-allowed');
        assert.equal(foreign.headers['access-control-allow-origin'], undefined);
        await refused(await raw(relay.url, path, { headers: { origin: FOREIGN_ORIGIN } }), 403, 'origin-not-allowed');
        await refused(await preflight(APP_ORIGIN, 'DELETE'), 405, 'method-not-allowed');
        // A no-cors load from another site carries no Origin, but Fetch Metadata gives it away.
        await refused(
          await raw(relay.url, path, { headers: { 'sec-fetch-site': 'cross-site' } }),
          403,
          'origin-not-allowed',
        );
        assert.equal(
          (await raw(relay.url, path, { headers: { 'sec-fetch-site': 'same-origin', accept: ACCEPT } })).status,
          200,
        );
      });

      it('logs one line per request without credentials or queries', async () => {
        // Requests that carry secrets: a bearer token and a query on a read, a password in a token form, a
        // scope in a token query, and a redirect to a signed URL.
        const read = await fetch(`${relay.base}/${registry.host}/v2/relay/app/manifests/v1?sid=secret`, {
          headers: { accept: ACCEPT, authorization: SECRET_BEARER },
        });
        await read.body?.cancel();
        const tokenHost = new URL(tokens.url).host;
        const form = await fetch(`${relay.base}/${tokenHost}/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'grant_type=password&username=alice&password=s3cret-password&service=x&scope=repository:relay/app:pull',
        });
        await form.body?.cancel();
        await (await fetch(`${relay.base}/${tokenHost}/token?scope=repository:relay/app:pull`)).body?.cancel();
        await (await fetch(`${relay.base}/127.0.0.1:${origin.port}/v2/r/blobs/cross`)).body?.cancel();
        const line = new RegExp(
          `GET ${registry.host.replace(/\./g, '\\.')} /v2/relay/app/manifests/v1 200 \\d+B \\d+ms`,
        );
        for (let i = 0; i < 40 && !line.test(relay.output()); i++) await new Promise((r) => setTimeout(r, 50));
        const log = relay.output();
        assert.match(
          log,
          new RegExp(`GET ${registry.host.replace(/\./g, '\\.')} /v2/relay/app/manifests/v1 200 \\d+B \\d+ms`),
        );
        assert.match(log, /403 0B \d+ms host-not-allowed/);
        for (const secret of [
          'relay-test-secret-token',
          's3cret-password',
          'eyJ',
          'scope=',
          'signature=abc',
          'sid=secret',
        ]) {
          assert.ok(!log.includes(secret), `the log must not contain ${secret}`);
        }
      });
    });
  }
});
