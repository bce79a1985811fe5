/**
 * A Web Worker entry for the sha256 service (see sha256-worker.ts). A page starts it with
 * `new Worker(new URL('./sha256.worker.ts', import.meta.url), { type: 'module' })` and hands it to
 * `webWorkerSha256`, so hashing runs on another core while the page's thread inflates.
 */
import { type HashRequest, createHashService } from './sha256-worker.ts';

const scope = globalThis as unknown as { addEventListener(type: 'message', listener: (event: MessageEvent<HashRequest>) => void): void; postMessage(message: unknown): void };
const handle = createHashService();
scope.addEventListener('message', (event) => void handle(event.data).then((reply) => scope.postMessage(reply)));
