/** The registry transport with an injected fetch: retries, redirects, auth, resume, the quota headers. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fakeBlobServer } from '../../../../test/support/fake-blob-server.ts';
import { isSkiffError } from '../../errors.ts';
import { RegistryClient } from '../client.ts';
import { parseRateLimit } from './rate-limit.ts';
import { resumableBody } from './resume.ts';

interface Seen {
  url: string;
  authorization: string | null;
  range: string | null;
}

/** A fetch answering by URL; records what each request carried. */
function router(answer: (url: URL, init: RequestInit, seen: Seen[]) => Response | Promise<Response>) {
  const seen: Seen[] = [];
  const fetch = async (url: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    seen.push({ url, authorization: headers.get('authorization'), range: headers.get('range') });
    return answer(new URL(url), init, seen);
  };
  return { fetch, seen };
}

const json = (value: unknown, init: ResponseInit = {}) =>
  new Response(JSON.stringify(value), { ...init, headers: { 'content-type': 'application/json', ...init.headers } });

test('a 429 with Retry-After and a 503 are retried; the answer after them is the one returned', async () => {
  let n = 0;
  const { fetch, seen } = router(() => {
    n++;
    if (n === 1) return new Response('slow down', { status: 429, headers: { 'retry-after': '0' } });
    if (n === 2) return new Response('busy', { status: 503, headers: { 'retry-after': '0' } });
    return json({ tags: ['v1'] });
  });
  const client = new RegistryClient('r.test', { fetch });
  assert.deepEqual(await client.listTags('app'), ['v1']);
  assert.equal(seen.length, 3);
});

test('a redirect to another origin drops the credentials; one on the same origin keeps them', async () => {
  const { fetch, seen } = router((url, init) => {
    if (url.host === 'r.test' && !new Headers(init.headers).has('authorization'))
      return new Response('{}', { status: 401, headers: { 'www-authenticate': 'Basic realm="r"' } });
    if (url.pathname.endsWith('/blobs/sha256:aa'))
      return new Response(null, { status: 307, headers: { location: 'https://cdn.test/blob?sig=1' } });
    if (url.pathname.endsWith('/blobs/sha256:bb'))
      return new Response(null, { status: 307, headers: { location: '/v2/app/blobs/sha256:aa-moved' } });
    return new Response('blob');
  });
  const client = new RegistryClient('r.test', { fetch, credentials: { username: 'u', password: 'p' } });
  await (await client.openBlob('app', 'sha256:aa', 0)).text();
  await (await client.openBlob('app', 'sha256:bb', 0)).text();
  assert.deepEqual(
    seen.map((s) => new URL(s.url).host),
    ['r.test', 'r.test', 'cdn.test', 'r.test', 'r.test'],
  );
  const basic = `Basic ${btoa('u:p')}`;
  assert.deepEqual(
    seen.map((s) => s.authorization),
    [null, basic, null, basic, basic],
  );
});

test('a Bearer challenge is answered once per scope, even for parallel requests', async () => {
  let tokens = 0;
  const { fetch, seen } = router(async (url, init) => {
    if (url.host === 'auth.test') {
      tokens++;
      await new Promise((r) => setTimeout(r, 5));
      return json({ token: `t${tokens}`, expires_in: 300 });
    }
    const authorization = new Headers(init.headers).get('authorization');
    if (authorization !== 'Bearer t1')
      return new Response('{}', {
        status: 401,
        headers: { 'www-authenticate': 'Bearer realm="https://auth.test/token",service="r.test"' },
      });
    return new Response('blob');
  });
  const client = new RegistryClient('r.test', { fetch });
  const bodies = await Promise.all(
    ['sha256:a1', 'sha256:a2', 'sha256:a3', 'sha256:a4'].map(async (d) => (await client.openBlob('app', d, 0)).text()),
  );
  assert.deepEqual(bodies, ['blob', 'blob', 'blob', 'blob']);
  assert.equal(tokens, 1, 'one token request for four parallel 401s');
  const tokenUrl = new URL(seen.find((s) => s.url.startsWith('https://auth.test'))!.url);
  assert.equal(tokenUrl.searchParams.get('scope'), 'repository:app:pull');
  await (await client.openBlob('app', 'sha256:a5', 0)).text();
  assert.equal(seen.at(-1)!.authorization, 'Bearer t1', 'the cached token goes with the next request at once');
});

