/**
 * The list: images added one by one or pasted (or opened) as a list, each on its own row, resolved with its
 * platforms as soon as it is there (a few at once) and downloaded together into one file. A row that does not
 * resolve keeps its message until the person fixes or removes it; Download never drops it unsaid.
 */
import {
  type ListEntry,
  type PlatformSelection,
  formatImageList,
  formatPlatformSelection,
  mergePlatforms,
  parseImageList,
} from '../../core/image/image-list.ts';
import { DEFAULT_PLATFORM, formatPlatform } from '../../core/image/platform.ts';
import { type ImageReference, formatReference } from '../../core/image/reference.ts';
import type { ResolvedImage } from '../../core/registry/resolve.ts';
import type { ResolvedSet } from '../../core/registry/resolve-set.ts';
import type { Messages } from '../i18n/en.ts';
import type { Advice } from '../lib/advice.ts';
import { alerts } from './alerts.svelte.ts';
import { credentials } from './credentials.svelte.ts';
import { displayName } from './image-input.svelte.ts';
import { RESOLVE_AT_ONCE, resolveRow, samePlatforms, setOf } from './list-rows.ts';
import { dockerHubQuota } from './quota.svelte.ts';
import { resolver } from './resolve.svelte.ts';
import { adviceAbout, currentTransportKey, registryClients } from './transport.ts';

export { RESOLVE_AT_ONCE };

/** A line of the list's note, told in the page's language of the moment. */
export type Note = (m: Messages) => string;

const noteAbout =
  (outcome: { merged: boolean; name: string }): Note =>
  (m) =>
    outcome.merged ? m.list.merged(outcome.name) : m.list.already(outcome.name);

export type RowStatus = 'resolving' | 'resolved' | 'error' | 'invalid';

export interface QueueItem {
  id: number;
  /** As written (or edited): what the row's editor starts from. */
  text: string;
  /** The name as people write it (`nginx:1.27`), or the text when it is not a name. */
  name: string;
  reference?: ImageReference;
  /** The platforms asked for ([] = the default: linux/amd64 of an index, whatever a single image is). */
  platforms: PlatformSelection;
  status: RowStatus;
  resolved?: ResolvedSet;
  /** Why it did not resolve, in the page's words (status `error`). */
  advice?: Advice;
  /** Why the text is not an image name, in the engine's words (status `invalid`). */
  message?: string;
  /** The transport settings it was resolved with: resolved again at download time when they changed. */
  transportKey: string;
}

const keyOf = (entry: { reference?: ImageReference; text: string }) =>
  entry.reference ? formatReference(entry.reference) : `invalid:${entry.text}`;

class ImageList {
  items = $state.raw<QueueItem[]>([]);
  /** What the last addition said about names listed twice or merged, told in the page's language when shown. */
  note = $state.raw<Note[]>([]);
  /** The rows Download refused for, until they are fixed or removed. */
  refused = $state.raw<number[]>([]);
  /** Bumped when the row editor of `refused[0]` should take focus. */
  focusRequest = $state(0);
  private nextId = 1;
  private readonly pending = new Map<number, { promise: Promise<void>; controller: AbortController }>();

  /**
   * Adds every name in `text` (a paste, a file, the field): one per line or separated by spaces or commas,
   * `#` comments ignored; each name once. Returns the rows added.
   */
  addText(text: string): number[] {
    const list = parseImageList(text);
    const notes: Note[] = [];
    for (const repeat of list.repeated) if (!repeat.platforms.length) notes.push((m) => m.list.repeated(repeat.text));
    for (const problem of list.problems) notes.push((m) => m.list.lineProblem(problem.line, problem.message));
    const added: number[] = [];
    for (const entry of list.entries) {
      const outcome = this.addEntry(entry);
      if (outcome.added) added.push(outcome.id);
      else notes.push(noteAbout(outcome));
    }
    this.note = notes;
    return added;
  }

  /**
   * The image in the field, with the platforms picked for it: a row of the list (merged into its row if
   * listed). `quiet`: nothing said when it was listed as it is already (Download takes the field along).
   */
  addCurrent(options: { quiet?: boolean } = {}): boolean {
    const reference = resolver.parsed.reference;
    if (!reference) return false;
    const platforms = resolver.platformSelection;
    const known = resolver.resolvedFor(resolver.input, resolver.platformChoice);
    const outcome = this.addEntry({ text: resolver.input.trim(), reference, platforms }, known);
    if (!options.quiet || (!outcome.added && outcome.merged)) this.note = outcome.added ? [] : [noteAbout(outcome)];
    alerts.notice = undefined;
    if (alerts.failure && resolver.resolveState.status === 'error') alerts.failure = undefined;
    resolver.clear();
    return true;
  }

  private addEntry(
    entry: Pick<ListEntry, 'text' | 'reference' | 'platforms' | 'error'>,
    known?: ResolvedImage,
  ): { added: true; id: number } | { added: false; merged: boolean; name: string } {
    const key = keyOf(entry);
    const existing = this.items.find((q) => keyOf(q) === key);
    if (existing) {
      const before = this.expanded(existing);
      const after = entry.platforms.length ? mergePlatforms(before, entry.platforms) : before;
      if (samePlatforms(after, before)) return { added: false, merged: false, name: existing.name };
      this.update(existing.id, { platforms: after });
      this.resolve(existing.id);
      return { added: false, merged: true, name: existing.name };
    }
    const id = this.nextId++;
    const row: QueueItem = {
      id,
      text: entry.text,
      name: entry.reference ? displayName(entry.reference) : entry.text,
      ...(entry.reference ? { reference: entry.reference } : {}),
      platforms: entry.platforms,
      status: entry.reference ? 'resolving' : 'invalid',
      ...(entry.error ? { message: entry.error } : {}),
      transportKey: '',
    };
    this.items = [...this.items, row];
    // The field's own look-up, when it is for exactly this: no second request.
    if (known && (entry.platforms === 'all' ? !known.index : entry.platforms.length <= 1))
      this.update(id, {
        status: 'resolved',
        resolved: setOf(known, entry.platforms),
        transportKey: currentTransportKey(),
      });
    else if (entry.reference) this.resolve(id);
    return { added: true, id };
  }

