/**
 * Proves the test-support pieces against the real programs they drive: distribution 2.8 with htpasswd and
 * token auth, the Node token server, a private dockerd, skopeo, and the fault proxy in front of a registry.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { basicAuthorization } from '../support/auth.ts';
import { startDockerd, type Dockerd } from '../support/dockerd.ts';
import { combine, fault, once, always, startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { runCommand, scratchDir } from '../support/process.ts';
import { pushBlob, pushManifest, sha256Digest, startRegistry, type Registry } from '../support/registry.ts';
import { skopeoCopy, skopeoInspectArchive } from '../support/skopeo.ts';
import { startTokenServer, type TokenServer } from '../support/token-server.ts';

const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/** Reads a body to its end or to the error that ends it, keeping what arrived. */
async function readBody(res: Response): Promise<{ bytes: Buffer; error?: unknown }> {
  const chunks: Buffer[] = [];
  const reader = res.body?.getReader();
  try {
    for (;;) {
      const next = await reader?.read();
      if (!next || next.done) break;
      chunks.push(Buffer.from(next.value));
    }
  } catch (error) {
    return { bytes: Buffer.concat(chunks), error };
  }
  return { bytes: Buffer.concat(chunks) };
}

/** `Bearer realm="…",service="…",scope="…"` → its parameters. */
function parseChallenge(header: string | null): { scheme: string; params: Record<string, string> } {
  assert.ok(header, 'expected a WWW-Authenticate header');
  const scheme = header.split(' ', 1)[0] ?? '';
  const params: Record<string, string> = {};
  for (const m of header.slice(scheme.length).matchAll(/(\w+)="([^"]*)"/g)) params[m[1]!] = m[2]!;
  return { scheme, params };
}

describe('htpasswd registry', () => {
  let registry: Registry;
  before(async () => {
    registry = await startRegistry({ auth: { htpasswd: { username: 'alice', password: 's3cret' } } });
  });
  after(() => registry?.stop());

  it('refuses without credentials or with wrong ones, accepts the right ones', async () => {
    assert.equal(registry.auth, 'htpasswd');
    assert.equal(registry.username, 'alice');
    const anonymous = await fetch(`${registry.url}/v2/`);
    await anonymous.body?.cancel();
    assert.equal(anonymous.status, 401);
    assert.equal(parseChallenge(anonymous.headers.get('www-authenticate')).scheme, 'Basic');

    const wrong = await fetch(`${registry.url}/v2/`, {
      headers: { Authorization: basicAuthorization('alice', 'nope') },
    });
    await wrong.body?.cancel();
    assert.equal(wrong.status, 401);

    const right = await fetch(`${registry.url}/v2/`, { headers: registry.authHeaders('any') });
    await right.body?.cancel();
    assert.equal(right.status, 200);

    const blob = await pushBlob(registry, 'private/app', Buffer.from('hello htpasswd'));
    const got = await fetch(`${registry.url}/v2/private/app/blobs/${blob.digest}`, {
      headers: { Authorization: basicAuthorization('alice', 's3cret') },
    });
    assert.equal(await got.text(), 'hello htpasswd');
  });
});

