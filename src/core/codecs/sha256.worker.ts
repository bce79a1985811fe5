/**
 * A Web Worker entry for the sha256 service (see sha256-worker.ts). A page starts it with
 * `new Worker(new URL('./sha256.worker.ts', import.meta.url), { type: 'module' })` and hands it to
 * `webWorkerSha256`, so hashing runs on another core. `{ connect: port }` serves a further client (another
 * worker) on that MessagePort, with its own hashers: one hashing thread can serve the page and a worker.
 */
import { type HashRequest, createHashService, replyTransfer } from './sha256-worker.ts';

interface Endpoint {
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  postMessage(message: unknown, transfer: Transferable[]): void;
}

function serve(endpoint: Endpoint, onOther?: (data: unknown) => void): void {
  const handle = createHashService();
  endpoint.addEventListener('message', (event) => {
    const data = event.data as HashRequest | { connect: MessagePort };
    if ('connect' in data) return onOther?.(data);
    void handle(data).then((reply) => endpoint.postMessage(reply, replyTransfer(reply)));
  });
}

serve(globalThis as unknown as Endpoint, (data) => {
  const port = (data as { connect: MessagePort }).connect;
  serve(port);
  port.start();
});
