/**
 * sha256 on another core: the engine's hash service in a Web Worker (src/core/codecs/sha256.worker.ts),
 * used for the whole file and, through a port, by the engine worker for inflated layers. If the
 * worker cannot start or does not answer (an old browser, a host's CSP header that forbids it), hashing
 * stays in the page, slower but the same.
 */
import { type Sha256Factory, createSha256 } from '../../core/codecs/sha256.ts';
import { webWorkerSha256 } from '../../core/codecs/sha256-worker.ts';

let started: Promise<{ factory: Sha256Factory; worker?: Worker }> | undefined;

function pageHashing(): Promise<{ factory: Sha256Factory; worker?: Worker }> {
  started ??= startSha256Worker().catch(() => ({ factory: createSha256 }));
  return started;
}

export async function pageSha256(): Promise<Sha256Factory> {
  return (await pageHashing()).factory;
}

/**
 * A MessagePort to the page's hashing thread, for another worker (the engine's) to hash on it too, or
 * undefined when hashing runs in the page. Transfer it to that worker and pass it to `portSha256`.
 */
export async function pageHashPort(): Promise<MessagePort | undefined> {
  const { worker } = await pageHashing();
  if (!worker) return undefined;
  const channel = new MessageChannel();
  worker.postMessage({ connect: channel.port2 }, [channel.port2]);
  return channel.port1;
}

/** Hashers behind a port from `pageHashPort`. */
export function portSha256(port: MessagePort): Sha256Factory {
  const factory = webWorkerSha256(port);
  port.start();
  return factory;
}

/** A sha256 worker of its own (pages and workers alike); rejects when it cannot start or answers wrongly. */
export async function startSha256Worker(): Promise<{ factory: Sha256Factory; worker: Worker }> {
  const worker = new Worker(new URL('../../core/codecs/sha256.worker.ts', import.meta.url), {
    type: 'module',
    name: 'sha256',
  });
  const viaWorker = webWorkerSha256(worker);
  // One tiny hash proves the worker runs (and can compile its WebAssembly) before anything depends on it.
  const probe = (async () => {
    const hash = await viaWorker();
    await hash.update(new TextEncoder().encode('abc'));
    return hash.digest();
  })();
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error('sha256 worker did not answer')), 5000),
  );
  worker.addEventListener('error', () => {}, { once: true });
  const digest = await Promise.race([probe, timeout]).catch(() => undefined);
  if (digest !== 'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad') {
    worker.terminate();
    throw new Error('sha256 worker did not answer, or answered wrongly');
  }
  return { factory: viaWorker, worker };
}
