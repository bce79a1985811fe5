/**
 * Real CNCF distribution registries (Debian `docker-registry`) on ephemeral loopback ports.
 * Each starts with its own storage directory and config; stop() ends it and removes both.
 * A token server passed in `auth.token` belongs to the caller, who stops it.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { basicAuthorization, htpasswdAuthYaml, tokenAuthYaml, writeHtpasswd } from './auth.ts';
import { freePort, scratchDir, startProcess, waitUntil } from './process.ts';
import type { TokenServer } from './token-server.ts';

export type RegistryAuthOptions =
  /** distribution's htpasswd (Basic) auth; `users` adds more accounts beside the main one. */
  | { htpasswd: { username: string; password: string; users?: Record<string, string> } }
  /** distribution's token (Bearer) auth; `realm` overrides the announced realm (e.g. a fault proxy in front of the token server). */
  | { token: TokenServer; realm?: string };

export interface RegistryOptions {
  /** Add CORS headers to every answer (what a browser needs to talk to it directly); `push` allows uploads too. */
  cors?: boolean | 'push';
  /** Extra YAML appended under the top level of the config (auth sections and the like). */
  extraConfig?: string;
  auth?: RegistryAuthOptions;
}

export interface Registry {
  /** `127.0.0.1:PORT`, as written in an image reference. */
  host: string;
  /** `http://127.0.0.1:PORT`. */
  url: string;
  auth: 'none' | 'htpasswd' | 'token';
  /** htpasswd mode: the main account. */
  username?: string;
  password?: string;
  /** token mode: what the registry announces in its Bearer challenge. */
  realm?: string;
  service?: string;
  tokenServer?: TokenServer;
  /**
   * Headers that let a fixture pull, push and delete in `repository` whatever the mode: Basic for htpasswd,
   * a token minted directly (not through the realm, so not logged) for token auth, nothing when open.
   */
  authHeaders(repository: string): Record<string, string>;
  stop(): Promise<void>;
}

export const CORS_HEADERS_YAML = `  headers:
    Access-Control-Allow-Origin: ['*']
    Access-Control-Allow-Methods: ['HEAD', 'GET', 'OPTIONS']
    Access-Control-Allow-Headers: ['Authorization', 'Accept', 'Range']
    Access-Control-Expose-Headers: ['Docker-Content-Digest', 'WWW-Authenticate', 'Content-Length', 'Content-Range']
`;

/** What a page needs to push directly: the write methods, their headers, and the upload Location readable. */
export const CORS_PUSH_HEADERS_YAML = `  headers:
    Access-Control-Allow-Origin: ['*']
    Access-Control-Allow-Methods: ['HEAD', 'GET', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE']
    Access-Control-Allow-Headers: ['Authorization', 'Accept', 'Range', 'Content-Type', 'Content-Range']
    Access-Control-Expose-Headers: ['Docker-Content-Digest', 'WWW-Authenticate', 'Content-Length', 'Content-Range', 'Location', 'Range', 'Docker-Upload-UUID']
`;

