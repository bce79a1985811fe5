import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { relayConfigFromEnv } from './config.ts';
import { checkOrigin, corsHeaders, ownOrigins, preflight } from './cors.ts';
import { RelayError } from './errors.ts';
import { parseHost } from './hosts.ts';
import { checkWrite } from './write.ts';

const refusedAs = (code: string) => (error: unknown) => error instanceof RelayError && error.code === code;
const own = ownOrigins({}, new URL('http://127.0.0.1:8080/relay/x/v2/'));
/** The same host as the relay, written as another origin: scheme, user information, trailing dot, opaque. */
const lookalikes = ['https://127.0.0.1:8080', 'http://x@127.0.0.1:8080', 'http://127.0.0.1:8080.', 'null'];

describe('corsHeaders', () => {
  it('admits the relay’s own origin and listed ones exactly, and no look-alike', () => {
    const listed = ['https://app.example'];
    assert.equal(corsHeaders(listed, 'http://127.0.0.1:8080', own)?.['access-control-allow-origin'], own[0]);
    assert.equal(
      corsHeaders(listed, 'https://app.example', own)?.['access-control-allow-origin'],
      'https://app.example',
    );
    for (const origin of [...lookalikes, 'http://app.example', 'https://app.example:444'])
      assert.equal(corsHeaders(listed, origin, own), undefined, origin);
    assert.deepEqual(corsHeaders(listed, null, own), { vary: 'Origin' });
  });

  it('exposes the relay’s own error headers with RELAY_ORIGINS=*', () => {
    const cors = corsHeaders('*', 'https://anyone.example', own)!;
    assert.equal(cors['access-control-allow-origin'], '*');
    assert.match(cors['access-control-expose-headers']!, /skiff-relay-error, skiff-relay-message/);
  });

  it('refuses foreign no-cors loads by Fetch Metadata, and answers preflights for its methods only', () => {
    assert.throws(() => checkOrigin([], null, 'cross-site', { vary: 'Origin' }), refusedAs('origin-not-allowed'));
    assert.throws(() => checkOrigin([], 'https://evil.example', null, undefined), refusedAs('origin-not-allowed'));
    checkOrigin([], null, 'same-origin', { vary: 'Origin' });
    checkOrigin('*', null, 'cross-site', { vary: 'Origin' });
    const ask = (method: string) =>
      new Request('http://127.0.0.1:8080/relay/x/v2/', {
        method: 'OPTIONS',
        headers: { 'access-control-request-method': method },
      });
    assert.equal(preflight(ask('PATCH'), {}).status, 204);
    assert.throws(() => preflight(ask('DELETE'), {}), refusedAs('method-not-allowed'));
  });
});

describe('checkWrite (the push policy)', () => {
  const config = relayConfigFromEnv({ RELAY_ALLOW_PUSH: 'harbor.corp', RELAY_ORIGINS: '*' });
  const harbor = parseHost('harbor.corp');

  it('writes only to RELAY_ALLOW_PUSH hosts', () => {
    assert.throws(() => checkWrite(config, parseHost('ghcr.io'), null, own), refusedAs('push-not-allowed'));
    checkWrite(config, harbor, null, own);
  });

  it('with RELAY_ORIGINS=*, takes pushes from the relay’s own origin only, compared whole', () => {
    checkWrite(config, harbor, 'http://127.0.0.1:8080', own);
    for (const origin of [...lookalikes, 'http://evil.example'])
      assert.throws(() => checkWrite(config, harbor, origin, own), refusedAs('origin-not-allowed'), origin);
  });

  it('takes pushes from origins RELAY_ORIGINS names', () => {
    const named = relayConfigFromEnv({ RELAY_ALLOW_PUSH: 'harbor.corp', RELAY_ORIGINS: 'https://app.example' });
    checkWrite(named, harbor, 'https://app.example', own);
    assert.throws(() => checkWrite(named, harbor, 'http://app.example', own), refusedAs('origin-not-allowed'));
    const behindProxy = ownOrigins({ publicUrl: 'https://relay.example' }, new URL('http://relay.example/relay/'));
    checkWrite(named, harbor, 'https://relay.example', behindProxy);
  });
});
