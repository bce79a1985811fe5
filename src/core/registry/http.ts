/** How a registry's HTTP answers are read: failures as SkiffErrors that say what to do, bodies within bounds. */
import { readAtMost, readTextAtMost } from '../bytes.ts';
import { SkiffError } from '../errors.ts';
import { summarize } from './transport/auth.ts';
import { discard } from './transport/fetcher.ts';
import { parseQuotaRefusal } from './transport/rate-limit.ts';
import { relayRefusal } from './transport/relay.ts';

export async function httpError(
  response: Response,
  what: string,
  relayed: boolean,
  readMs: number,
): Promise<SkiffError> {
  // An error page is a few bytes: one stall window of the wait policy is time enough to read it.
  const text = await readTextAtMost(response, 64 * 1024, what, readMs).catch(() => '');
  // The relay's own refusal: the registry may never have been contacted.
  const refusal = relayed ? relayRefusal(response.status, text, response.headers) : undefined;
  if (refusal) return refusal;
  let detail = summarize(text);
  try {
    const body = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    if (Array.isArray(body.errors) && body.errors.length) {
      detail = body.errors.map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; ');
    }
  } catch {
    // not JSON: keep the text summary
  }
  switch (response.status) {
    case 401:
      return new SkiffError(
        'unauthorized',
        `${what}: unauthorized. Check the username and password or access token. (${detail})`,
      );
    case 403:
      return new SkiffError('denied', `${what}: access denied by the registry (${detail})`);
    case 404:
      return new SkiffError(
        'not-found',
        `${what} was not found: check the repository name and the tag or digest (${detail})`,
      );
    case 429: {
      const quota = parseQuotaRefusal(response.headers);
      const reset = quota.resetSeconds !== undefined ? `; it resets in ${quota.resetSeconds} s` : '';
      return new SkiffError(
        'rate-limited',
        `${what}: the registry is rate-limiting requests (429${reset}); wait a while or log in (${detail})`,
        { quota },
      );
    }
    default:
      return new SkiffError('http', `${what}: the registry answered HTTP ${response.status} (${detail})`);
  }
}

/** Reads a whole body, refusing more than `limit` bytes (declared or actual) so hostile answers cannot fill memory. */
export async function readLimited(
  response: Response,
  limit: number,
  what: string,
  deadlineMs?: number,
): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length'));
  if (declared > limit) {
    discard(response);
    throw new SkiffError('too-large', `${what} is ${declared} bytes, more than the ${limit} allowed`);
  }
  if (!response.body) return new Uint8Array(0);
  const bytes = await readAtMost(response.body, limit, { what, ...(deadlineMs !== undefined ? { deadlineMs } : {}) });
  if (!bytes) throw new SkiffError('too-large', `${what} is larger than the ${limit} bytes allowed`);
  // A body shorter than its Content-Length was cut, even where the runtime reports a clean end.
  if (declared > 0 && bytes.byteLength < declared && !response.headers.has('content-encoding')) {
    throw new SkiffError('network', `${what}: the connection ended after ${bytes.byteLength} of ${declared} bytes`);
  }
  return bytes;
}
