/**
 * What a relayed request may carry: reads (GET, HEAD) nothing; a token POST a small form, read whole here
 * (and counted against the limit before it is read); a push its upload, streamed on untouched.
 */
import { readAtMost } from '../core/bytes.ts';
import { SkiffError } from '../core/errors.ts';
import { RelayError } from './errors.ts';
import { type Route, checkReadMethod } from './route.ts';

/** The body of a read or a token request: none for GET and HEAD, the form for a token POST. */
export async function readRequestBody(
  request: Request,
  route: Route,
  limit: number,
): Promise<Uint8Array<ArrayBuffer> | null> {
  const method = request.method;
  checkReadMethod(method, route);
  if (method === 'GET' || method === 'HEAD') {
    const length = request.headers.get('content-length');
    if ((length !== null && length !== '0') || request.headers.has('transfer-encoding')) {
      throw new RelayError(400, 'body-not-allowed', `${method} requests carry no body here.`);
    }
    return null;
  }
  const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw new RelayError(415, 'unsupported-media-type', 'Token requests must be application/x-www-form-urlencoded.');
  }
  const tooLarge = () => new RelayError(413, 'body-too-large', `Token request bodies are limited to ${limit} bytes.`);
  if (Number(request.headers.get('content-length') ?? 0) > limit) throw tooLarge();
  if (!request.body) return new Uint8Array(0);
  let body: Uint8Array<ArrayBuffer> | undefined;
  try {
    body = await readAtMost(request.body, limit, { what: 'The token request body' });
  } catch (error) {
    throw bodyFailure(error);
  }
  if (!body) throw tooLarge();
  return body;
}

/** The body comes from the client: when it stops short, the client went away (or stalled), not the relay. */
function bodyFailure(error: unknown): RelayError {
  if (error instanceof SkiffError && error.code === 'timeout')
    return new RelayError(408, 'body-timeout', 'The token request body did not arrive in time.');
  return new RelayError(499, 'client-closed', 'The client went away while sending the token request body.');
}
