/**
 * The registries people usually mean, for a host name that was probably mistyped: the well-known public
 * ones (the relay's default allowlist covers them), ordered by how close each is to what was typed.
 */
export const WELL_KNOWN_REGISTRIES: readonly string[] = [
  'docker.io',
  'ghcr.io',
  'quay.io',
  'registry.k8s.io',
  'gcr.io',
  'public.ecr.aws',
  'mcr.microsoft.com',
  'registry.gitlab.com',
  'nvcr.io',
  'docker.elastic.co',
  'registry.access.redhat.com',
];

/** Whether `host` (an API host: registry-1.docker.io for docker.io) is one of the well-known public registries. */
export function isWellKnownRegistry(host: string): boolean {
  const name = host.toLowerCase().replace(/^registry-1\.docker\.io$/, 'docker.io');
  return WELL_KNOWN_REGISTRIES.includes(name);
}

/** The `count` well-known registries nearest to `host` (its port aside), nearest first; none for an IP address. */
export function nearestRegistries(host: string, count = 4): string[] {
  const name = host
    .toLowerCase()
    .replace(/:\d+$/, '')
    .replace(/^registry-1\./, '');
  if (name.startsWith('[') || /^[\d.]+$/.test(name)) return [];
  return WELL_KNOWN_REGISTRIES.map((candidate, index) => ({
    candidate,
    index,
    distance: editDistance(name, candidate),
  }))
    .sort((a, b) => a.distance - b.distance || a.index - b.index)
    .slice(0, count)
    .map((entry) => entry.candidate);
}

/** Edits (insert, delete, substitute, swap two neighbours) from a to b: a typo's usual shapes. */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = best;
    }
  }
  return rows[a.length]![b.length]!;
}
