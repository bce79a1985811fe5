/** `node --import tsx --import ./test/support/svelte-modules.ts …`: `.svelte.ts` modules compile as in the app. */
import { register } from 'node:module';

register('./svelte-hooks.ts', import.meta.url);