describe('token registry and token server', () => {
  let tokens: TokenServer;
  let registry: Registry;
  before(async () => {
    tokens = await startTokenServer({ users: { alice: 's3cret' }, anonymousPull: ['public/*'] });
    registry = await startRegistry({ auth: { token: tokens } });
  });
  after(async () => {
    await registry?.stop();
    await tokens?.stop();
  });

  const tokenFor = async (scope: string, auth?: string) => {
    const url = new URL(tokens.realm);
    url.searchParams.set('service', tokens.service);
    url.searchParams.set('scope', scope);
    const res = await fetch(url, { headers: auth ? { Authorization: auth } : {} });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a token server's JSON, read field by field by the asserts
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  const getManifest = (repo: string, token: string) =>
    fetch(`${registry.url}/v2/${repo}/manifests/latest`, {
      headers: { Authorization: `Bearer ${token}`, Accept: MANIFEST_ACCEPT },
    });

  it('challenges anonymous requests with the token server as realm', async () => {
    const res = await fetch(`${registry.url}/v2/`);
    await res.body?.cancel();
    assert.equal(res.status, 401);
    const challenge = parseChallenge(res.headers.get('www-authenticate'));
    assert.equal(challenge.scheme, 'Bearer');
    assert.equal(challenge.params.realm, tokens.realm);
    assert.equal(challenge.params.service, tokens.service);
    assert.equal(registry.realm, tokens.realm);
    assert.equal(registry.service, tokens.service);

    const manifest = await fetch(`${registry.url}/v2/private/app/manifests/latest`);
    await manifest.body?.cancel();
    assert.equal(manifest.status, 401);
    assert.equal(parseChallenge(manifest.headers.get('www-authenticate')).params.scope, 'repository:private/app:pull');
  });

  it('issues tokens the registry accepts (x5c + kid, RS256)', async () => {
    tokens.requests.length = 0;
    const { status, body } = await tokenFor('repository:private/app:pull', basicAuthorization('alice', 's3cret'));
    assert.equal(status, 200);
    assert.equal(body.token, body.access_token);
    assert.equal(body.expires_in, 300);
    const header = JSON.parse(Buffer.from(String(body.token).split('.')[0]!, 'base64url').toString());
    assert.equal(header.alg, 'RS256');
    assert.equal(header.kid, tokens.keyId);
    assert.equal(header.x5c.length, 1);

    const res = await getManifest('private/app', body.token);
    const error = (await res.json()) as { errors: { code: string }[] };
    // 404 MANIFEST_UNKNOWN (not 401) means the registry verified the token and granted pull.
    assert.equal(res.status, 404);
    assert.equal(error.errors[0]?.code, 'MANIFEST_UNKNOWN');

    assert.equal(tokens.requests.length, 1);
    assert.deepEqual(tokens.requests[0], {
      method: 'GET',
      account: 'alice',
      service: tokens.service,
      scopes: ['repository:private/app:pull'],
      grantType: undefined,
      status: 200,
      granted: [{ type: 'repository', name: 'private/app', actions: ['pull'] }],
    });
  });

  it('grants anonymous pull only where allowed, and refuses a wrong password with 401 JSON', async () => {
    const open = await tokenFor('repository:public/base:pull');
    assert.equal(open.status, 200);
    const openRes = await getManifest('public/base', open.body.token);
    await openRes.body?.cancel();
    assert.equal(openRes.status, 404);

    const closed = await tokenFor('repository:private/app:pull');
    assert.equal(closed.status, 200); // issued, but without access (as Docker Hub does)
    const closedRes = await getManifest('private/app', closed.body.token);
    await closedRes.body?.cancel();
    assert.equal(closedRes.status, 401);
    assert.match(closedRes.headers.get('www-authenticate') ?? '', /insufficient_scope/);

    const wrong = await tokenFor('repository:private/app:pull', basicAuthorization('alice', 'wrong'));
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.errors[0].code, 'UNAUTHORIZED');
    assert.equal(wrong.body.token, undefined);
  });

  it('answers OAuth2 password grants with access_token and refresh_token', async () => {
    const form = new URLSearchParams({
      grant_type: 'password',
      username: 'alice',
      password: 's3cret',
      service: tokens.service,
      scope: 'repository:private/app:pull',
      client_id: 'skiff-test',
      access_type: 'offline',
    });
    const res = await fetch(tokens.realm, { method: 'POST', body: form });
    const body = (await res.json()) as Record<string, string>;
    assert.equal(res.status, 200);
    assert.ok(body.access_token);
    assert.ok(body.refresh_token);
    assert.equal(body.token, undefined);
    const manifest = await getManifest('private/app', body.access_token!);
    await manifest.body?.cancel();
    assert.equal(manifest.status, 404);

    const refreshed = await fetch(tokens.realm, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: body.refresh_token!,
        service: tokens.service,
        scope: 'repository:private/app:pull',
      }),
    });
    assert.equal(refreshed.status, 200);
    assert.ok(((await refreshed.json()) as Record<string, string>).access_token);

    const wrong = await fetch(tokens.realm, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'password', username: 'alice', password: 'x' }),
    });
    assert.equal(wrong.status, 401);
    assert.ok(((await wrong.json()) as Record<string, string>).error);
  });

  it('can hand out a token the registry already considers expired', async () => {
    tokens.expireNext(1);
    const stale = await tokenFor('repository:private/app:pull', basicAuthorization('alice', 's3cret'));
    assert.equal(stale.body.expires_in, 300); // the client is told it is fresh
    const refused = await getManifest('private/app', stale.body.token);
    await refused.body?.cancel();
    assert.equal(refused.status, 401);
    const fresh = await tokenFor('repository:private/app:pull', basicAuthorization('alice', 's3cret'));
    const accepted = await getManifest('private/app', fresh.body.token);
    await accepted.body?.cancel();
    assert.equal(accepted.status, 404);
  });

  it('lets fixtures push through authHeaders', async () => {
    const before = tokens.requests.length;
    const blob = await pushBlob(registry, 'private/app', Buffer.from('hello token'));
    const res = await fetch(`${registry.url}/v2/private/app/blobs/${blob.digest}`, {
      headers: registry.authHeaders('private/app'),
    });
    assert.equal(await res.text(), 'hello token');
    assert.equal(tokens.requests.length, before); // minted directly, not through the realm
  });

  it('puts only the asked field in the answer (tokenField), and the realm can be overridden', async () => {
    const only = await startTokenServer({ tokenField: 'access_token', anonymousPull: true, expiresIn: 60 });
    const proxy = await startFaultProxy(only.url);
    const reg = await startRegistry({ auth: { token: only, realm: `${proxy.url}/token` } });
    try {
      const challenge = await fetch(`${reg.url}/v2/`);
      await challenge.body?.cancel();
      const realm = parseChallenge(challenge.headers.get('www-authenticate')).params.realm!;
      assert.equal(realm, `${proxy.url}/token`);
      const res = await fetch(`${realm}?service=${only.service}&scope=repository:any/thing:pull`);
      const body = (await res.json()) as Record<string, unknown>;
      assert.equal(body.token, undefined);
      assert.equal(body.expires_in, 60);
      const manifest = await fetch(`${reg.url}/v2/any/thing/manifests/latest`, {
        headers: { Authorization: `Bearer ${String(body.access_token)}` },
      });
      await manifest.body?.cancel();
      assert.equal(manifest.status, 404);
      assert.equal(proxy.requests.length, 1);
    } finally {
      await reg.stop();
      await proxy.stop();
      await only.stop();
    }
  });
});

