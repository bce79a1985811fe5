import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { relayConfigFromEnv } from './config.ts';
import { RelayError } from './errors.ts';
import { errorResponse, relayedHeaders } from './responses.ts';
import { parseRelayPath } from './route.ts';

const policy = relayConfigFromEnv({ RELAY_ALLOW: 'registry.example, auth.example' });
const base = 'http://127.0.0.1:8080/relay';
const safety = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; sandbox",
  'cross-origin-resource-policy': 'same-origin',
};

describe('relayedHeaders', () => {
  it('passes only the listed headers, sandboxed, with Location and realm pointed back into the relay', () => {
    const upstream = new Response(null, {
      status: 401,
      headers: {
        'content-type': 'application/json',
        'docker-content-digest': 'sha256:1',
        'set-cookie': 'session=1',
        'x-internal': 'no',
        location: '/v2/app/blobs/uploads/u1?_state=s',
        'www-authenticate': 'Bearer realm="https://auth.example/token",service="registry.example"',
      },
    });
    const route = parseRelayPath('/registry.example/v2/app/blobs/uploads/', '');
    const headers = Object.fromEntries(relayedHeaders(policy, upstream, route, { vary: 'Origin' }, base));
    assert.deepEqual(headers, {
      ...safety,
      'content-type': 'application/json',
      'docker-content-digest': 'sha256:1',
      location: `${base}/registry.example/v2/app/blobs/uploads/u1?_state=s`,
      vary: 'Origin',
      'www-authenticate': `Bearer realm="${base}/auth.example/token",service="registry.example"`,
    });
  });
});

describe('errorResponse', () => {
  it('answers the relay’s own error as JSON and in headers a HEAD answer keeps, sandboxed', async () => {
    const error = new RelayError(429, 'rate-limited', 'Too many requests from this client; try again in 5 s.', {
      'retry-after': '5',
    });
    const response = errorResponse(error, { 'access-control-allow-origin': '*' });
    assert.equal(response.status, 429);
    assert.deepEqual(await response.json(), { error: { code: 'rate-limited', message: error.message } });
    const headers = Object.fromEntries(response.headers);
    assert.equal(headers['skiff-relay-error'], 'rate-limited');
    assert.equal(decodeURIComponent(headers['skiff-relay-message']!), error.message);
    assert.equal(headers['retry-after'], '5');
    assert.equal(headers['access-control-allow-origin'], '*');
    for (const [name, value] of Object.entries(safety)) assert.equal(headers[name], value, name);
  });
});
