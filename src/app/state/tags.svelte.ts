/**
 * A repository's tags, listed once per repository and transport: for the details of an image that resolved,
 * and — only after a tag was not found — the ones nearest to what was typed.
 */
import { isSkiffError } from '../../core/errors.ts';
import type { ImageReference } from '../../core/image/reference.ts';
import type { RegistryClient } from '../../core/registry/client.ts';
import { nearestTags } from '../lib/nearest.ts';

export type TagsState = { key: string; status: 'loading' | 'ok' | 'unavailable'; tags: string[] };

/** The tags offered for a tag that was not found: for that typed name only. */
export interface TagSuggestions {
  /** The name as typed (the field's text), so the offer goes when the field changes. */
  input: string;
  repository: string;
  tag: string;
  tags: string[];
}

/** Pages of tags read for a suggestion at most (1000 tags a page): a repository of many tags costs a few requests. */
const SUGGEST_PAGES = 3;

class RepositoryTags {
  current = $state.raw<TagsState | undefined>(undefined);
  suggestions = $state.raw<TagSuggestions | undefined>(undefined);
  private loading: Promise<void> | undefined;

  /** Lists the tags of `reference`'s repository, unless they are listed (or being listed) for `transportKey`. */
  load(reference: ImageReference, client: RegistryClient, transportKey: string, maxPages?: number): Promise<void> {
    const key = `${reference.registry}/${reference.repository} ${transportKey}`;
    if (this.current?.key === key && this.current.status !== 'unavailable') return this.loading ?? Promise.resolve();
    this.current = { key, status: 'loading', tags: [] };
    const run = async () => {
      try {
        const tags = await client.listTags(reference.repository, undefined, maxPages ? { maxPages } : {});
        if (this.current?.key === key) this.current = { key, status: 'ok', tags: sortTags(tags) };
      } catch {
        if (this.current?.key === key) this.current = { key, status: 'unavailable', tags: [] };
      }
    };
    this.loading = run();
    return this.loading;
  }

  /** The manifest of `reference` was not found: offer the repository's tags nearest to the one typed. */
  async suggest(
    error: unknown,
    reference: ImageReference,
    input: string,
    client: RegistryClient,
    transportKey: string,
  ): Promise<void> {
    this.suggestions = undefined;
    const tag = reference.tag;
    if (!isSkiffError(error, 'not-found') || tag === undefined || reference.digest !== undefined) return;
    await this.load(reference, client, transportKey, SUGGEST_PAGES);
    const listed = this.current;
    if (!listed?.key.startsWith(`${reference.registry}/${reference.repository} `) || listed.status !== 'ok') return;
    const tags = nearestTags(tag, listed.tags);
    if (tags.length) this.suggestions = { input, repository: reference.repository, tag, tags };
  }
}

/** Version-like tags in descending numeric order (`1.10` before `1.9`), others by the same collation. */
function sortTags(tags: string[]): string[] {
  return [...tags].sort((a, b) => b.localeCompare(a, 'en', { numeric: true }));
}

export const repositoryTags = new RepositoryTags();
