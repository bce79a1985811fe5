/** What push and copy print for a set: progress per image and in total, then a table and the references. */
import type { SetProgress, SetResult } from '../core/transfer/set-to-registry.ts';

const mb = (n: number) => (n / 1e6).toFixed(1);

export function setProgressPrinter(started: number) {
  return (p: SetProgress) => {
    const done = p.units.filter((u) => u.state !== 'waiting' && u.state !== 'moving').length;
    const rate = p.bytes / 1e6 / Math.max(0.001, (Date.now() - started) / 1000);
    const each = p.units.map(
      (u, n) => `${n + 1}:${u.state === 'moving' ? `${mb(u.bytes)}/${mb(u.totalBytes)}` : u.state}`,
    );
    console.error(
      `images ${done}/${p.units.length}  ${mb(p.bytes)}/${mb(p.totalBytes)} MB  ${rate.toFixed(1)} MB/s  [${each.join(' ')}]`,
    );
  };
}

/** The table on stderr (what went where, digests, notes), the references on stdout: a list to paste. */
export function printSetResult(result: SetResult, verb: string, started: number): void {
  for (const unit of result.units) {
    for (const image of unit.images)
      console.error(
        `${verb} ${image.reference} (${image.platform || 'no platform'}) → ${image.manifestDigest}, ID ${image.configDigest}`,
      );
    const how = unit.state === 'skipped' ? 'already there' : unit.state === 'tagged' ? 'held already, tagged' : verb;
    console.error(
      `${unit.name || '(untagged)'} → ${unit.target}  ${unit.digest}  ${how}${unit.keptDigest ? ', same digest' : ''}`,
    );
    if (unit.note) console.error(`  note: ${unit.note}`);
    const first = unit.images[0];
    if (first?.pullCommand) console.error(`  docker pull ${unit.target.replace(/:[^:/]+$/, '')}@${unit.digest}`);
  }
  console.error(
    `${result.copied} blob(s) uploaded (${mb(result.bytes)} MB), ${result.existing} already there, ${result.mounted} mounted, in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  for (const unit of result.units) console.log(unit.target);
}
