/**
 * The Node side of the engine's sha256 worker: a worker_threads thread running the hash service, and the
 * factory the engine uses to reach it.
 */
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import {
  type HashReply,
  type HashRequest,
  createHashService,
  replyTransfer,
  workerSha256Factory,
} from '../core/codecs/sha256-worker.ts';
import type { Sha256Factory } from '../core/codecs/sha256.ts';

if (!isMainThread && parentPort) {
  const port = parentPort;
  const handle = createHashService();
  port.on(
    'message',
    (request: HashRequest) =>
      void handle(request).then((reply) => port.postMessage(reply, replyTransfer(reply) as never)),
  );
}

/** Starts the thread; `close()` ends it. */
export function startSha256Thread(): { factory: Sha256Factory; close(): Promise<number> } {
  // On Node 20 a worker's entry is loaded before loader hooks apply, so a small JS entry registers the
  // TypeScript loader first and then imports this file.
  const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(import.meta.url)}); })`;
  const worker = new Worker(bootstrap, { eval: true, execArgv: [] });
  const factory = workerSha256Factory({
    post: (message, transfer = []) => worker.postMessage(message, transfer as never),
    onReply: (handler) => worker.on('message', (reply: HashReply) => handler(reply)),
  });
  return { factory, close: () => worker.terminate() };
}
