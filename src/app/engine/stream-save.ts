/**
 * A download through StreamSaver's service worker (its mitm.html and sw.js, served by us: see vite.config.ts),
 * written to in turns: each chunk's buffer is transferred to the worker (not copied, as a transferred stream
 * would), and the write settles only when the download has taken the chunk — the worker acknowledges it when
 * the browser asks for the next one, and gives the buffer back to be filled again. So the browser holds one
 * chunk at a time whatever the file's size, and a GB saved leaves no GB of buffers for the collector.
 */

interface Pending {
  resolve(): void;
  reject(error: unknown): void;
}

let helper: Promise<HTMLIFrameElement> | undefined;

/** StreamSaver's helper page, loaded once in a hidden frame and kept: removing it could end a download. */
function helperFrame(mitm: string): Promise<HTMLIFrameElement> {
  helper ??= new Promise((resolve) => {
    const frame = document.createElement('iframe');
    frame.hidden = true;
    frame.src = mitm;
    frame.addEventListener('load', () => resolve(frame), { once: true });
    document.body.append(frame);
  });
  return helper;
}

export interface ServiceWorkerFile {
  writable: WritableStream<Uint8Array>;
  /** The buffer the worker gave back for the chunk written last, if any (the chunk itself is gone). */
  takeReturned(): Uint8Array | undefined;
}

/** Opens the download `fileName` (of `size` bytes when known) through the helper page at `mitm`. */
export function serviceWorkerFile(mitm: string, fileName: string, size: number | undefined): ServiceWorkerFile {
  const channel = new MessageChannel();
  const port = channel.port1;
  let pending: Pending | undefined;
  let failure: unknown;
  let returned: Uint8Array | undefined;
  const fail = (error: unknown) => {
    failure ??= error;
    pending?.reject(failure);
    pending = undefined;
  };
  port.onmessage = (event: MessageEvent<{ download?: string; abort?: boolean; ack?: boolean; chunk?: Uint8Array }>) => {
    const data = event.data;
    if (data.download) {
      // Opening the worker's URL in a frame starts the browser's download of what the worker streams.
      const frame = document.createElement('iframe');
      frame.hidden = true;
      frame.src = data.download;
      document.body.append(frame);
    } else if (data.abort) {
      fail(new DOMException('The browser ended the download', 'AbortError'));
    } else if (data.ack) {
      returned = data.chunk;
      pending?.resolve();
      pending = undefined;
    }
  };
  const name = encodeURIComponent(fileName.replace(/\//g, ':'))
    .replace(/['()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/\*/g, '%2A');
  const headers: Record<string, string> = {
    'Content-Type': 'application/octet-stream; charset=utf-8',
    'Content-Disposition': `attachment; filename*=UTF-8''${name}`,
    ...(size ? { 'Content-Length': String(size) } : {}),
  };
  const opened = helperFrame(mitm).then((frame) =>
    frame.contentWindow?.postMessage(
      { transferringReadable: false, pathname: `${Math.random().toString().slice(-6)}/${name}`, headers },
      '*',
      [channel.port2],
    ),
  );

  const writable = new WritableStream<Uint8Array>({
    async write(chunk) {
      await opened;
      if (failure) throw failure;
      // Only a view of a whole buffer can be handed over as it is; anything else goes as a copy.
      const whole = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength ? chunk : chunk.slice();
      returned = undefined;
      await new Promise<void>((resolve, reject) => {
        pending = { resolve, reject };
        port.postMessage(whole, [whole.buffer]);
      });
    },
    async close() {
      await opened;
      if (failure) throw failure;
      port.postMessage('end');
    },
    async abort() {
      await opened;
      port.postMessage('abort');
      fail(new DOMException('The download was stopped', 'AbortError'));
      port.close();
    },
  });
  return {
    writable,
    takeReturned: () => {
      const buffer = returned;
      returned = undefined;
      return buffer;
    },
  };
}
