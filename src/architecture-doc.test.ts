/**
 * docs/architecture.md is where a newcomer finds each file of src/: its section for each folder
 * (### `src/core/` …) must name every file in it (tests aside), so a file added without its line fails here,
 * not in a reader's search. A name may use `{a,b}` and `*` (`i18n/{en,zh}/*.ts`).
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';

const root = join(import.meta.dirname, '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.test.ts') ? [] : [relative(join(root, 'src'), path)];
  });
}

/** `i18n/{en,zh}/*.ts` → a pattern matching `i18n/en/advice.ts`. */
function namePattern(name: string): RegExp {
  const escaped = name
    .replace(/[.+?^$()|[\]\\]/g, '\\$&')
    .replace(/\{([^}]*)\}/g, (_, list: string) => `(?:${list.split(',').join('|')})`)
    .replace(/\*/g, '[^/]+');
  return new RegExp(`^${escaped}$`);
}

test('docs/architecture.md names every file in src/, each in its folder’s section', () => {
  const doc = readFileSync(join(root, 'docs/architecture.md'), 'utf8');
  const sections = new Map<string, RegExp[]>();
  for (const part of doc.split(/^### /m).slice(1)) {
    const folder = /^`src\/([^`]+?)\/?`/.exec(part)?.[1];
    if (!folder) continue;
    const names = [...part.matchAll(/`([^`\s]+)`/g)].map((m) => namePattern(m[1]!));
    sections.set(folder, [...(sections.get(folder) ?? []), ...names]);
  }
  assert.ok(sections.size >= 4, 'the doc has a section per folder of src/');
  const missing = sourceFiles(join(root, 'src')).filter((path) => {
    const [folder, ...rest] = path.split('/');
    const names = sections.get(folder!) ?? [];
    return !names.some((pattern) => pattern.test(rest.join('/')) || pattern.test(path));
  });
  assert.deepEqual(missing, [], `not named in docs/architecture.md: ${missing.join(', ')}`);
});
