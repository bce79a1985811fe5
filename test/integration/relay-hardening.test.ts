/**
 * The relay's hardening, on Node and on workerd: exact origins, one Host, token forms kept to their host,
 * abandoned uploads, plain http where the engine uses it, and the per-client limits.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Socket, connect } from 'node:net';
import { startRelay, type RelayRuntime, type RelayServer } from '../support/relay.ts';
import type { Registry } from '../support/registry.ts';
import type { PushedImage } from '../support/images.ts';
import { ACCEPT, raw, refused, type RawResponse, type RelayLab, startRelayLab } from '../support/relay-lab.ts';

describe('CORS relay hardening', () => {
  let lab: RelayLab;
  let registry: Registry;
  let cdn: RelayLab['cdn'];
  let origin: RelayLab['origin'];
  let image: PushedImage;
  let loopbackName: string | undefined;
  let env: Record<string, string>;

  before(async () => {
    lab = await startRelayLab();
    ({ registry, cdn, origin, image, loopbackName, env } = lab);
  });
  after(() => lab?.stop());

  for (const runtime of ['node', 'workerd'] as RelayRuntime[]) {
    describe(`hardening on ${runtime}`, () => {
      let relay: RelayServer;
      before(async () => {
        relay = await startRelay(runtime, { env: { ...env, RELAY_CONCURRENCY: '4' } });
      });
      after(() => relay?.stop());
      const own = () => new URL(relay.url).origin;

      it('gives CORS headers to exact origins only: not another scheme or user information on its host', async () => {
        const path = `/relay/${registry.host}/v2/`;
        const ok = await raw(relay.url, path, { headers: { origin: own() } });
        assert.equal(ok.status, 200);
        assert.equal(ok.headers['access-control-allow-origin'], own());
        const { host } = new URL(relay.url);
        for (const other of [`https://${host}`, `http://x@${host}`, `http://${host}.`, 'null']) {
          const response = await raw(relay.url, path, { headers: { origin: other } });
          assert.equal(response.headers['access-control-allow-origin'], undefined, `${other} gets no CORS header`);
          await refused(response, 403, 'origin-not-allowed');
        }
      });

      it('refuses a request with two Host headers', async () => {
        const { hostname: h, port } = new URL(relay.url);
        const answer = await new Promise<string>((done, fail) => {
          const socket = connect(Number(port), h, () => {
            socket.end(
              `GET /relay/${registry.host}/v2/ HTTP/1.1\r\nHost: ${h}:${port}\r\nHost: evil.example\r\nConnection: close\r\n\r\n`,
            );
          });
          let data = '';
          socket.on('data', (c: Buffer) => (data += c.toString()));
          socket.on('end', () => done(data));
          socket.on('error', fail);
        });
        assert.match(answer, /^HTTP\/1\.1 400 /, answer.slice(0, 200));
      });

      it('never re-sends a token form to another host on a 307', async () => {
        const before = cdn.requests.length;
        const response = await raw(relay.url, `/relay/127.0.0.1:${origin.port}/moved/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'grant_type=password&username=alice&password=s3cret-password',
        });
        await refused(response, 502, 'redirect-not-allowed');
        assert.equal(cdn.requests.length, before, 'the other host got no request at all');
        // The message names the host that redirected, then where it pointed.
        assert.match(
          JSON.parse(response.body.toString()).error.message,
          new RegExp(`^127\\.0\\.0\\.1:${origin.port} redirected a token request \\(307\\) to localhost:${cdn.port};`),
        );
      });

      it('names a file: redirect target in its refusal', async () => {
        const response = await raw(relay.url, `/relay/127.0.0.1:${origin.port}/v2/r/blobs/file`);
        await refused(response, 403, 'redirect-not-allowed');
        assert.match(JSON.parse(response.body.toString()).error.message, /redirected to file:\/\/\/etc\/passwd, which/);
      });

      it('counts token POSTs still uploading their body among the requests in flight', async () => {
        const { hostname: h, port } = new URL(relay.url);
        const logStart = relay.output().length;
        const uploads = await Promise.all(
          Array.from(
            { length: 4 },
            () =>
              new Promise<Socket>((done) => {
                const socket = connect(Number(port), h, () => {
                  socket.write(
                    `POST /relay/127.0.0.1:${origin.port}/moved/token HTTP/1.1\r\nHost: ${h}:${port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nusername=a`,
                  );
                  done(socket);
                });
                socket.on('error', () => {});
              }),
          ),
        );
        try {
          await new Promise((r) => setTimeout(r, 500));
          await refused(await raw(relay.url, `/relay/${registry.host}/v2/`), 429, 'too-many-in-flight');
        } finally {
          for (const socket of uploads) socket.destroy();
        }
        // The client gave up on those: the log says so, not that the relay failed.
        const logged = () =>
          relay
            .output()
            .slice(logStart)
            .split('\n')
            .filter((l) => /POST .*\/moved\/token/.test(l));
        for (let i = 0; i < 50 && logged().length < 4; i++) await new Promise((r) => setTimeout(r, 100));
        const lines = logged();
        assert.equal(lines.length, 4, relay.output().slice(logStart));
        for (const line of lines) assert.match(line, / 499 0B \d+ms client-closed$/);
      });
    });

    describe(`plain http on ${runtime}`, () => {
      it('reaches loopback registries over plain http without RELAY_PLAIN_HTTP, as the engine does', async () => {
        const relay = await startRelay(runtime, { env: { ...env, RELAY_PLAIN_HTTP: '' } });
        try {
          const response = await raw(relay.url, `/relay/${registry.host}/v2/relay/app/manifests/v1`, {
            headers: { accept: ACCEPT },
          });
          assert.equal(response.status, 200, response.body.toString());
          assert.deepEqual(new Uint8Array(response.body), image.manifestBytes);
        } finally {
          await relay.stop();
        }
      });

      it('names RELAY_PLAIN_HTTP when https fails against a plain-http registry', async (t) => {
        if (!loopbackName) return t.skip('this machine has no non-localhost name that resolves to loopback');
        const target = `${loopbackName}:${registry.host.split(':')[1]}`;
        const relay = await startRelay(runtime, {
          env: { ...env, RELAY_PLAIN_HTTP: '', RELAY_ALLOW_PRIVATE: `${env.RELAY_ALLOW_PRIVATE},${target}` },
        });
        try {
          const response = await raw(relay.url, `/relay/${target}/v2/`);
          await refused(response, 502, 'upstream-unreachable');
          assert.match(JSON.parse(response.body.toString()).error.message, /list it in RELAY_PLAIN_HTTP/);
        } finally {
          await relay.stop();
        }
      });
    });

    describe(`limits on ${runtime}`, () => {
      let relay: RelayServer;
      before(async () => {
        relay = await startRelay(runtime, { env: { ...env, RELAY_RATE_LIMIT: '8', RELAY_CONCURRENCY: '1' } });
      });
      after(() => relay?.stop());

      it('answers 429 with Retry-After past the per-client rate, and past the requests in flight', async () => {
        // One request streams slowly and holds the only slot until its body ends.
        const slow = await fetch(`${relay.base}/127.0.0.1:${origin.port}/v2/r/blobs/slow`);
        assert.equal(slow.status, 200);
        const busy = await raw(relay.url, `/relay/${registry.host}/v2/`);
        await refused(busy, 429, 'too-many-in-flight');
        assert.ok(Number(busy.headers['retry-after']) >= 1);
        origin.releaseSlow();
        assert.equal(await slow.text(), 'slowdone');
        await new Promise((r) => setTimeout(r, 100));
        const free = await raw(relay.url, `/relay/${registry.host}/v2/`);
        assert.equal(free.status, 200, 'the slot is free again once the body ended');

        const statuses: number[] = [];
        let limited: RawResponse | undefined;
        for (let i = 0; i < 10; i++) {
          const response = await raw(relay.url, `/relay/example.com/v2/`);
          statuses.push(response.status);
          if (response.status === 429) limited ??= response;
        }
        assert.ok(limited, `expected a 429 among ${statuses.join(' ')}`);
        await refused(limited, 429, 'rate-limited');
        assert.ok(Number(limited.headers['retry-after']) >= 1);
      });
    });
  }
});
