/**
 * Runs the suites with Node's own test runner. `npm test` runs all of them; `npm test -- unit` (or
 * integration, e2e) one kind. Unit tests sit beside the code they test (src/**\/*.test.ts); tests that
 * start real registries, dockerd or Chromium sit under test/integration and test/e2e.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const suites: Record<string, string> = { unit: 'src', integration: 'test/integration', e2e: 'test/e2e' };
const chosen = process.argv.slice(2);
const dirs = chosen.length ? chosen.map((name) => suites[name] ?? name) : Object.values(suites);

function findTests(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return findTests(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}

const files = dirs
  .flatMap((dir) => findTests(join(root, dir)))
  .map((f) => relative(root, f))
  .sort();
if (files.length === 0) {
  console.error(`no test files under ${dirs.join(', ')}`);
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  // The second hook compiles the app's `.svelte.ts` state modules as vite does, so they are tested under Node.
  [
    '--import',
    'tsx',
    '--import',
    './test/support/svelte-modules.ts',
    '--test',
    '--test-concurrency=1',
    '--test-reporter=spec',
    ...files,
  ],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