export async function startRegistry(options: RegistryOptions = {}): Promise<Registry> {
  const dir = scratchDir('registry');
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const url = `http://${host}`;

  let authYaml = '';
  let details: Omit<Registry, 'host' | 'url' | 'stop'> = { auth: 'none', authHeaders: () => ({}) };
  const auth = options.auth;
  if (auth && 'htpasswd' in auth) {
    const { username, password, users } = auth.htpasswd;
    const path = join(dir.path, 'htpasswd');
    try {
      await writeHtpasswd(path, { ...users, [username]: password });
    } catch (error) {
      dir.remove();
      throw error;
    }
    authYaml = htpasswdAuthYaml(path);
    const header = basicAuthorization(username, password);
    details = { auth: 'htpasswd', username, password, authHeaders: () => ({ Authorization: header }) };
  } else if (auth && 'token' in auth) {
    const server = auth.token;
    const realm = auth.realm ?? server.realm;
    authYaml = tokenAuthYaml({ realm, service: server.service, issuer: server.issuer, certPath: server.certPath });
    details = {
      auth: 'token',
      realm,
      service: server.service,
      tokenServer: server,
      authHeaders: (repository) => ({
        Authorization: `Bearer ${server.issue({
          account: 'skiff-fixtures',
          access: [{ type: 'repository', name: repository, actions: ['pull', 'push', 'delete'] }],
        })}`,
      }),
    };
  }

  const config = `version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${join(dir.path, 'data')}
  delete:
    enabled: true
http:
  addr: ${host}
${options.cors === 'push' ? CORS_PUSH_HEADERS_YAML : options.cors ? CORS_HEADERS_YAML : ''}${authYaml}${options.extraConfig ?? ''}`;
  const configPath = join(dir.path, 'config.yml');
  writeFileSync(configPath, config);
  const proc = startProcess('docker-registry', ['serve', configPath]);
  try {
    await waitUntil(`registry on ${host}`, async () => {
      if (proc.child.exitCode !== null) throw new Error(proc.output());
      const res = await fetch(`${url}/v2/`);
      await res.body?.cancel();
      return res.status === 200 || res.status === 401;
    });
  } catch (error) {
    await proc.stop();
    dir.remove();
    throw new Error(`docker-registry failed to start: ${proc.output() || String(error)}`, { cause: error });
  }
  return {
    host,
    url,
    ...details,
    async stop() {
      await proc.stop();
      dir.remove();
    },
  };
}

/** Where to push: a registry, or anything in front of it (a fault proxy) with the registry's auth headers. */
export interface PushTarget {
  url: string;
  authHeaders?(repository: string): Record<string, string>;
}

export function sha256Digest(data: Uint8Array): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Pushes a blob with a monolithic upload (POST then PUT `?digest=`), as the distribution spec describes. */
export async function pushBlob(
  target: PushTarget,
  repository: string,
  data: Uint8Array,
): Promise<{ digest: string; size: number }> {
  const digest = sha256Digest(data);
  const headers = target.authHeaders?.(repository) ?? {};
  const start = await fetch(`${target.url}/v2/${repository}/blobs/uploads/`, { method: 'POST', headers });
  await start.body?.cancel();
  const location = start.headers.get('location');
  if (start.status !== 202 || !location) throw new Error(`blob upload start: ${start.status}`);
  const uploadUrl = new URL(location, target.url);
  uploadUrl.searchParams.set('digest', digest);
  const put = await fetch(uploadUrl, {
    method: 'PUT',
    headers: { ...headers, 'Content-Type': 'application/octet-stream' },
    // Node's fetch reads any Uint8Array; the DOM typing wants one over a plain ArrayBuffer.
    body: data as Uint8Array<ArrayBuffer>,
  });
  const text = await put.text();
  if (put.status !== 201) throw new Error(`blob upload PUT: ${put.status} ${text}`);
  return { digest, size: data.byteLength };
}

/** PUTs a manifest (object → JSON) under a tag or digest; returns its digest. */
export async function pushManifest(
  target: PushTarget,
  repository: string,
  reference: string,
  manifest: string | object,
  mediaType?: string,
): Promise<string> {
  const body = typeof manifest === 'string' ? manifest : JSON.stringify(manifest);
  const type =
    mediaType ??
    (typeof manifest === 'object' && 'mediaType' in manifest && typeof manifest.mediaType === 'string'
      ? manifest.mediaType
      : 'application/vnd.oci.image.manifest.v1+json');
  const res = await fetch(`${target.url}/v2/${repository}/manifests/${reference}`, {
    method: 'PUT',
    headers: { ...target.authHeaders?.(repository), 'Content-Type': type },
    body,
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`manifest PUT ${repository}:${reference}: ${res.status} ${text}`);
  return res.headers.get('docker-content-digest') ?? sha256Digest(Buffer.from(body));
}
