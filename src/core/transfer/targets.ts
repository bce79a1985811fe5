/**
 * Where each image of a set goes: one prefix for all (`harbor.corp/mirror`), each image under it by its
 * repository path and tag, or a target named for it. The source's registry host is left out, as hauler
 * does when it copies a store to a registry: `docker.io/library/nginx:1.27` and `ghcr.io/library/nginx:1.27`
 * would both become `…/mirror/library/nginx:1.27` — which the duplicate check then refuses, by name.
 * (`skopeo sync` keeps only the last path component by default, and the host too with `--scoped`.)
 */
import { SkiffError } from '../errors.ts';
import { type ImageReference, formatReference, parseReference } from '../image/reference.ts';

/** Parses a push target; a tag is required (a digest names content, it cannot be pushed to). */
export function parsePushTarget(text: string): ImageReference {
  const reference = parseReference(text);
  if (reference.digest)
    throw new SkiffError(
      'invalid-reference',
      `Push to a tag (${reference.registry}/${reference.repository}:TAG), not a digest: the manifest's digest follows from its content`,
    );
  return reference;
}

/** `harbor.corp/mirror` + `docker.io/library/nginx:1.27` → `harbor.corp/mirror/library/nginx:1.27`. */
export function targetUnderPrefix(prefix: string, name: string): string {
  const base = prefix.trim().replace(/\/+$/, '');
  if (!base) throw new SkiffError('invalid-reference', 'The prefix is empty: name a registry, e.g. harbor.corp/mirror');
  // The prefix alone must read as a registry with a path (or a bare registry host).
  const probe = parseReference(`${base}/x`);
  const source = parseReference(name);
  const tag = source.tag ?? (source.digest ? undefined : 'latest');
  if (!tag) throw new SkiffError('invalid-reference', `${name} names no tag: give it a target of its own`);
  const path = [...probe.repository.split('/').slice(0, -1), source.repository].join('/');
  return formatReference(parsePushTarget(`${probe.registry}/${path}:${tag}`));
}

/** Pairs of entries (0-based) whose targets are the same image; each pair names the target too. */
export function duplicateTargets(targets: readonly string[]): { first: number; second: number; target: string }[] {
  const seen = new Map<string, number>();
  const out: { first: number; second: number; target: string }[] = [];
  targets.forEach((text, i) => {
    let key = text;
    try {
      key = formatReference(parsePushTarget(text));
    } catch {
      /* an invalid target is reported by whoever parses it */
    }
    const earlier = seen.get(key);
    if (earlier === undefined) seen.set(key, i);
    else out.push({ first: earlier, second: i, target: key });
  });
  return out;
}

/**
 * The target of each entry: its own when given, else the prefix + its name. Refuses, before anything moves,
 * an entry with no target and no name, and two entries to one target (naming both).
 */
export function planTargets(
  entries: readonly { name: string; label: string }[],
  choice: { prefix?: string; targets?: readonly (string | undefined)[] },
): string[] {
  const targets = entries.map((entry, i) => {
    const own = choice.targets?.[i]?.trim();
    if (own) return formatReference(parsePushTarget(own));
    if (!choice.prefix) throw new SkiffError('invalid-argument', `Name where ${entry.label} goes`);
    if (!entry.name)
      throw new SkiffError(
        'invalid-argument',
        `${entry.label} has no name in the archive: give it a target of its own`,
      );
    return targetUnderPrefix(choice.prefix, entry.name);
  });
  const clash = duplicateTargets(targets)[0];
  if (clash)
    throw new SkiffError(
      'invalid-argument',
      `${entries[clash.first]!.label} and ${entries[clash.second]!.label} would both go to ${clash.target}: give one of them another target`,
    );
  return targets;
}
