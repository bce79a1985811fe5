/**
 * A blob server as a plain function, for unit tests of the transport and the scheduler (milliseconds, no
 * sockets): it answers `Range` like a registry (206 + Content-Range), or misbehaves as told, and counts
 * the requests it saw and the bodies still open, so a test can check that every request ended.
 */
export interface FakeBlobServerOptions {
  /** Body chunk size (default 1000 bytes). */
  chunkBytes?: number;
  /** Answer 200 with the whole blob whatever the Range. */
  ignoreRange?: boolean;
  /** Per request (0-based): misbehave. `cut`: end the body with an error after this many bytes;
   *  `shift`: answer a range starting this many bytes later than asked; `stall`: send this many bytes, then nothing. */
  fault?: (index: number, range: string | undefined) => { cut?: number; shift?: number; stall?: number } | undefined;
}

export interface FakeRequest {
  range: string | undefined;
  headers: Headers;
  url: string;
}

export function fakeBlobServer(blob: Uint8Array, options: FakeBlobServerOptions = {}) {
  const requests: FakeRequest[] = [];
  let open = 0;
  let peakOpen = 0;
  const chunkBytes = options.chunkBytes ?? 1000;

  function respond(range: string | undefined, signal: AbortSignal | null | undefined, index: number): Response {
    const fault = options.fault?.(index, range);
    let start = 0;
    let end = blob.byteLength;
    let status = 200;
    const headers = new Headers({ 'content-type': 'application/octet-stream' });
    const match = /^bytes=(\d+)-(\d*)$/.exec(range ?? '');
    if (match && !options.ignoreRange) {
      start = Number(match[1]) + (fault?.shift ?? 0);
      end = match[2] ? Number(match[2]) + 1 + (fault?.shift ?? 0) : blob.byteLength;
      end = Math.min(end, blob.byteLength);
      status = 206;
      headers.set('content-range', `bytes ${start}-${end - 1}/${blob.byteLength}`);
    }
    headers.set('content-length', String(end - start));
    let at = start;
    let closed = false;
    open++;
    peakOpen = Math.max(peakOpen, open);
    const close = () => {
      if (!closed) open--;
      closed = true;
    };
    const sendUntil =
      fault?.cut !== undefined ? start + fault.cut : fault?.stall !== undefined ? start + fault.stall : end;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        signal?.addEventListener('abort', () => {
          close();
          try {
            controller.error(signal.reason);
          } catch {
            // already closed
          }
        });
      },
      async pull(controller) {
        if (closed) return;
        if (at >= sendUntil) {
          if (fault?.cut !== undefined) {
            close();
            controller.error(new TypeError('terminated'));
          } else if (fault?.stall !== undefined) {
            await new Promise(() => {}); // never sends more; only an abort or cancel ends it
          } else {
            close();
            controller.close();
          }
          return;
        }
        const n = Math.min(chunkBytes, sendUntil - at);
        controller.enqueue(blob.slice(at, at + n));
        at += n;
        await new Promise((r) => setTimeout(r, 0));
      },
      cancel() {
        close();
      },
    });
    return new Response(body, { status, headers });
  }

  return {
    requests,
    /** Bodies neither finished nor ended by the client. */
    get open() {
      return open;
    },
    get peakOpen() {
      return peakOpen;
    },
    /** As a fetch: any URL serves the blob. */
    fetch: async (url: string, init: RequestInit = {}): Promise<Response> => {
      const headers = new Headers(init.headers);
      const range = headers.get('range') ?? undefined;
      requests.push({ range, headers, url });
      if (init.signal?.aborted) throw init.signal.reason;
      return respond(range, init.signal, requests.length - 1);
    },
  };
}
