/**
 * What `npm run pull` is asked for, resolved whole before a byte is written: the references on the command
 * line and the lines of a list file (`-f`, read as the page reads a pasted list). Every problem — a name that
 * is not a reference, a plain repeat, a name the registry does not know, a platform it lacks — is collected
 * with its line, so one run names them all and the pull starts only from a clean list.
 */
import { SkiffError } from '../core/errors.ts';
import { type PlatformSelection, parseImageList } from '../core/image/image-list.ts';
import { formatReference } from '../core/image/reference.ts';
import type { ResolveOptions } from '../core/registry/resolve.ts';
import { resolveList } from '../core/registry/resolve-list.ts';
import type { ResolvedSet } from '../core/registry/resolve-set.ts';

/** A problem with one name (or line) of what was asked for, and where it was written. */
export interface Problem {
  /** Line of the combined input (arguments first), for order. */
  line: number;
  /** `images.txt line 3`, `argument 1`. */
  where: string;
  code: string;
  /** The name it is about, when it is about one. */
  name?: string;
  message: string;
}

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
): Promise<{ sets: ResolvedSet[]; problems: Problem[] }> {
  const lines = [...source.positionals.map((p) => `${p}`), ...(source.file ? source.file.text.split(/\r?\n/) : [])];
  const lineOnly = (line: number) =>
    line <= source.positionals.length ? `argument ${line}` : `line ${line - source.positionals.length}`;
  const where = (line: number) =>
    line <= source.positionals.length ? lineOnly(line) : `${source.file!.name} ${lineOnly(line)}`;
  const list = parseImageList(lines.join('\n'));
  const problems: Problem[] = list.problems.map((p) => ({
    line: p.line,
    where: where(p.line),
    code: 'invalid-argument',
    message: p.message,
  }));
  for (const repeat of list.repeated)
    if (repeat.platforms !== 'all' && repeat.platforms.length === 0)
      problems.push({
        line: repeat.line,
        where: where(repeat.line),
        code: 'duplicate',
        name: repeat.text,
        message: `already named on ${lineOnly(repeat.firstLine)}`,
      });
  const named = list.entries.filter((entry) => entry.reference);
  for (const entry of list.entries)
    if (!entry.reference)
      problems.push({
        line: entry.line,
        where: where(entry.line),
        code: 'invalid-reference',
        name: entry.text,
        message: entry.error!,
      });
  const resolutions = await resolveList(
    named.map((entry) => ({
      reference: entry.reference!,
      selection: entry.platforms === 'all' || entry.platforms.length ? entry.platforms : source.platforms,
    })),
    options,
  );
  const sets: ResolvedSet[] = [];
  resolutions.forEach((resolution, i) => {
    const entry = named[i]!;
    if ('set' in resolution) return void sets.push(resolution.set);
    const { error } = resolution;
    problems.push({
      line: entry.line,
      where: where(entry.line),
      code: error instanceof SkiffError ? error.code : 'unexpected',
      name: formatReference(entry.reference!),
      message: error instanceof Error ? error.message : String(error),
    });
  });
  return { sets, problems: problems.sort((a, b) => a.line - b.line) };
}