describe('dockerd and skopeo', () => {
  let dockerd: Dockerd;
  let registry: Registry;
  const scratch = scratchDir('support-test');
  before(async () => {
    [dockerd, registry] = await Promise.all([startDockerd(), startRegistry()]);
  });
  after(async () => {
    await dockerd?.stop();
    await registry?.stop();
    scratch.remove();
  });

  it('starts a private daemon with no images', async () => {
    const { stdout } = await dockerd.docker(['version', '--format', '{{.Server.Version}}']);
    assert.match(stdout.trim(), /^\d+\.\d+/);
    assert.deepEqual(await dockerd.imageIds(), []);
    const images = await dockerd.docker(['images', '--quiet']);
    assert.equal(images.stdout.trim(), '');
  });

  it('skopeo copies a pushed image into a docker-archive that dockerd loads', async () => {
    // One layer holding one file, made with tar(1) so it is independent of the code under test.
    const root = join(scratch.path, 'rootfs');
    mkdirSync(root);
    writeFileSync(join(root, 'hello.txt'), 'hello from skiff\n');
    const layerTar = join(scratch.path, 'layer.tar');
    await runCommand('tar', [
      '--sort=name',
      '--mtime=@0',
      '--owner=0',
      '--group=0',
      '-C',
      root,
      '-cf',
      layerTar,
      'hello.txt',
    ]);
    const tarBytes = readFileSync(layerTar);
    const layer = gzipSync(tarBytes);
    const config = Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: { Cmd: ['/hello.txt'] },
        rootfs: { type: 'layers', diff_ids: [sha256Digest(tarBytes)] },
      }),
    );
    const pushedLayer = await pushBlob(registry, 'demo/hello', layer);
    const pushedConfig = await pushBlob(registry, 'demo/hello', config);
    const manifestDigest = await pushManifest(registry, 'demo/hello', 'v1', {
      schemaVersion: 2,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', ...pushedConfig },
      layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', ...pushedLayer }],
    });
    assert.match(manifestDigest, /^sha256:/);

    const archive = join(scratch.path, 'hello.tar');
    await skopeoCopy(`docker://${registry.host}/demo/hello:v1`, `docker-archive:${archive}:demo/hello:v1`, [
      '--src-tls-verify=false',
    ]);
    const inspected = await skopeoInspectArchive(archive);
    assert.deepEqual(inspected.RepoTags, []); // skopeo lists registry tags only; the archive's tag is in manifest.json
    assert.equal(inspected.Layers.length, 1);
    const imageConfig = await skopeoInspectArchive(archive, undefined, { config: true });
    assert.deepEqual(imageConfig.rootfs.diff_ids, [sha256Digest(tarBytes)]);

    const { stdout } = await dockerd.load(archive);
    assert.match(stdout, /Loaded image: demo\/hello:v1/);
    const image = await dockerd.inspect('demo/hello:v1');
    assert.equal(image.Id, pushedConfig.digest); // docker's image ID is the config digest
    assert.deepEqual(await dockerd.imageIds(), [pushedConfig.digest]);
  });

  it('stop() ends the daemon and removes its socket', async () => {
    const other = await startDockerd();
    assert.ok(existsSync(other.socket));
    await other.stop();
    assert.throws(() => process.kill(other.pid, 0), { code: 'ESRCH' });
    assert.equal(existsSync(dirname(other.socket)), false);
    await assert.rejects(other.docker(['version']));
  });
});

