import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scopeFor } from './auth.ts';
import { relayUrl } from './relay.ts';
import { parseRetryAfter } from './retry.ts';

test('a request path names the repository scope it needs', () => {
  assert.equal(scopeFor('https://r.io/v2/library/nginx/manifests/latest'), 'repository:library/nginx:pull');
  assert.equal(scopeFor('https://r.io/v2/a/b/c/blobs/sha256:00'), 'repository:a/b/c:pull');
  assert.equal(scopeFor('https://r.io/v2/a/tags/list'), 'repository:a:pull');
  assert.equal(scopeFor('https://r.io/v2/'), undefined);
});

test('a pushing client asks for pull,push; a mount also asks to pull from its source', () => {
  assert.equal(scopeFor('https://r.io/v2/team/app/blobs/uploads/', true), 'repository:team/app:pull,push');
  assert.equal(scopeFor('https://r.io/v2/team/app/blobs/uploads/', false), 'repository:team/app:pull');
  assert.equal(
    scopeFor('https://r.io/v2/team/app/blobs/uploads/?mount=sha256%3Aab&from=other%2Fsrc', true),
    'repository:team/app:pull,push repository:other/src:pull',
  );
});

test('relay URLs keep the registry visible and leave relay URLs alone', () => {
  assert.equal(
    relayUrl('https://x.corp/relay/', 'https://ghcr.io/v2/o/i/manifests/1?n=2'),
    'https://x.corp/relay/ghcr.io/v2/o/i/manifests/1?n=2',
  );
  assert.equal(
    relayUrl('https://x.corp/relay', 'http://127.0.0.1:5000/v2/'),
    'https://x.corp/relay/127.0.0.1:5000/v2/',
  );
  assert.equal(
    relayUrl('https://x.corp/relay', 'https://x.corp/relay/auth.docker.io/token?scope=a'),
    'https://x.corp/relay/auth.docker.io/token?scope=a',
  );
});

test('Retry-After is seconds or an HTTP date', () => {
  assert.equal(parseRetryAfter('3'), 3000);
  assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:28:05 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT')), 5000);
  assert.equal(parseRetryAfter('soon'), undefined);
  assert.equal(parseRetryAfter(null), undefined);
});