test('a cut blob body is resumed with Range from where it stopped', async () => {
  const blob = new Uint8Array(10_000).map((_, i) => i % 251);
  const server = fakeBlobServer(blob, { fault: (i) => (i === 0 ? { cut: 4000 } : undefined) });
  const client = new RegistryClient('r.test', { fetch: server.fetch });
  const parts: Uint8Array[] = [];
  for await (const chunk of resumableBody((offset) => client.openBlob('app', 'sha256:cc', offset), {
    size: blob.byteLength,
    what: 'Blob',
  }))
    parts.push(chunk);
  assert.deepEqual(new Uint8Array(Buffer.concat(parts)), blob);
  assert.deepEqual(
    server.requests.map((r) => r.range),
    [undefined, 'bytes=4000-'],
  );
});

test('the pull quota a registry reports is read from its headers', async () => {
  const { fetch } = router(() =>
    json({ tags: [] }, { headers: { 'ratelimit-limit': '100;w=21600', 'ratelimit-remaining': '76;w=21600' } }),
  );
  const client = new RegistryClient('r.test', { fetch });
  assert.equal(client.rateLimit, undefined);
  await client.listTags('app');
  assert.deepEqual(client.rateLimit, { remaining: 76, limit: 100, windowSeconds: 21600 });
  assert.equal(parseRateLimit(new Headers()), undefined);
  assert.deepEqual(parseRateLimit(new Headers({ 'ratelimit-remaining': '5' })), { remaining: 5 });
});

test('tags are read page by page through Link rel="next", on this registry only, to a bound', async () => {
  const { fetch, seen } = router((url) => {
    const last = url.searchParams.get('last');
    if (!last) return json({ tags: ['a', 'b'] }, { headers: { link: '</v2/app/tags/list?n=2&last=b>; rel="next"' } });
    if (last === 'b')
      return json(
        { tags: ['c', 'd'] },
        { headers: { link: '<https://r.test/v2/app/tags/list?n=2&last=d>; rel="next"' } },
      );
    if (last === 'd')
      return json(
        { tags: ['e'] },
        { headers: { link: '<https://elsewhere.test/v2/app/tags/list?last=e>; rel="next"' } },
      );
    return json({ tags: ['never asked'] });
  });
  const client = new RegistryClient('r.test', { fetch });
  assert.deepEqual(await client.listTags('app', undefined, { pageSize: 2 }), ['a', 'b', 'c', 'd', 'e']);
  // A next page on another host is not followed (credentials go to this registry only).
  assert.deepEqual(
    seen.map((s) => s.url),
    [
      'https://r.test/v2/app/tags/list?n=2',
      'https://r.test/v2/app/tags/list?n=2&last=b',
      'https://r.test/v2/app/tags/list?n=2&last=d',
    ],
  );
  seen.length = 0;
  assert.deepEqual(await client.listTags('app', undefined, { pageSize: 2, maxPages: 2 }), ['a', 'b', 'c', 'd']);
  assert.equal(seen.length, 2);
});

test('a 429 carries what the registry said about its quota: counts, window, and the reset when told', async () => {
  const refuse = (headers: Record<string, string>) =>
    router(() => json({ errors: [{ code: 'TOOMANYREQUESTS', message: 'pull rate limit' }] }, { status: 429, headers }));
  const quotaOf = async (headers: Record<string, string>) => {
    const { fetch } = refuse(headers);
    const client = new RegistryClient('r.test', { fetch, retry: { attempts: 1 } });
    const error = await client.getManifest('app', 'v1').catch((e: unknown) => e);
    assert.ok(isSkiffError(error, 'rate-limited'), String(error));
    assert.match(error.message, /TOOMANYREQUESTS: pull rate limit/);
    return error.quota;
  };
  const counts = { 'ratelimit-limit': '100;w=21600', 'ratelimit-remaining': '0;w=21600' };
  assert.deepEqual(await quotaOf(counts), { remaining: 0, limit: 100, windowSeconds: 21600 });
  assert.deepEqual(await quotaOf({ ...counts, 'retry-after': '3600' }), {
    remaining: 0,
    limit: 100,
    windowSeconds: 21600,
    resetSeconds: 3600,
  });
  assert.deepEqual(await quotaOf({ 'ratelimit-reset': '90' }), { resetSeconds: 90 });
});
