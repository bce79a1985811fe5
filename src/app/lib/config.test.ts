import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { absoluteRelay, isRelayUrl, loadHostConfig, parseHostList, sanitizeSettings } from './config.ts';

describe('settings from outside', () => {
  it('keeps valid fields only', () => {
    assert.deepEqual(
      sanitizeSettings({
        relay: '/relay/',
        dockerHubMirror: 'mirror.corp:5000',
        plainHttp: ['reg.corp', 'not a host'],
        layers: 'as-pulled',
        outputName: ' x ',
        saveMethod: 'blob',
        parallel: 8,
        hashFile: true,
        extra: 1,
      }),
      {
        relay: '/relay/',
        dockerHubMirror: 'mirror.corp:5000',
        plainHttp: ['reg.corp'],
        layers: 'as-pulled',
        outputName: 'x',
        saveMethod: 'blob',
        parallel: 8,
        hashFile: true,
      },
    );
    assert.deepEqual(
      sanitizeSettings({ relay: 'javascript:alert(1)', layers: 'zip', saveMethod: 'fsaccess', hashFile: 'yes' }),
      {},
    );
    for (const parallel of [0, 17, 2.5, '4']) assert.deepEqual(sanitizeSettings({ parallel }), {});
    assert.deepEqual(sanitizeSettings('nope'), {});
  });
  it('reads relay URLs absolute or relative to the page', () => {
    assert.equal(isRelayUrl('https://skiff.example.com/relay/'), true);
    assert.equal(isRelayUrl('./relay/'), true);
    assert.equal(isRelayUrl('relay'), false);
    assert.equal(isRelayUrl('ftp://x/'), false);
    assert.equal(absoluteRelay('/relay/', 'https://intranet/tools/skiff/index.html'), 'https://intranet/relay');
    assert.equal(absoluteRelay('./relay/', 'https://intranet/tools/skiff/'), 'https://intranet/tools/skiff/relay');
    assert.equal(absoluteRelay('  '), undefined);
  });
  it("reads the host's config.json: language and bounded stall and write time-outs beside the settings", async () => {
    const serve = (body: unknown) => (async () => new Response(JSON.stringify(body))) as unknown as typeof fetch;
    assert.deepEqual(await loadHostConfig(serve({ layers: 'as-pulled', language: 'zh', stallTimeoutSeconds: 15 })), {
      layers: 'as-pulled',
      language: 'zh',
      stallTimeoutSeconds: 15,
    });
    assert.equal((await loadHostConfig(serve({ stallTimeoutSeconds: 0 }))).stallTimeoutSeconds, 1);
    assert.equal((await loadHostConfig(serve({ stallTimeoutSeconds: 1e9 }))).stallTimeoutSeconds, 3600);
    assert.equal((await loadHostConfig(serve({ stallTimeoutSeconds: '30' }))).stallTimeoutSeconds, undefined);
    assert.equal((await loadHostConfig(serve({ writeTimeoutSeconds: 5 }))).writeTimeoutSeconds, 5);
    assert.equal((await loadHostConfig(serve({ writeTimeoutSeconds: -1 }))).writeTimeoutSeconds, 1);
    assert.equal((await loadHostConfig(serve({ writeTimeoutSeconds: null }))).writeTimeoutSeconds, undefined);
    assert.deepEqual(
      await loadHostConfig((async () => new Response('<html>', { status: 200 })) as unknown as typeof fetch),
      {},
    );
  });
  it('splits host lists', () => {
    assert.deepEqual(parseHostList('a.corp, b.corp:5000 [::1]:5000;;bad/host'), {
      hosts: ['a.corp', 'b.corp:5000', '[::1]:5000'],
      invalid: ['bad/host'],
    });
  });
});
