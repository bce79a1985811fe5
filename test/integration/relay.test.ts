/**
 * The CORS relay against real registries on loopback (distribution 2.8, open and with token auth), a small
 * redirecting origin and a "CDN", run twice: as the Node server and on the real workerd binary. This file:
 * what it relays, byte for byte, with realms, redirects and headers as the engine needs them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RegistryClient } from '../../src/core/registry/client.ts';
import { parseWwwAuthenticate } from '../../src/core/registry/transport/challenge.ts';
import { startRelay, type RelayRuntime, type RelayServer } from '../support/relay.ts';
import type { Registry } from '../support/registry.ts';
import type { TokenServer } from '../support/token-server.ts';
import type { PushedImage } from '../support/images.ts';
import {
  ACCEPT,
  APP_ORIGIN,
  SECRET_BEARER,
  raw,
  refused,
  bytes,
  sha256,
  type RelayLab,
  startRelayLab,
} from '../support/relay-lab.ts';

describe('CORS relay', () => {
  let lab: RelayLab;
  let registry: Registry;
  let tokens: TokenServer;
  let secure: Registry;
  let cdn: RelayLab['cdn'];
  let origin: RelayLab['origin'];
  let unlisted: RelayLab['unlisted'];
  let image: PushedImage;
  let secureImage: PushedImage;
  let bigBlob: RelayLab['bigBlob'];
  let env: Record<string, string>;

  before(async () => {
    lab = await startRelayLab();
    ({ registry, tokens, secure, cdn, origin, unlisted, image, secureImage, bigBlob, env } = lab);
  });
  after(() => lab?.stop());

  for (const runtime of ['node', 'workerd'] as RelayRuntime[]) {
    describe(`on ${runtime}`, () => {
      let relay: RelayServer;
      before(async () => {
        relay = await startRelay(runtime, { env });
      });
      after(() => relay?.stop());

      it('relays a manifest and its blobs byte for byte, with the registry headers exposed', async () => {
        const manifestPath = `/v2/relay/app/manifests/v1`;
        const direct = await fetch(`${registry.url}${manifestPath}`, { headers: { accept: ACCEPT } });
        const relayed = await fetch(`${relay.base}/${registry.host}${manifestPath}`, {
          headers: { accept: ACCEPT, origin: APP_ORIGIN },
        });
        assert.equal(relayed.status, 200);
        const relayedBytes = await bytes(relayed);
        assert.deepEqual(relayedBytes, await bytes(direct));
        assert.deepEqual(new Uint8Array(relayedBytes), image.manifestBytes);
        assert.equal(relayed.headers.get('docker-content-digest'), image.manifestDigest);
        assert.equal(relayed.headers.get('content-type'), image.manifestMediaType);
        assert.equal(relayed.headers.get('content-length'), String(image.manifestBytes.byteLength));
        assert.equal(relayed.headers.get('access-control-allow-origin'), APP_ORIGIN);
        const exposed = (relayed.headers.get('access-control-expose-headers') ?? '').toLowerCase();
        for (const name of [
          'docker-content-digest',
          'www-authenticate',
          'content-range',
          'content-length',
          'etag',
          'retry-after',
          'docker-distribution-api-version',
        ]) {
          assert.ok(exposed.includes(name), `${name} is exposed`);
        }

        for (const blob of [
          { digest: image.configDigest, size: image.configBytes.byteLength },
          ...image.layers,
          { digest: bigBlob.digest, size: bigBlob.data.byteLength },
        ]) {
          const path = `/v2/relay/app/blobs/${blob.digest}`;
          const viaRelay = await fetch(`${relay.base}/${registry.host}${path}`);
          assert.equal(viaRelay.status, 200);
          assert.equal(viaRelay.headers.get('content-length'), String(blob.size), 'Content-Length survives the relay');
          const data = await bytes(viaRelay);
          assert.equal(sha256(data), blob.digest);
          assert.deepEqual(data, await bytes(await fetch(`${registry.url}${path}`)));
        }

        const head = await fetch(`${relay.base}/${registry.host}/v2/relay/app/blobs/${bigBlob.digest}`, {
          method: 'HEAD',
        });
        assert.equal(head.status, 200);
        assert.equal(head.headers.get('content-length'), String(bigBlob.data.byteLength));
        assert.equal(head.headers.get('docker-content-digest'), bigBlob.digest);

        const ranged = await fetch(`${relay.base}/${registry.host}/v2/relay/app/blobs/${bigBlob.digest}`, {
          headers: { range: 'bytes=1000-1999' },
        });
        assert.equal(ranged.status, 206);
        assert.equal(ranged.headers.get('content-range'), `bytes 1000-1999/${bigBlob.data.byteLength}`);
        assert.deepEqual(await bytes(ranged), bigBlob.data.subarray(1000, 2000));
      });

      it('lets the engine pull through it unchanged (open registry)', async () => {
        const client = new RegistryClient(registry.host, { relay: relay.base, retry: { attempts: 1 } });
        const manifest = await client.getManifest('relay/app', 'v1');
        assert.deepEqual(manifest.bytes, image.manifestBytes);
        const config = await client.getSmallBlob('relay/app', image.configDigest, image.configBytes.byteLength);
        assert.deepEqual(config, image.configBytes);
      });

      it('sends registry-1.docker.io requests to the configured mirror', async () => {
        const viaMirror = await fetch(`${relay.base}/registry-1.docker.io/v2/relay/app/manifests/v1`, {
          headers: { accept: ACCEPT },
        });
        assert.equal(viaMirror.status, 200);
        assert.deepEqual(new Uint8Array(await bytes(viaMirror)), image.manifestBytes);
      });

      it('rewrites the Bearer realm into the relay, and the token it yields works through the relay', async () => {
        const manifestUrl = `${relay.base}/${secure.host}/v2/relay/secure/manifests/v1`;
        const challenged = await fetch(manifestUrl, { headers: { accept: ACCEPT } });
        await challenged.body?.cancel();
        assert.equal(challenged.status, 401);
        const [challenge] = parseWwwAuthenticate(challenged.headers.get('www-authenticate') ?? '');
        assert.equal(challenge?.scheme, 'bearer');
        const tokenHost = new URL(tokens.url).host;
        assert.equal(challenge.params.realm, `${relay.base}/${tokenHost}/token`);
        assert.equal(challenge.params.service, tokens.service);
        assert.equal(challenge.params.scope, 'repository:relay/secure:pull');

        tokens.requests.length = 0;
        const realm = new URL(challenge.params.realm!);
        realm.searchParams.set('service', challenge.params.service!);
        realm.searchParams.set('scope', challenge.params.scope!);
        const tokenResponse = await fetch(realm, { headers: { accept: 'application/json' } });
        assert.equal(tokenResponse.status, 200);
        const { token } = (await tokenResponse.json()) as { token: string };
        assert.equal(tokens.requests.length, 1, 'the token request reached the token server through the relay');
        assert.deepEqual(tokens.requests[0]?.scopes, ['repository:relay/secure:pull']);

        const authorized = await fetch(manifestUrl, { headers: { accept: ACCEPT, authorization: `Bearer ${token}` } });
        assert.equal(authorized.status, 200);
        assert.deepEqual(new Uint8Array(await bytes(authorized)), secureImage.manifestBytes);

        // OAuth2 password grant: a form POST through the relay.
        const form = new URLSearchParams({
          grant_type: 'password',
          username: 'alice',
          password: 's3cret-password',
          service: tokens.service,
          scope: 'repository:relay/secure:pull',
          client_id: 'skiff',
        });
        const oauth = await fetch(realm.origin + realm.pathname, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: form,
        });
        assert.equal(oauth.status, 200);
        const { access_token: accessToken } = (await oauth.json()) as { access_token: string };
        assert.equal(tokens.requests.at(-1)?.account, 'alice');
        assert.equal(tokens.requests.at(-1)?.grantType, 'password');
        const withOauth = await fetch(manifestUrl, {
          headers: { accept: ACCEPT, authorization: `Bearer ${accessToken}` },
        });
        assert.equal(withOauth.status, 200);
        await withOauth.body?.cancel();

        // And the engine, given only the relay, finds its way through the challenge on its own.
        const client = new RegistryClient(secure.host, { relay: relay.base, retry: { attempts: 1 } });
        assert.deepEqual((await client.getManifest('relay/secure', 'v1')).bytes, secureImage.manifestBytes);
      });

      it('rebuilds challenges with realms it can relay, and passes others untouched', async () => {
        const rewritten = await fetch(`${relay.base}/127.0.0.1:${origin.port}/v2/r/manifests/challenge`);
        await rewritten.body?.cancel();
        assert.equal(rewritten.status, 401);
        const [bearer, basic] = parseWwwAuthenticate(rewritten.headers.get('www-authenticate') ?? '');
        assert.deepEqual(
          { ...bearer?.params },
          {
            realm: `${relay.base}/127.0.0.1:${origin.port}/oauth/token?x=1`,
            service: 'a "quoted", svc',
            scope: 'repository:r:pull',
          },
        );
        assert.equal(basic?.scheme, 'basic');
        assert.equal(basic?.params.realm, 'basic');

        const foreign = await fetch(`${relay.base}/127.0.0.1:${origin.port}/v2/r/manifests/challenge?foreign`);
        await foreign.body?.cancel();
        assert.equal(
          foreign.headers.get('www-authenticate'),
          'Bearer realm="https://auth.unlisted.example/token",service="svc"',
        );
        await refused(await raw(relay.url, '/relay/auth.unlisted.example/token'), 403, 'host-not-allowed');
      });

      it('follows redirects itself, dropping Authorization when the host changes', async () => {
        const cross = await fetch(`${relay.base}/127.0.0.1:${origin.port}/v2/r/blobs/cross`, {
          headers: { authorization: SECRET_BEARER, range: 'bytes=0-8' },
        });
        assert.equal(cross.status, 200);
        assert.equal(cross.headers.get('location'), null);
        assert.equal(await cross.text(), 'cdn-bytes');
        assert.equal(
          origin.requests.at(-1)?.headers.authorization,
          SECRET_BEARER,
          'the registry itself got the credentials',
        );
        const atCdn = cdn.requests.at(-1);
        assert.equal(atCdn?.path, '/blob?signature=abc');
        assert.equal(atCdn?.headers.authorization, undefined, 'no Authorization at the other host');
        assert.equal(atCdn?.headers.range, 'bytes=0-8', 'Range follows the redirect');

        const same = await fetch(`${relay.base}/127.0.0.1:${origin.port}/v2/r/blobs/same`, {
          headers: { authorization: SECRET_BEARER },
        });
        assert.equal(await same.text(), 'final');
        assert.equal(origin.requests.at(-1)?.path, '/v2/r/blobs/final');
        assert.equal(origin.requests.at(-1)?.headers.authorization, SECRET_BEARER, 'same host: credentials kept');

        await refused(await fetch(`${relay.base}/127.0.0.1:${origin.port}/v2/r/blobs/loop`), 502, 'too-many-redirects');
        const before = unlisted.requests.length;
        await refused(
          await fetch(`${relay.base}/127.0.0.1:${origin.port}/v2/r/blobs/elsewhere`),
          403,
          'redirect-not-allowed',
        );
        await refused(
          await fetch(`${relay.base}/127.0.0.1:${origin.port}/v2/r/blobs/userinfo`),
          403,
          'redirect-not-allowed',
        );
        assert.equal(unlisted.requests.length, before, 'a refused redirect target is never contacted');
      });

      it('forwards only the listed headers each way', async () => {
        const response = await fetch(`${relay.base}/127.0.0.1:${origin.port}/v2/r/manifests/echo`, {
          headers: {
            accept: ACCEPT,
            authorization: SECRET_BEARER,
            range: 'bytes=0-',
            'if-none-match': '"e0"',
            cookie: 'sid=secret',
            'x-forwarded-for': '1.2.3.4',
            'x-custom': 'no',
          },
        });
        assert.equal(response.status, 200);
        const received = (await response.json()) as Record<string, string>;
        assert.equal(received.accept, ACCEPT);
        assert.equal(received.authorization, SECRET_BEARER);
        assert.equal(received.range, 'bytes=0-');
        assert.equal(received['if-none-match'], '"e0"');
        for (const name of ['cookie', 'x-forwarded-for', 'x-custom', 'origin'])
          assert.equal(received[name], undefined, `${name} is not forwarded`);
        assert.equal(response.headers.get('docker-content-digest'), 'sha256:echo');
        assert.equal(response.headers.get('docker-distribution-api-version'), 'registry/2.0');
        assert.equal(response.headers.get('etag'), '"e1"');
        assert.equal(response.headers.get('set-cookie'), null);
        assert.equal(response.headers.get('x-internal'), null);
        assert.equal(
          response.headers.get('access-control-allow-origin'),
          null,
          "the upstream's own CORS headers are not passed",
        );
        assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
      });
    });
  }
});
