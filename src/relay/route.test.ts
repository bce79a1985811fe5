import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RelayError } from './errors.ts';
import { checkReadMethod, isWrite, parseRelayPath, rawTarget, relayedLocation, splitTarget } from './route.ts';

const refusedAs = (code: string) => (error: unknown) => error instanceof RelayError && error.code === code;

describe('parseRelayPath', () => {
  it('splits host, registry path and query, and tells registry from token paths', () => {
    assert.deepEqual(parseRelayPath('/ghcr.io/v2/org/app/manifests/1', '?n=1'), {
      host: { hostname: 'ghcr.io', host: 'ghcr.io' },
      path: '/v2/org/app/manifests/1',
      query: '?n=1',
      kind: 'registry',
    });
    assert.equal(parseRelayPath('/auth.docker.io/token', '').kind, 'token');
    assert.equal(parseRelayPath('/gitlab.com/jwt/auth', '').kind, 'token');
    assert.equal(parseRelayPath('/ghcr.io/v2/token', '').kind, 'token');
  });

  it('refuses path tricks as written, before any URL parser folds them', () => {
    for (const [path, code] of [
      ['/ghcr.io/v2/../admin', 'bad-path'],
      ['/ghcr.io/v2/%2e%2e/admin', 'bad-path'],
      ['/ghcr.io/v2/%2E./admin', 'bad-path'],
      ['/ghcr.io/v2/./x', 'bad-path'],
      ['/ghcr.io/v2/a%2fb/manifests/1', 'bad-path'],
      ['/ghcr.io/v2/a%2Fb/manifests/1', 'bad-path'],
      ['/ghcr.io/v2//x/manifests/1', 'bad-path'],
      ['/ghcr.io//v2/x', 'bad-path'],
      ['/ghcr.io/v2/a\\b', 'bad-path'],
      ['/ghcr.io/v2/a%5cb', 'bad-path'],
      ['/ghcr.io/v2/a%00b', 'bad-path'],
      ['/ghcr.io/v2/a%0d%0aX:1', 'bad-path'],
      ['/ghcr.io/v2/a b', 'bad-path'],
      ['/ghcr.io/admin', 'path-not-allowed'],
      ['/ghcr.io/', 'path-not-allowed'],
      ['/ghcr.io', 'path-not-allowed'],
      ['/user@ghcr.io/v2/', 'bad-host'],
      ['/x:y@ghcr.io/v2/', 'bad-host'],
      ['/127.1/v2/', 'bad-host'],
      ['/0x7f000001/v2/', 'bad-host'],
      ['/ghcr.io:99999/v2/', 'bad-port'],
    ] as const) {
      assert.throws(() => parseRelayPath(path, ''), refusedAs(code), path);
    }
  });

  it('keeps the request target as received', () => {
    assert.equal(rawTarget('http://relay.example/relay/ghcr.io/v2/../x?a=b'), '/relay/ghcr.io/v2/../x?a=b');
    assert.equal(rawTarget('http://relay.example'), '/');
    assert.deepEqual(splitTarget('/relay/x/v2/?n=1?m'), { path: '/relay/x/v2/', query: '?n=1?m' });
  });
});

describe('methods and write paths', () => {
  const registry = parseRelayPath('/ghcr.io/v2/org/app/blobs/uploads/', '');
  const session = parseRelayPath('/ghcr.io/v2/org/app/blobs/uploads/abc-123', '');
  const manifest = parseRelayPath('/ghcr.io/v2/org/app/manifests/1', '');
  const token = parseRelayPath('/auth.docker.io/token', '');

  it('knows the API write paths: upload start, chunk and commit, manifest PUT', () => {
    assert.equal(isWrite('POST', registry), true);
    assert.equal(isWrite('PATCH', session), true);
    assert.equal(isWrite('PUT', session), true);
    assert.equal(isWrite('PUT', manifest), true);
    assert.equal(isWrite('POST', manifest), false);
    assert.equal(isWrite('PATCH', manifest), false);
    assert.equal(isWrite('DELETE', manifest), false);
    assert.equal(isWrite('POST', token), false);
  });

  it('takes reads everywhere, a form POST at token endpoints, nothing else', () => {
    checkReadMethod('GET', manifest);
    checkReadMethod('HEAD', manifest);
    checkReadMethod('POST', token);
    assert.throws(() => checkReadMethod('POST', manifest), refusedAs('method-not-allowed'));
    assert.throws(() => checkReadMethod('DELETE', manifest), refusedAs('method-not-allowed'));
    assert.throws(() => checkReadMethod('PUT', token), refusedAs('method-not-allowed'));
  });

  it('points upload Locations back into the relay only on the same host', () => {
    const base = 'http://relay.example/relay';
    assert.equal(
      relayedLocation('/v2/org/app/blobs/uploads/u1?_state=s', registry, base),
      `${base}/ghcr.io/v2/org/app/blobs/uploads/u1?_state=s`,
    );
    assert.equal(
      relayedLocation('http://ghcr.io/v2/org/app/blobs/uploads/u2', registry, base),
      `${base}/ghcr.io/v2/org/app/blobs/uploads/u2`,
    );
    assert.equal(relayedLocation('https://storage.example/upload', registry, base), undefined);
    assert.equal(relayedLocation('http://[bad', registry, base), undefined);
  });
});
