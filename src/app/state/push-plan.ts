/**
 * Where the Push view sends each unit of the archive (core/push.ts's pushUnits: an index with all it
 * names, or an image alone), before anything moves: each target prefilled from the archive's own name,
 * filled under one "Push all to" prefix by the rule the CLI's --to-prefix follows (targetUnderPrefix),
 * checked as typed, two units to one target named on both rows; and the pushed set as a list to paste.
 */
import { parseReference } from '../../core/image/reference.ts';
import { parsePushTarget } from '../../core/push.ts';
import { duplicateTargets, targetUnderPrefix } from '../../core/transfer/targets.ts';
import type { SetProgress, UnitResult, UnitState } from '../../core/transfer/set-to-registry.ts';

/** A repo tag from the archive (`app:1`, `docker.io/library/app:1`) pointed at `registry`, or as it is. */
export function retarget(repoTag: string, registry: string | undefined): string {
  if (!repoTag) return registry ? `${registry}/` : '';
  try {
    const reference = parseReference(repoTag);
    const path = `${reference.repository.replace(/^library\//, '')}:${reference.tag ?? 'latest'}`;
    if (!registry) return reference.registry === 'docker.io' ? repoTag : `${reference.registry}/${path}`;
    return `${registry}/${path}`;
  } catch {
    return registry ? `${registry}/${repoTag}` : repoTag;
  }
}

/**
 * Every unit's target under `prefix` (its repository path and tag, as --to-prefix does). A unit with no
 * name keeps the target it has; so does every unit while the prefix does not read as one yet (being typed).
 */
export function targetsUnderPrefix(names: readonly string[], prefix: string, current: readonly string[]): string[] {
  return names.map((name, i) => {
    if (!name || !prefix.trim()) return current[i] ?? '';
    try {
      return targetUnderPrefix(prefix, name);
    } catch {
      return current[i] ?? '';
    }
  });
}

/** What is wrong with a row's target: not a pushable reference (the core's words), or the same as others'. */
export type TargetProblem =
  { kind: 'empty' } | { kind: 'invalid'; message: string } | { kind: 'same'; rows: number[]; target: string };

/** Each row's problem, undefined where the target is fine. Two rows to one target are both marked. */
export function targetProblems(targets: readonly string[]): (TargetProblem | undefined)[] {
  const problems: (TargetProblem | undefined)[] = targets.map((text) => {
    if (!text.trim()) return { kind: 'empty' };
    try {
      parsePushTarget(text.trim());
      return undefined;
    } catch (error) {
      return { kind: 'invalid', message: error instanceof Error ? error.message : String(error) };
    }
  });
  // duplicateTargets pairs each later row with the first to that target: the rows of one target, grouped.
  const groups = new Map<number, number[]>();
  for (const { first, second } of duplicateTargets(targets.map((t) => t.trim()))) {
    if (problems[first] || problems[second]) continue;
    groups.set(first, [...(groups.get(first) ?? [first]), second]);
  }
  for (const group of groups.values())
    for (const row of group)
      problems[row] = { kind: 'same', rows: group.filter((r) => r !== row), target: targets[row]!.trim() };
  return problems;
}

/**
 * The pushed set as lines to paste into the next step (a deployment's image list, a Skiff list, an
 * allow-list): `target@digest` — the tag says which release it is, the digest pins exactly the bytes that
 * were pushed and checked (docker, podman, skopeo, crane and Kubernetes pull by it and ignore the tag).
 */
export function pushedList(units: readonly Pick<UnitResult, 'target' | 'digest'>[]): string {
  return units.map((u) => (u.digest ? `${u.target}@${u.digest}` : u.target)).join('\n') + '\n';
}

/** What a unit's row says while and after the push: the core's state, or how the push ended for it. */
export type UnitView = UnitState | 'failed' | 'stopped' | 'untagged';

/**
 * Each unit's state and bytes from the set's progress. Once a push failed or was cancelled (`ended`),
 * the unit whose layer was in flight is named `failed` (or `stopped`), and every other unit that would
 * have been tagged says it was not: nothing is tagged unless every layer passed.
 */
export function unitViews(
  progress: SetProgress,
  ended?: 'failed' | 'cancelled',
): { state: UnitView; bytes: number; totalBytes: number }[] {
  return progress.units.map((unit, u) => {
    if (!ended || unit.state === 'skipped') return { ...unit };
    const inFlight = progress.blobs.some(
      (b) => progress.imageUnits[b.image] === u && (b.state === 'checking' || b.state === 'uploading'),
    );
    const state: UnitView = inFlight ? (ended === 'failed' ? 'failed' : 'stopped') : 'untagged';
    return { ...unit, state };
  });
}
