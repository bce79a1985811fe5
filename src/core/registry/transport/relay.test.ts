import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { relayRefusal, relayRefusalOf } from './relay.ts';

const headers = (code: string, message: string) =>
  new Headers({ 'skiff-relay-error': code, 'skiff-relay-message': encodeURIComponent(message) });

describe('relayRefusal', () => {
  it('reads the relay’s own answer from its headers when there is no body (a HEAD)', () => {
    const message = 'Could not reach registry-1.docker.io: getaddrinfo ENOTFOUND registry-1.docker.io.';
    const error = relayRefusal(502, '', headers('upstream-unreachable', message));
    assert.equal(error?.code, 'relay-refused');
    assert.equal(error.message, `The relay answered HTTP 502 upstream-unreachable: ${message}`);
    assert.deepEqual(error.relay, { code: 'upstream-unreachable', host: 'registry-1.docker.io' });
    assert.deepEqual(relayRefusalOf(error), { code: 'upstream-unreachable', host: 'registry-1.docker.io' });
  });

  it('reads the body when the headers are missing, and prefers the headers when both are there', () => {
    const body = JSON.stringify({ error: { code: 'host-not-allowed', message: 'x.example is not on …' } });
    assert.equal(relayRefusal(403, body)?.relay?.code, 'host-not-allowed');
    assert.equal(relayRefusal(403, body, new Headers())?.relay?.code, 'host-not-allowed');
    const both = relayRefusal(403, body, headers('private-address', '10.0.0.1 is a private, loopback …'));
    assert.deepEqual(both?.relay, { code: 'private-address', host: '10.0.0.1' });
  });

  it('does not take a registry’s answer, an unknown code or a broken encoding for the relay’s', () => {
    assert.equal(relayRefusal(502, '', new Headers()), undefined);
    assert.equal(
      relayRefusal(404, JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN' }] }), new Headers()),
      undefined,
    );
    assert.equal(relayRefusal(502, '', headers('made-up', 'x')), undefined);
    const broken = new Headers({ 'skiff-relay-error': 'upstream-unreachable', 'skiff-relay-message': '%E0%A4%A' });
    assert.equal(relayRefusal(502, '', broken), undefined);
  });
});
