/**
 * An upload session of the distribution API: POST (or a cross-repository mount), PATCH chunks, GET its
 * status, PUT `?digest=` to commit, DELETE to abandon. upload.ts drives them.
 */
import { SkiffError, abortError } from '../errors.ts';
import type { RegistryClient } from './client.ts';
import { discard } from './transport/fetcher.ts';

/** Where an upload goes next; the registry says so in each answer's Location. */
export interface UploadSession {
  location: string;
}

/**
 * Opens an upload (POST). With `mount`, asks the registry to link the blob from another repository
 * instead: `mounted` when it did (201); otherwise (202) an ordinary upload session to use.
 */
export async function startUpload(
  client: RegistryClient,
  repository: string,
  mount: { digest: string; from: string } | undefined,
  signal?: AbortSignal,
): Promise<{ mounted: true } | { mounted: false; session: UploadSession }> {
  const query = mount ? `?mount=${encodeURIComponent(mount.digest)}&from=${encodeURIComponent(mount.from)}` : '';
  const response = await client.requestUrl(
    `${client.baseUrl}/v2/${repository}/blobs/uploads/${query}`,
    { method: 'POST', headers: { 'content-length': '0' }, ...(signal ? { signal } : {}) },
    `Starting an upload to ${repository}`,
  );
  discard(response);
  if (mount && response.status === 201) return { mounted: true };
  return { mounted: false, session: sessionFrom(client, response, `The upload to ${repository}`) };
}

/** PATCH one chunk at `start`; the answer's Location is where the next one goes. */
export async function sendChunk(
  client: RegistryClient,
  session: UploadSession,
  bytes: Uint8Array,
  start: number,
  signal?: AbortSignal,
): Promise<UploadSession> {
  const response = await client.requestUrl(
    session.location,
    {
      method: 'PATCH',
      headers: {
        'content-type': 'application/octet-stream',
        'content-range': `${start}-${start + bytes.byteLength - 1}`,
      },
      body: bytes as Uint8Array<ArrayBuffer>,
      ...(signal ? { signal } : {}),
    },
    'Uploading a chunk',
  );
  discard(response);
  return sessionFrom(client, response, 'The upload');
}

/** How many bytes of an upload the registry holds (GET on the session: `Range: 0-<last>`), or undefined when it lost the session. */
export async function uploadedBytes(
  client: RegistryClient,
  session: UploadSession,
  signal?: AbortSignal,
): Promise<{ bytes: number; session: UploadSession } | undefined> {
  let response: Response;
  try {
    response = await client.requestUrl(session.location, signal ? { signal } : {}, 'The upload status');
  } catch (error) {
    if (signal?.aborted) throw abortError(signal);
    if (error instanceof SkiffError && (error.code === 'not-found' || error.code === 'http')) return undefined;
    throw error;
  }
  discard(response);
  const range = /^(?:bytes=)?0-(\d+)$/.exec(response.headers.get('range') ?? '');
  const bytes = range ? Number(range[1]) + 1 : 0;
  return { bytes, session: sessionFrom(client, response, 'The upload') };
}

/** PUT `?digest=`: the registry checks the digest of everything uploaded and commits the blob. */
export async function finishUpload(
  client: RegistryClient,
  session: UploadSession,
  digest: string,
  signal?: AbortSignal,
): Promise<void> {
  const url = new URL(session.location);
  url.searchParams.set('digest', digest);
  const response = await client.requestUrl(
    url.href,
    { method: 'PUT', headers: { 'content-length': '0' }, ...(signal ? { signal } : {}) },
    `Committing blob ${digest}`,
  );
  discard(response);
}

/** Abandons an upload, so a refused blob is never committed (best effort: registries expire them anyway). */
export async function cancelUpload(client: RegistryClient, session: UploadSession): Promise<void> {
  await client
    .requestUrl(session.location, { method: 'DELETE' }, 'Cancelling an upload')
    .then(discard)
    .catch(() => {});
}

/**
 * The absolute registry URL an answer's Location names. Relative ones are the registry's; a relay's own
 * URL (the relay rewrites Locations to pass through itself) is turned back into the registry's, so the
 * auth layer still recognises it.
 */
function sessionFrom(client: RegistryClient, response: Response, what: string): UploadSession {
  const location = response.headers.get('location');
  if (!location) throw new SkiffError('http', `${what}: the registry answered ${response.status} without a Location`);
  let absolute = new URL(location, client.baseUrl).href;
  if (client.relay && absolute.startsWith(`${new URL(client.relay, client.baseUrl).href}/`)) {
    const rest = absolute.slice(new URL(client.relay, client.baseUrl).href.length + 1);
    absolute = `${new URL(client.baseUrl).protocol}//${rest}`;
  }
  return { location: absolute };
}
