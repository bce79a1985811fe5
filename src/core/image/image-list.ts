/**
 * Lists of images, as people paste them from a release's notes or a chart's values: one reference per line or
 * several separated by spaces or commas, `#` comments, blank lines. A line may add `--platform all` or
 * `--platform linux/amd64,linux/arm64` for the references on it (the same words as the CLI's option). The same
 * image named twice is one entry whose platforms are the union, so a list never carries an image twice.
 */
import { SkiffError } from '../errors.ts';
import { type Platform, formatPlatform, parsePlatform, samePlatform } from './platform.ts';
import { type ImageReference, familiarName, formatReference, parseReference } from './reference.ts';

/** Which platforms of a multi-platform image: `all`, or these (none named: the caller's default). */
export type PlatformSelection = 'all' | Platform[];

export interface ListEntry {
  /** The reference as written (first time it appeared). */
  text: string;
  /** 1-based line of the input it came from. */
  line: number;
  reference?: ImageReference;
  /** Why `text` is not a reference, in the engine's words; the entry stays in the list so its row can say so. */
  error?: string;
  /** Platforms named for it on its line(s); empty when none were. */
  platforms: PlatformSelection;
}

export interface ImageList {
  entries: ListEntry[];
  /** References named again (taken once): what was written, the line it was on, the line that named it
   *  first, and the platforms this line added (empty: a plain repeat). */
  repeated: { text: string; line: number; firstLine: number; platforms: PlatformSelection }[];
  /** Problems that are not about one reference (a `--platform` without a value, …), with their line. */
  problems: { line: number; message: string }[];
}

const PLATFORM_FLAG = '--platform';

/** True when the text names more than one thing: a paste the Image field should take as a list. */
export function looksLikeList(text: string): boolean {
  const words = stripComments(text)
    .split(/[\s,]+/)
    .filter(Boolean);
  return words.length > 1 || /\n.*\S/.test(text.trim());
}

export function parseImageList(text: string): ImageList {
  const entries: ListEntry[] = [];
  const byName = new Map<string, ListEntry>();
  const repeated: ImageList['repeated'] = [];
  const problems: ImageList['problems'] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const words = stripComments(raw).trim().split(/\s+/).filter(Boolean);
    const names: string[] = [];
    let platforms: PlatformSelection = [];
    for (let i = 0; i < words.length; i++) {
      const word = words[i]!;
      if (word === PLATFORM_FLAG || word.startsWith(`${PLATFORM_FLAG}=`)) {
        const value = word === PLATFORM_FLAG ? words[++i] : word.slice(PLATFORM_FLAG.length + 1);
        try {
          platforms = mergePlatforms(platforms, parsePlatformSelection(value ?? ''));
        } catch (error) {
          problems.push({ line, message: messageOf(error) });
        }
        continue;
      }
      names.push(...word.split(',').filter(Boolean));
    }
    for (const name of names) {
      let reference: ImageReference | undefined;
      let error: string | undefined;
      try {
        reference = parseReference(name);
      } catch (e) {
        error = messageOf(e);
      }
      const key = reference ? formatReference(reference) : `invalid:${name}`;
      const earlier = byName.get(key);
      if (earlier) {
        earlier.platforms = mergePlatforms(earlier.platforms, platforms);
        repeated.push({ text: name, line, firstLine: earlier.line, platforms });
        continue;
      }
      const entry: ListEntry = { text: name, line, platforms, ...(reference ? { reference } : { error: error! }) };
      byName.set(key, entry);
      entries.push(entry);
    }
  });
  return { entries, repeated, problems };
}

/** `all`, or `os/arch[/variant]` separated by commas. */
export function parsePlatformSelection(text: string): PlatformSelection {
  const value = text.trim();
  if (value.toLowerCase() === 'all') return 'all';
  if (value === '')
    throw new SkiffError('invalid-argument', `${PLATFORM_FLAG} needs a value: all, or os/arch such as linux/arm64`);
  return mergePlatforms(
    [],
    value
      .split(',')
      .filter((p) => p.trim())
      .map(parsePlatform),
  );
}

/** The union of two selections; `all` takes in everything. */
export function mergePlatforms(a: PlatformSelection, b: PlatformSelection): PlatformSelection {
  if (a === 'all' || b === 'all') return 'all';
  const out = [...a];
  for (const p of b) if (!out.some((q) => samePlatform(p, q))) out.push(p);
  return out;
}

export function formatPlatformSelection(selection: PlatformSelection): string {
  return selection === 'all' ? 'all' : selection.map(formatPlatform).join(',');
}

/** The list written back out, one image per line, in the form `parseImageList` reads (for "Export list"). */
export function formatImageList(entries: readonly Pick<ListEntry, 'text' | 'reference' | 'platforms'>[]): string {
  const lines = entries.map((entry) => {
    const name = entry.reference ? familiarOrFull(entry.reference) : entry.text;
    const platforms = formatPlatformSelection(entry.platforms);
    return platforms ? `${name} ${PLATFORM_FLAG} ${platforms}` : name;
  });
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/** `nginx:1.27` rather than `docker.io/library/nginx:1.27`; the digest kept when there is one. */
function familiarOrFull(reference: ImageReference): string {
  let text = familiarName(reference);
  if (reference.tag !== undefined) text += `:${reference.tag}`;
  if (reference.digest !== undefined) text += `@${reference.digest}`;
  return text;
}

function stripComments(text: string): string {
  // A reference never holds '#', so everything after one is a comment, at the start of a line or after a name.
  return text.replace(/#[^\n]*/g, '');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
