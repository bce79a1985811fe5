/**
 * An HTTP proxy in front of a real registry (or token server) that forwards every request unchanged
 * (method, path, headers including Range, body), streams answers back, and injects faults that a plan picks
 * per request: a flipped byte, a cut or stalled body, an injected status (401 challenge, 429, 500), a delay,
 * Range support taken away, a request accepted and never answered, a range answered for other bytes than asked, or headers added to an answer. It records what it saw so tests can assert on the client's behaviour.
 *
 * Faults from `once()` count only when they take effect (a body fault needs a 2xx answer whose body reaches
 * the offset), so a HEAD or an auth round trip before the real GET does not use them up.
 */
import {
  Agent,
  createServer,
  request,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault = (
  | { kind: 'flip-byte'; offset: number }
  | { kind: 'cut'; afterBytes: number }
  | { kind: 'stall'; afterBytes: number }
  | { kind: 'drip'; afterBytes: number; bytesPerSecond: number }
  | { kind: 'respond'; status: number; headers?: Record<string, string>; body?: string }
  | { kind: 'delay'; ms: number }
  | { kind: 'hang' }
  | { kind: 'ignore-range' }
  | { kind: 'cut-request'; afterBytes: number }
  | { kind: 'shift-range'; bytes: number }
  | { kind: 'add-headers'; headers: Record<string, string> }
) & {
  /** Called once per request the fault was handed to: did it take effect? (`once()` uses it.) */
  settle?: (fired: boolean) => void;
};

export interface ProxiedRequest {
  /** 0-based order of arrival. */
  index: number;
  method: string;
  /** Path with query, as the client sent it. */
  path: string;
  /** The client's Range header, if any (forwarded unchanged unless an ignore-range fault applies). */
  range: string | undefined;
  authorization: boolean;
  headers: IncomingHttpHeaders;
  /** Status the client got; undefined until answered. */
  status?: number;
  /** Kinds of the faults that took effect on this request. */
  faults: Fault['kind'][];
  /** Body bytes sent to the client. */
  bytes: number;
}

export type FaultPlan = (request: ProxiedRequest) => Fault | Fault[] | undefined | null;

export interface FaultProxy {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** `127.0.0.1:PORT`, as written in an image reference. */
  host: string;
  requests: ProxiedRequest[];
  setPlan(plan: FaultPlan | undefined): void;
  /** Answers not yet finished and whose connection is still open. */
  readonly inFlight: number;
  /** The most answers in flight at once since the last reset. */
  readonly peakInFlight: number;
  /** Forgets the recorded requests. */
  reset(): void;
  stop(): Promise<void>;
}

const ERROR_CODES: Record<number, string> = {
  401: 'UNAUTHORIZED',
  403: 'DENIED',
  404: 'NOT_FOUND',
  429: 'TOOMANYREQUESTS',
  500: 'UNKNOWN',
  503: 'UNAVAILABLE',
};

/** Fault builders. */
export const fault = {
  /** XOR 0xff into the byte at `offset` of the response body (offset within this response, e.g. a 206's). */
  flipByte: (offset: number): Fault => ({ kind: 'flip-byte', offset }),
  /** Send the headers and `afterBytes` body bytes, then close the connection. */
  cut: (afterBytes: number): Fault => ({ kind: 'cut', afterBytes }),
  /** Send the headers and `afterBytes` body bytes, then nothing more, keeping the connection open. */
  stall: (afterBytes: number): Fault => ({ kind: 'stall', afterBytes }),
  /** Send `afterBytes` body bytes at full speed, then the rest one byte at a time, `bytesPerSecond` of them. */
  drip: (afterBytes: number, bytesPerSecond = 1): Fault => ({ kind: 'drip', afterBytes, bytesPerSecond }),
  /** Answer this instead of forwarding (JSON distribution error body unless given). */
  status: (status: number, headers: Record<string, string> = {}, body?: string): Fault => ({
    kind: 'respond',
    status,
    headers,
    body,
  }),
  unauthorized: (wwwAuthenticate: string): Fault => ({
    kind: 'respond',
    status: 401,
    headers: { 'WWW-Authenticate': wwwAuthenticate },
  }),
  tooManyRequests: (retryAfterSeconds = 1): Fault => ({
    kind: 'respond',
    status: 429,
    headers: { 'Retry-After': String(retryAfterSeconds) },
  }),
  serverError: (status = 500): Fault => ({ kind: 'respond', status }),
  /** Accept the request and never answer it (no status, no headers), keeping the connection open. */
  hang: (): Fault => ({ kind: 'hang' }),
  /** Wait before forwarding. */
  delay: (ms: number): Fault => ({ kind: 'delay', ms }),
  /** Forward only the first `afterBytes` of the request body (an upload cut on the way), then close both connections. */
  cutRequest: (afterBytes: number): Fault => ({ kind: 'cut-request', afterBytes }),
  /** Forward without Range/If-Range and without Accept-Ranges in the answer: a full 200 as from a server without Range support. */
  ignoreRange: (): Fault => ({ kind: 'ignore-range' }),
  /** Forward a Range request asking for `bytes` later bytes than the client did: a 206 for the wrong range. */
  shiftRange: (bytes: number): Fault => ({ kind: 'shift-range', bytes }),
  /** Forward, and add these headers to the answer. */
  addHeaders: (headers: Record<string, string>): Fault => ({ kind: 'add-headers', headers }),
};

/** string: a substring of the path; RegExp: tested on the path; function: anything. */
export type Match = string | RegExp | ((request: ProxiedRequest) => boolean);

function matches(match: Match, request: ProxiedRequest): boolean {
  if (typeof match === 'string') return request.path.includes(match);
  if (match instanceof RegExp) return match.test(request.path);
  return match(request);
}

const BODY_FAULTS = new Set<Fault['kind']>(['flip-byte', 'cut', 'stall', 'drip']);

/**
 * The fault for the first `times` matching requests on which it takes effect, then nothing.
 * Requests handed the fault at the same time count as pending, so parallel GETs do not all get it.
 */
export function once(match: Match, chosen: Fault, times = 1): FaultPlan {
  let pending = 0;
  let fired = 0;
  return (request) => {
    if (fired + pending >= times || !matches(match, request)) return undefined;
    // A HEAD has no body: a body fault could never take effect there.
    if (BODY_FAULTS.has(chosen.kind) && request.method === 'HEAD') return undefined;
    pending++;
    return {
      ...chosen,
      settle(didFire) {
        pending--;
        if (didFire) fired++;
      },
    };
  };
}

/** The fault for every matching request. */
export function always(match: Match, chosen: Fault): FaultPlan {
  return (request) => (matches(match, request) ? chosen : undefined);
}

/**
 * Answers every CORS preflight with 200, as a reverse proxy in front of a private registry does (and Skiff's
 * relay): distribution's htpasswd mode answers them with 401.
 */
export const answerPreflights: FaultPlan = always(
  (r) => r.method === 'OPTIONS',
  fault.status(
    200,
    {
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
      'Access-Control-Allow-Headers': 'Authorization, Accept, Range',
      'Access-Control-Max-Age': '600',
    },
    '',
  ),
);

/**
 * Every plan's faults for the request, in order (so a delay and a cut can combine). Faults that do not take
 * effect are released, so `combine(once(m, a), once(m, b))` gives a, then b, on consecutive matching
 * requests when a and b are both injected answers (the first answer wins).
 */
export function combine(...plans: FaultPlan[]): FaultPlan {
  return (request) => plans.flatMap((plan) => toList(plan(request)));
}

function toList(faults: Fault | Fault[] | undefined | null): Fault[] {
  if (!faults) return [];
  return Array.isArray(faults) ? faults : [faults];
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

function endToEnd(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

export async function startFaultProxy(
  targetUrl: string,
  plan?: FaultPlan,
  options: { cors?: boolean } = {},
): Promise<FaultProxy> {
  const target = new URL(targetUrl);
  if (target.protocol !== 'http:') throw new Error('the fault proxy forwards to http targets only');
  let currentPlan = plan;
  const requests: ProxiedRequest[] = [];
  let counter = 0;
  let inFlight = 0;
  let peakInFlight = 0;
  // Keep-alive to the target so thousands of small requests do not exhaust ephemeral ports.
  const agent = new Agent({ keepAlive: true });
  let proxyOrigin = '';

  const corsHeaders: Record<string, string> = options.cors
    ? {
        'Access-Control-Allow-Origin': '*',
        'Access-Control-Expose-Headers':
          'Docker-Content-Digest, WWW-Authenticate, Content-Length, Content-Range, Retry-After',
      }
    : {};

  const server = createServer((req, res) => {
    const record: ProxiedRequest = {
      index: counter++,
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      range: req.headers.range,
      authorization: req.headers.authorization !== undefined,
      headers: req.headers,
      faults: [],
      bytes: 0,
    };
    requests.push(record);
    inFlight++;
    peakInFlight = Math.max(peakInFlight, inFlight);
    res.once('close', () => inFlight--);
    let faults: Fault[];
    try {
      faults = toList(currentPlan?.(record));
    } catch (error) {
      req.resume();
      res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`fault plan threw: ${String(error)}`);
      record.status = 500;
      return;
    }
    const settled = new Set<Fault>();
    const settle = (f: Fault, fired: boolean) => {
      if (settled.has(f)) return;
      settled.add(f);
      if (fired) record.faults.push(f.kind);
      f.settle?.(fired);
    };
    // Whatever did not fire by the time the answer is complete did not fire. Settled before the last byte
    // leaves, so the client's next request already sees released `once()` faults.
    const settleRest = () => faults.forEach((f) => settle(f, false));
    res.once('close', settleRest);
    void forward(req, res, record, faults, settle, settleRest);
  });

  async function forward(
    req: IncomingMessage,
    res: ServerResponse,
    record: ProxiedRequest,
    faults: Fault[],
    settle: (f: Fault, fired: boolean) => void,
    settleRest: () => void,
  ): Promise<void> {
    for (const f of faults) {
      if (f.kind !== 'delay') continue;
      await new Promise((r) => setTimeout(r, f.ms));
      settle(f, true);
    }
    if (res.destroyed) return;

    const hang = faults.find((f) => f.kind === 'hang');
    if (hang) {
      req.resume();
      settle(hang, true);
      return;
    }

    const respond = faults.find((f) => f.kind === 'respond');
    if (respond?.kind === 'respond') {
      req.resume();
      const body =
        respond.body ??
        JSON.stringify({
          errors: [
            { code: ERROR_CODES[respond.status] ?? 'UNKNOWN', message: `injected ${respond.status}`, detail: null },
          ],
        });
      record.status = respond.status;
      res.writeHead(respond.status, {
        'Content-Type': 'application/json; charset=utf-8',
        'Content-Length': Buffer.byteLength(body),
        'Docker-Distribution-Api-Version': 'registry/2.0',
        ...corsHeaders,
        ...respond.headers,
      });
      settle(respond, true);
      settleRest();
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }

    const headers = endToEnd(req.headers);
    headers.host = target.host;
    const ignoreRange = faults.find((f) => f.kind === 'ignore-range');
    if (ignoreRange && (headers.range !== undefined || headers['if-range'] !== undefined)) {
      delete headers.range;
      delete headers['if-range'];
      settle(ignoreRange, true);
    }
    const shift = faults.find((f) => f.kind === 'shift-range');
    const asked = typeof headers.range === 'string' ? /^bytes=(\d+)-(\d*)$/.exec(headers.range) : null;
    if (shift?.kind === 'shift-range' && asked) {
      const end = asked[2] ? String(Number(asked[2]) + shift.bytes) : '';
      headers.range = `bytes=${Number(asked[1]) + shift.bytes}-${end}`;
      settle(shift, true);
    }

    const upstream = request({
      host: target.hostname,
      port: target.port,
      method: req.method,
      path: req.url,
      headers,
      agent,
    });
    res.once('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    upstream.on('error', (error) => {
      if (!res.headersSent) {
        record.status = 502;
        res.writeHead(502, { 'Content-Type': 'text/plain' }).end(`fault proxy: ${error.message}`);
      } else {
        res.destroy();
      }
    });
    upstream.on('response', (upRes) => relay(upRes, res, record, faults, settle, settleRest, !!ignoreRange));
    const cutRequest = faults.find((f) => f.kind === 'cut-request');
    if (cutRequest?.kind !== 'cut-request') {
      req.pipe(upstream);
      return;
    }
    let forwarded = 0;
    req.on('data', (chunk: Buffer) => {
      if (forwarded >= cutRequest.afterBytes) return;
      const part = chunk.subarray(0, cutRequest.afterBytes - forwarded);
      forwarded += part.length;
      upstream.write(part);
      if (forwarded >= cutRequest.afterBytes) {
        settle(cutRequest, true);
        // Let the partial body reach the registry, then drop both sides as a broken network would.
        setTimeout(() => {
          upstream.destroy();
          req.socket.destroy();
        }, 50);
      }
    });
    req.on('end', () => {
      if (forwarded < cutRequest.afterBytes) upstream.end();
    });
  }

  function relay(
    upRes: IncomingMessage,
    res: ServerResponse,
    record: ProxiedRequest,
    faults: Fault[],
    settle: (f: Fault, fired: boolean) => void,
    settleRest: () => void,
    ignoreRange: boolean,
  ): void {
    const status = upRes.statusCode ?? 502;
    const headers = endToEnd(upRes.headers);
    const location = headers.location;
    // Redirects (e.g. upload URLs) must come back through the proxy.
    if (typeof location === 'string' && location.startsWith(target.origin)) {
      headers.location = proxyOrigin + location.slice(target.origin.length);
    }
    if (ignoreRange) delete headers['accept-ranges'];
    for (const f of faults) {
      if (f.kind !== 'add-headers') continue;
      Object.assign(headers, f.headers);
      settle(f, true);
    }
    record.status = status;
    res.writeHead(status, upRes.statusMessage, headers);

    const bodyFaults = status >= 200 && status < 300 ? faults.filter((f) => BODY_FAULTS.has(f.kind)) : [];
    const limit = bodyFaults.find((f) => f.kind === 'cut' || f.kind === 'stall') as
      { kind: 'cut' | 'stall'; afterBytes: number } | undefined;
    let sent = 0;
    let detached = false; // we stopped reading the target on purpose (cut, stall)
    const drip = bodyFaults.find((f) => f.kind === 'drip') as
      (Fault & { kind: 'drip'; afterBytes: number; bytesPerSecond: number }) | undefined;
    if (drip) {
      // Everything from the target is held and let out a byte at a time once `afterBytes` have gone; the
      // headers go at once, as from a server that answers and then sends slowly.
      res.flushHeaders();
      const held: Buffer[] = [];
      let ended = false;
      let timer: ReturnType<typeof setInterval> | undefined;
      const sendByte = () => {
        while (held.length && held[0]!.length === 0) held.shift();
        if (held.length === 0) {
          if (ended) {
            clearInterval(timer);
            settleRest();
            res.end();
          }
          return;
        }
        const head = held[0]!;
        res.write(head.subarray(0, 1));
        held[0] = head.subarray(1);
        record.bytes = ++sent;
      };
      upRes.on('data', (chunk: Buffer) => {
        if (res.destroyed) return;
        let out = chunk;
        if (sent < drip.afterBytes) {
          const part = out.subarray(0, drip.afterBytes - sent);
          res.write(part);
          sent += part.length;
          record.bytes = sent;
          out = out.subarray(part.length);
        }
        if (out.length === 0) return;
        if (!timer) {
          settle(drip, true);
          timer = setInterval(sendByte, 1000 / drip.bytesPerSecond);
        }
        held.push(out);
      });
      upRes.on('end', () => {
        ended = true;
        if (!timer) {
          settleRest();
          res.end();
        }
      });
      res.once('close', () => clearInterval(timer));
      return;
    }

    upRes.on('data', (chunk: Buffer) => {
      if (res.destroyed) return;
      let out = chunk;
      for (const f of bodyFaults) {
        if (f.kind === 'flip-byte' && f.offset >= sent && f.offset < sent + out.length) {
          out = Buffer.from(out); // a copy: the chunk may be a view into a shared pool
          out[f.offset - sent]! ^= 0xff;
          settle(f, true);
        }
      }
      if (limit && sent + out.length > limit.afterBytes) {
        const part = out.subarray(0, limit.afterBytes - sent);
        sent += part.length;
        record.bytes = sent;
        settle(limit as Fault, true);
        detached = true;
        upRes.destroy(); // read no more from the target; that connection is not reused
        if (part.length > 0) res.write(part);
        else res.flushHeaders();
        if (limit.kind === 'cut') {
          // end() after the queued writes, so exactly `afterBytes` reach the client before the close.
          const socket = res.socket;
          socket?.end(() => socket.destroy());
        }
        return;
      }
      sent += out.length;
      record.bytes = sent;
      if (!res.write(out)) {
        upRes.pause();
        res.once('drain', () => upRes.resume());
      }
    });
    upRes.on('end', () => {
      settleRest();
      res.end();
    });
    upRes.on('error', () => {
      if (!detached) res.destroy();
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = `127.0.0.1:${port}`;
  proxyOrigin = `http://${host}`;

  return {
    url: proxyOrigin,
    host,
    requests,
    setPlan(next) {
      currentPlan = next;
    },
    get inFlight() {
      return inFlight;
    },
    get peakInFlight() {
      return peakInFlight;
    },
    reset() {
      requests.length = 0;
      peakInFlight = inFlight;
    },
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Stalled answers would otherwise keep close() waiting forever.
        server.closeAllConnections();
      });
      agent.destroy();
    },
  };
}