  /** A row's platforms with the default spelled out, so adding another platform keeps the one it had. */
  private expanded(row: QueueItem): PlatformSelection {
    if (row.platforms === 'all' || row.platforms.length) return row.platforms;
    return [row.resolved?.images[0]?.platform ?? DEFAULT_PLATFORM];
  }

  /**
   * The row's line changed in place (a typo fixed, `--platform` added or dropped): it is looked up again. A
   * name already listed elsewhere merges into that row; more names than one become rows of their own. False
   * when nothing usable was typed.
   */
  edit(id: number, text: string): boolean {
    const row = this.items.find((q) => q.id === id);
    if (!row) return false;
    if (text.trim() === lineOf(row)) return true;
    const [first, ...rest] = parseImageList(text).entries;
    if (!first) return false;
    const key = keyOf(first);
    const other = this.items.find((q) => q.id !== id && keyOf(q) === key);
    if (other) {
      this.remove(id);
      this.addEntry(first);
    } else {
      this.cancel(id);
      this.update(id, {
        text: first.text,
        name: first.reference ? displayName(first.reference) : first.text,
        reference: first.reference,
        platforms: first.platforms,
        status: first.reference ? 'resolving' : 'invalid',
        resolved: undefined,
        advice: undefined,
        message: first.error,
      });
      if (first.reference) this.resolve(id);
    }
    for (const entry of rest) this.addEntry(entry);
    this.note = [];
    return true;
  }

  /** Looks the row up again (after a sign-in, or by request). */
  retry(id: number): void {
    this.resolve(id);
  }

  remove(id: number): void {
    this.cancel(id);
    this.items = this.items.filter((q) => q.id !== id);
    this.refused = this.refused.filter((r) => r !== id);
    if (!this.items.length) this.note = [];
  }

  clear(): void {
    for (const id of [...this.pending.keys()]) this.cancel(id);
    this.items = [];
    this.refused = [];
    this.note = [];
  }

  /** The list as text, one image per line with its platforms, as Open list… and `npm run pull -- -f` read it. */
  exportText(): string {
    return formatImageList(this.items);
  }

  /** Settings or credentials changed: rows that failed (a sign-in was missing, say) are looked up again. */
  transportChanged(): void {
    for (const row of this.items) if (row.status === 'error') this.resolve(row.id);
  }

  /**
   * The list with every row resolved with today's settings (rows resolved with older ones again), once no
   * row is still resolving. Rows with problems stay as they are: the caller refuses to go on with them.
   */
  async fresh(signal: AbortSignal): Promise<QueueItem[]> {
    const key = currentTransportKey();
    for (const row of this.items) if (row.status === 'resolved' && row.transportKey !== key) this.resolve(row.id);
    while (this.pending.size && !signal.aborted) await Promise.all([...this.pending.values()].map((p) => p.promise));
    return this.items;
  }

  /** Download stopped for these rows: they are marked, and the first one's editor takes focus. */
  refuse(rows: QueueItem[]): void {
    this.refused = rows.map((q) => q.id);
    this.focusRequest++;
  }

  private resolve(id: number): void {
    const row = this.items.find((q) => q.id === id);
    if (!row?.reference) return;
    this.cancel(id);
    const controller = new AbortController();
    const key = currentTransportKey();
    const { reference, platforms } = row;
    this.update(id, { status: 'resolving', resolved: undefined, advice: undefined });
    const promise = resolveRow(reference, platforms, registryClients(), controller.signal).then(
      (set) => {
        if (controller.signal.aborted) return;
        this.update(id, { status: 'resolved', resolved: set, transportKey: key });
        this.refused = this.refused.filter((r) => r !== id);
        dockerHubQuota.note(reference.registry, registryClients().for(reference.registry).rateLimit);
      },
      (error: unknown) => {
        if (controller.signal.aborted) return;
        credentials.noteFailure(reference.registry, error);
        this.update(id, { status: 'error', advice: adviceAbout(error, reference) });
      },
    );
    const entry = {
      promise: promise.finally(() => this.pending.get(id) === entry && this.pending.delete(id)),
      controller,
    };
    this.pending.set(id, entry);
  }

  private cancel(id: number): void {
    this.pending.get(id)?.controller.abort();
    this.pending.delete(id);
  }

  private update(id: number, change: Partial<QueueItem>): void {
    this.items = this.items.map((q) => {
      if (q.id !== id) return q;
      const next = { ...q, ...change };
      for (const key of Object.keys(change) as (keyof QueueItem)[]) if (change[key] === undefined) delete next[key];
      return next;
    });
  }
}

/** A row as its editor shows it: the name as written, and its platforms as a list line names them. */
export function lineOf(row: Pick<QueueItem, 'text' | 'platforms'>): string {
  const platforms = formatPlatformSelection(row.platforms);
  return platforms ? `${row.text} --platform ${platforms}` : row.text;
}

/** The platforms a resolved row holds, as people read them: `linux/amd64, linux/arm64`. */
export function rowPlatforms(row: QueueItem): string[] {
  if (row.resolved) return row.resolved.images.map((image) => formatPlatform(image.platform));
  if (row.platforms === 'all') return [];
  return row.platforms.map(formatPlatform);
}

export const queue = new ImageList();
