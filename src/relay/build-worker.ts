/**
 * Bundles src/relay/worker.ts into one ES module for workerd (which runs JavaScript, not TypeScript):
 * node_modules/.cache/skiff-relay/worker.js, the file src/relay/workerd*.capnp embed. Wrangler bundles
 * worker.ts itself, so this is only for running workerd directly.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const root = resolve(import.meta.dirname, '../..');
export const WORKER_BUNDLE = resolve(root, 'node_modules/.cache/skiff-relay/worker.js');

export async function buildWorker(): Promise<string> {
  await build({
    configFile: false,
    root,
    logLevel: 'warn',
    publicDir: false,
    build: {
      lib: { entry: resolve(root, 'src/relay/worker.ts'), formats: ['es'], fileName: () => 'worker.js' },
      outDir: resolve(WORKER_BUNDLE, '..'),
      emptyOutDir: true,
      minify: false,
      sourcemap: false,
      target: 'es2022',
    },
  });
  return WORKER_BUNDLE;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildWorker().then(
    (file) => console.log(`worker bundle: ${file}`),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
