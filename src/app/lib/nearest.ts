/** Which of a repository's tags a mistyped tag most likely meant. */
import { distance } from 'fastest-levenshtein';

/**
 * The `count` tags nearest to `typed`: fewest edits first (`1.2.7` → `1.27`, `lates` → `latest`), then the
 * longer shared start, then the newer version. Case is ignored for the measure, as people mistype it.
 */
export function nearestTags(typed: string, tags: string[], count = 6): string[] {
  const wanted = typed.toLowerCase();
  const shared = (tag: string) => {
    let n = 0;
    while (n < tag.length && n < wanted.length && tag[n]!.toLowerCase() === wanted[n]) n++;
    return n;
  };
  return tags
    .filter((tag) => tag !== typed)
    .map((tag) => ({ tag, edits: distance(wanted, tag.toLowerCase()), start: shared(tag) }))
    .sort((a, b) => a.edits - b.edits || b.start - a.start || b.tag.localeCompare(a.tag, 'en', { numeric: true }))
    .slice(0, count)
    .map((s) => s.tag);
}
