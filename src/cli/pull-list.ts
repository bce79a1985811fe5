/**
 * What `npm run pull` is asked for, resolved whole before a byte is written: the references on the command
 * line and the lines of a list file (`-f`, read as the page reads a pasted list). Every problem — a name that
 * is not a reference, a plain repeat, a name the registry does not know, a platform it lacks — is collected
 * with its line, so one run names them all and the pull starts only from a clean list.
 */
import { SkiffError } from '../core/errors.ts';
import { type PlatformSelection, parseImageList } from '../core/image/image-list.ts';
import { formatReference } from '../core/image/reference.ts';
import { RegistryClients } from '../core/registry/pool.ts';
import type { ResolveOptions } from '../core/registry/resolve.ts';
import { type ResolvedSet, resolveSet } from '../core/registry/resolve-set.ts';

export interface ListSource {
  /** The list file's name (for messages) and text. */
  file?: { name: string; text: string };
  positionals: string[];
  /** For every image that names no platform. */
  platforms: PlatformSelection;
}

export async function resolveRequested(
  source: ListSource,
  options: ResolveOptions,
): Promise<{ sets: ResolvedSet[]; problems: string[] }> {
  const lines = [...source.positionals.map((p) => `${p}`), ...(source.file ? source.file.text.split(/\r?\n/) : [])];
  const where = (line: number) =>
    line <= source.positionals.length
      ? `argument ${line}`
      : `${source.file!.name} line ${line - source.positionals.length}`;
  const list = parseImageList(lines.join('\n'));
  const problems = list.problems.map((p) => `${where(p.line)}: ${p.message}`);
  for (const repeat of list.repeated)
    if (repeat.platforms !== 'all' && repeat.platforms.length === 0)
      problems.push(`${where(repeat.line)}: ${repeat.text} is already named (${where(repeat.firstLine)})`);
  const clients = new RegistryClients(options);
  const sets: ResolvedSet[] = [];
  for (const entry of list.entries) {
    if (!entry.reference) {
      problems.push(`${where(entry.line)}: ${entry.text}: ${entry.error}`);
      continue;
    }
    const selection = entry.platforms === 'all' || entry.platforms.length ? entry.platforms : source.platforms;
    try {
      sets.push(await resolveSet(entry.reference, selection, { ...options, clients }));
    } catch (error) {
      if (options.signal?.aborted) throw error;
      const code = error instanceof SkiffError ? ` (${error.code})` : '';
      const message = error instanceof Error ? error.message : String(error);
      problems.push(`${where(entry.line)}: ${formatReference(entry.reference)}${code}: ${message}`);
    }
  }
  return { sets, problems };
}
