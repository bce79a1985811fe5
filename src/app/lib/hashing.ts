/**
 * sha256 on a second core: the engine's hash service in a Web Worker (src/core/codecs/sha256.worker.ts),
 * used for inflated layers and for the whole file, so the page's own thread is left to inflating. If the
 * worker cannot start or does not answer (an old browser, a host's CSP header that forbids it), hashing
 * stays in the page, slower but the same.
 */
import { type Sha256Factory, createSha256 } from '../../core/codecs/sha256.ts';
import { webWorkerSha256 } from '../../core/codecs/sha256-worker.ts';

let factory: Promise<Sha256Factory> | undefined;

export function pageSha256(): Promise<Sha256Factory> {
  factory ??= startWorker().catch(() => createSha256);
  return factory;
}

async function startWorker(): Promise<Sha256Factory> {
  const worker = new Worker(new URL('../../core/codecs/sha256.worker.ts', import.meta.url), { type: 'module', name: 'sha256' });
  const viaWorker = webWorkerSha256(worker);
  // One tiny hash proves the worker runs (and can compile its WebAssembly) before anything depends on it.
  const probe = (async () => {
    const hash = await viaWorker();
    await hash.update(new TextEncoder().encode('abc'));
    return hash.digest();
  })();
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('sha256 worker did not answer')), 5000));
  worker.addEventListener('error', () => {}, { once: true });
  const digest = await Promise.race([probe, timeout]);
  if (digest !== 'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad') {
    worker.terminate();
    throw new Error('sha256 worker answered wrongly');
  }
  return viaWorker;
}