describe('fault proxy', () => {
  let registry: Registry;
  let proxy: FaultProxy;
  const data = randomBytes(256 * 1024);
  const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
  const blobPath = `/v2/faults/blob/blobs/${digest}`;
  before(async () => {
    registry = await startRegistry();
    proxy = await startFaultProxy(registry.url);
    // Pushed through the proxy: the upload Location must be rewritten for the PUT to come back through it.
    const pushed = await pushBlob(proxy, 'faults/blob', data);
    assert.equal(pushed.digest, digest);
  });
  after(async () => {
    await proxy?.stop();
    await registry?.stop();
  });

  it('forwards uploads, downloads and Range requests unchanged', async () => {
    const put = proxy.requests.find((r) => r.method === 'PUT');
    assert.ok(put, 'the PUT came through the proxy');
    assert.match(put.path, /digest=sha256/);
    proxy.reset();
    proxy.setPlan(undefined);

    const full = await fetch(proxy.url + blobPath);
    assert.equal(full.status, 200);
    assert.ok(Buffer.from(await full.arrayBuffer()).equals(data));

    const ranged = await fetch(proxy.url + blobPath, { headers: { Range: 'bytes=1000-' } });
    assert.equal(ranged.status, 206);
    assert.equal(ranged.headers.get('content-range'), `bytes 1000-${data.length - 1}/${data.length}`);
    assert.ok(Buffer.from(await ranged.arrayBuffer()).equals(data.subarray(1000)));
    assert.deepEqual(
      proxy.requests.map((r) => [r.method, r.range, r.status, r.bytes]),
      [
        ['GET', undefined, 200, data.length],
        ['GET', 'bytes=1000-', 206, data.length - 1000],
      ],
    );
  });

  it('flips one byte once, not counting HEAD', async () => {
    proxy.setPlan(once('/blobs/', fault.flipByte(12_345)));
    const head = await fetch(proxy.url + blobPath, { method: 'HEAD' });
    assert.equal(head.status, 200);
    const bad = Buffer.from(await (await fetch(proxy.url + blobPath)).arrayBuffer());
    assert.equal(bad.length, data.length);
    const differing = [...bad.keys()].filter((i) => bad[i] !== data[i]);
    assert.deepEqual(differing, [12_345]);
    assert.notEqual(sha256Digest(bad), digest);
    const good = Buffer.from(await (await fetch(proxy.url + blobPath)).arrayBuffer());
    assert.ok(good.equals(data));
  });

  it('cuts a body after N bytes once; a Range resume then completes it', async () => {
    proxy.reset();
    proxy.setPlan(once('/blobs/', fault.cut(100_000)));
    const first = await fetch(proxy.url + blobPath);
    assert.equal(first.status, 200);
    const partial = await readBody(first);
    assert.ok(partial.error, 'the body ended in an error');
    assert.equal(partial.bytes.length, 100_000);
    assert.ok(partial.bytes.equals(data.subarray(0, 100_000)));

    const rest = await fetch(proxy.url + blobPath, { headers: { Range: `bytes=${partial.bytes.length}-` } });
    assert.equal(rest.status, 206);
    const whole = Buffer.concat([partial.bytes, Buffer.from(await rest.arrayBuffer())]);
    assert.equal(sha256Digest(whole), digest);
    assert.deepEqual(
      proxy.requests.map((r) => [r.range, r.faults]),
      [
        [undefined, ['cut']],
        ['bytes=100000-', []],
      ],
    );
  });

  it('answers 429 with Retry-After once, 401 with a given challenge once, 500 once', async () => {
    const challenge = 'Bearer realm="http://127.0.0.1:1/token",service="x",scope="repository:faults/blob:pull"';
    proxy.setPlan(
      combine(
        once('/blobs/', fault.tooManyRequests(1)),
        once('/blobs/', fault.unauthorized(challenge)),
        once('/blobs/', fault.serverError()),
      ),
    );
    const seen: [number, string | null][] = [];
    for (let i = 0; i < 4; i++) {
      const res = await fetch(proxy.url + blobPath);
      const body = await res.text();
      if (res.status !== 200) assert.match(body, /"errors"/);
      seen.push([res.status, res.headers.get('retry-after') ?? res.headers.get('www-authenticate')]);
    }
    assert.deepEqual(seen, [
      [429, '1'],
      [401, challenge],
      [500, null],
      [200, null],
    ]);
  });

  it('ignores Range when told to, delays, and stalls', async () => {
    proxy.setPlan(always('/blobs/', fault.ignoreRange()));
    const res = await fetch(proxy.url + blobPath, { headers: { Range: 'bytes=1000-' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('accept-ranges'), null);
    assert.equal((await res.arrayBuffer()).byteLength, data.length);

    proxy.setPlan(once('/blobs/', fault.delay(300)));
    const started = Date.now();
    const delayed = await fetch(proxy.url + blobPath);
    await delayed.arrayBuffer();
    assert.ok(Date.now() - started >= 290);

    proxy.setPlan(once('/blobs/', fault.stall(5_000)));
    const stallStart = Date.now();
    const stalled = await fetch(proxy.url + blobPath, { signal: AbortSignal.timeout(500) });
    const got = await readBody(stalled);
    // Ended by our timeout, not by the proxy closing the connection.
    assert.equal((got.error as Error | undefined)?.name, 'TimeoutError');
    assert.ok(Date.now() - stallStart >= 450);
    assert.equal(got.bytes.length, 5_000);
  });
});
