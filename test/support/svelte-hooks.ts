/**
 * Node module hooks that compile Svelte 5 rune modules (`*.svelte.ts`) the way vite's Svelte plugin does,
 * so the app's state modules run under Node's test runner without a browser: tsx strips the types first,
 * then `svelte/compiler`'s compileModule turns `$state`/`$derived` into the client runtime's signals.
 */
import { compileModule } from 'svelte/compiler';

type Load = (
  url: string,
  context: { format?: string | null },
  next: (url: string, context?: { format?: string | null }) => Promise<{ format?: string | null; source?: unknown }>,
) => Promise<{ format?: string | null; source?: unknown; shortCircuit?: boolean }>;

export const load: Load = async (url, context, next) => {
  const loaded = await next(url, context);
  if (!url.endsWith('.svelte.ts') || loaded.source === undefined) return loaded;
  const source =
    typeof loaded.source === 'string' ? loaded.source : new TextDecoder().decode(loaded.source as Uint8Array);
  const { js } = compileModule(source, { filename: new URL(url).pathname, generate: 'client', dev: false });
  return { format: 'module', source: js.code, shortCircuit: true };
};
