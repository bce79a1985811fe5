/**
 * The relay's write (push) policy against a real registry, on Node and on workerd: with RELAY_ORIGINS=*
 * any page may read, but only the relay's own page (its whole origin: scheme, host and port, no user
 * information) or one RELAY_ORIGINS names may start an upload, and a refused one never reaches the registry.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { startRegistry, type Registry } from '../support/registry.ts';
import { startRelay, type RelayServer } from '../support/relay.ts';

let registry: Registry;
let proxy: FaultProxy;

before(async () => {
  registry = await startRegistry();
  proxy = await startFaultProxy(registry.url);
});

after(async () => {
  await proxy?.stop();
  await registry?.stop();
});

for (const runtime of ['node', 'workerd'] as const) {
  describe(`pushes through the relay on ${runtime}`, () => {
    let relay: RelayServer;
    before(async () => {
      relay = await startRelay(runtime, {
        env: {
          RELAY_ALLOW_PRIVATE: proxy.host,
          RELAY_PLAIN_HTTP: proxy.host,
          RELAY_ALLOW_PUSH: proxy.host,
          RELAY_ORIGINS: '*',
        },
      });
    });
    after(() => relay?.stop());

    const startUpload = (origin: string) =>
      fetch(`${relay.base}/${proxy.host}/v2/writes/app/blobs/uploads/`, {
        method: 'POST',
        headers: { origin, 'content-length': '0' },
      });

    it('refuses an upload from an origin that only shares the relay’s host, before the registry sees it', async () => {
      const { host } = new URL(relay.url);
      for (const origin of [`https://${host}`, `http://x@${host}`, `http://x:y@${host}`, 'http://evil.example']) {
        proxy.reset();
        const answer = await startUpload(origin);
        const body = (await answer.json()) as { error: { code: string; message: string } };
        assert.equal(answer.status, 403, `${origin}: ${JSON.stringify(body)}`);
        assert.equal(body.error.code, 'origin-not-allowed', origin);
        assert.match(body.error.message, /may not push through this relay/);
        assert.deepEqual(
          proxy.requests.filter((r) => r.method === 'POST'),
          [],
          `${origin}: no upload reached the registry`,
        );
      }
    });

    it('takes an upload from its own page, and the registry starts it', async () => {
      proxy.reset();
      const answer = await startUpload(new URL(relay.url).origin);
      await answer.body?.cancel();
      assert.equal(answer.status, 202);
      assert.equal(proxy.requests.filter((r) => r.method === 'POST').length, 1);
    });
  });
}
