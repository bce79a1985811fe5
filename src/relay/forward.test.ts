import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { relayConfigFromEnv } from './config.ts';
import { destinationFor } from './destination.ts';
import { RelayError } from './errors.ts';
import { type Hop, MAX_REDIRECTS, redirectStep, unreachable, upstreamHeaders } from './forward.ts';
import { parseHost } from './hosts.ts';
import { parseRelayPath } from './route.ts';

const policy = relayConfigFromEnv({ RELAY_ALLOW: 'registry.example, cdn.example, auth.example' });
const origin = 'https://registry.example';
const refused = (code: string, message?: RegExp) => (error: unknown) =>
  error instanceof RelayError && error.code === code && (!message || message.test(error.message));

function hop(method: string, withBody = false): Hop {
  return {
    url: new URL(`${origin}/v2/r/blobs/sha256:1`),
    target: destinationFor(policy, parseHost('registry.example')),
    method,
    withBody,
    withAuthorization: true,
  };
}

describe('redirectStep', () => {
  it('follows a redirect to another allowed host without the credentials', () => {
    const next = redirectStep(policy, hop('GET'), 307, 'https://cdn.example/blob?sig=1', origin, 0, false);
    assert.equal(next.url.href, 'https://cdn.example/blob?sig=1');
    assert.equal(next.withAuthorization, false);
    const same = redirectStep(policy, hop('GET'), 302, '/v2/r/blobs/other', origin, 0, false);
    assert.equal(same.url.href, `${origin}/v2/r/blobs/other`);
    assert.equal(same.withAuthorization, true);
  });

  it('refuses targets the relay does not reach, naming the redirecting host and the target', () => {
    assert.throws(
      () => redirectStep(policy, hop('GET'), 302, 'file:///etc/passwd', origin, 0, false),
      refused('redirect-not-allowed', /^registry\.example redirected to file:\/\/\/etc\/passwd, which/),
    );
    assert.throws(
      () => redirectStep(policy, hop('GET'), 302, 'https://elsewhere.example/x', origin, 0, false),
      refused('redirect-not-allowed', /redirected to elsewhere\.example, which this relay does not reach/),
    );
    assert.throws(
      () => redirectStep(policy, hop('GET'), 302, 'https://u:p@cdn.example/x', origin, 0, false),
      refused('redirect-not-allowed'),
    );
    assert.throws(
      () => redirectStep(policy, hop('GET'), 302, 'http://[bad', origin, 0, false),
      refused('bad-redirect'),
    );
  });

  it('never sends a token form to another host on 307/308, and names the host that redirected', () => {
    for (const status of [307, 308])
      assert.throws(
        () => redirectStep(policy, hop('POST', true), status, 'https://auth.example/token', origin, 0, false),
        refused(
          'redirect-not-allowed',
          new RegExp(`^registry\\.example redirected a token request \\(${status}\\) to auth\\.example;`),
        ),
      );
    const same = redirectStep(policy, hop('POST', true), 307, '/v2/token2', origin, 0, false);
    assert.deepEqual([same.method, same.withBody], ['POST', true]);
  });

  it('turns a POST into a GET on 301, 302 and 303, keeping HEAD a HEAD', () => {
    const posted = redirectStep(policy, hop('POST', true), 302, 'https://auth.example/token', origin, 0, false);
    assert.deepEqual([posted.method, posted.withBody], ['GET', false]);
    assert.equal(redirectStep(policy, hop('HEAD'), 303, '/x', origin, 0, false).method, 'HEAD');
  });

  it('stops a redirected push, and loops past the limit', () => {
    assert.throws(
      () => redirectStep(policy, hop('PATCH', true), 307, '/v2/x', origin, 0, true),
      refused('redirect-not-allowed', /redirected a push/),
    );
    assert.throws(
      () => redirectStep(policy, hop('GET'), 302, '/x', origin, MAX_REDIRECTS, false),
      refused('too-many-redirects', /starting at registry\.example/),
    );
  });
});

describe('upstreamHeaders and unreachable', () => {
  it('sends on only the listed request headers, asking for the bytes as stored', () => {
    const request = new Request('http://relay/x', {
      headers: {
        accept: 'a',
        authorization: 'Bearer t',
        cookie: 'c=1',
        'x-forwarded-for': '1.2.3.4',
        range: 'bytes=0-1',
      },
    });
    const headers = Object.fromEntries(upstreamHeaders(request, null));
    assert.deepEqual(headers, {
      accept: 'a',
      'accept-encoding': 'identity',
      authorization: 'Bearer t',
      range: 'bytes=0-1',
      'user-agent': 'skiff-relay',
    });
  });

  it('tells a failed connection as the relay’s own, naming the host the client named', () => {
    const error = unreachable(
      policy,
      parseRelayPath('/registry.example/v2/', ''),
      Object.assign(new Error('getaddrinfo ENOTFOUND registry.example'), { code: 'ENOTFOUND' }),
    );
    assert.equal(error.code, 'upstream-unreachable');
    assert.equal(error.status, 502);
    assert.match(error.message, /^Could not reach registry\.example: getaddrinfo ENOTFOUND/);
    const tls = unreachable(policy, parseRelayPath('/registry.example/v2/', ''), new Error('wrong version number'));
    assert.match(tls.message, /list it in RELAY_PLAIN_HTTP/);
  });
});
