/**
 * The Push view's state: the chosen archive and its units (core/push.ts's pushUnits: each complete index
 * with all it names, every other image alone), a target per unit (prefilled from the archive's own name,
 * retargeted to the registry pushed to last, or filled under the "Push all to" prefix — push-plan.ts), and
 * one push of the set with its progress per unit and per layer. The push runs in the engine's worker
 * (engine.ts), which reads the file in slices as each layer goes up; its failures are told through the
 * advice module, as Pull's are.
 */
import { type ArchiveContents, readArchive } from '../../core/archive/reader.ts';
import { SkiffError } from '../../core/errors.ts';
import type { ImageReference } from '../../core/image/reference.ts';
import { type BlobState, type PushUnitInfo, parsePushTarget, pushUnits } from '../../core/push.ts';
import type { SetProgress, SetResult } from '../../core/transfer/set-to-registry.ts';
import { pushFile } from '../engine/engine.ts';
import { slicedFile } from '../engine/push-job.ts';
import type { Advice } from '../lib/advice.ts';
import { RateMeter, etaSeconds } from '../lib/format.ts';
import { readStored, writeStored } from '../lib/storage.ts';
import { credentials } from './credentials.svelte.ts';
import { retarget, targetProblems, targetsUnderPrefix, unitViews } from './push-plan.ts';
import { adviceAbout, transportOptions } from './transport.ts';

const LAST_REGISTRY = 'pushRegistry';
const LAST_PREFIX = 'pushPrefix';
const isText = (v: unknown): v is string => typeof v === 'string';

/** A row's state once the push is over: what happened to it (`failed`: it was being sent; `not-started`). */
export type PushRowState = BlobState | 'failed' | 'stopped' | 'not-started';

export interface PushRow {
  key: string;
  /** The layer's digest (the file's, or its content's when stored uncompressed), else its path in the file. */
  name: string;
  path: string;
  size: number;
  /** Bytes of the layer read from the file and handed to the registry. */
  sent: number;
  state: PushRowState;
}

class PushState {
  file = $state.raw<File | undefined>(undefined);
  contents = $state.raw<ArchiveContents | undefined>(undefined);
  reading = $state(false);
  /** One per unit, in pushUnits' order. */
  targets = $state<string[]>([]);
  /** "Push all to": the registry and path every unit goes under (`harbor.corp/mirror`). */
  prefix = $state('');
  compress = $state(true);
  running = $state(false);
  progress = $state.raw<SetProgress | undefined>(undefined);
  speed = $state<number | undefined>(undefined);
  eta = $state<number | undefined>(undefined);
  result = $state.raw<SetResult | undefined>(undefined);
  /** Why the file could not be read or pushed, in the page's language (the engine's words as its detail). */
  failure = $state.raw<Advice | undefined>(undefined);
  /** The registry of the unit the failure is blamed on: its credentials section opens on a refusal. */
  failedRegistry = $state<string | undefined>(undefined);
  cancelled = $state(false);
  private controller: AbortController | undefined;

  /** What goes up as one; whether each keeps its digest follows the compress choice. */
  units: PushUnitInfo[] = $derived(this.contents ? pushUnits(this.contents, { compress: this.compress }) : []);

  /** Each row's target checked as typed: not a reference, or the same as another row's. */
  problems = $derived(targetProblems(this.targets));

  /** The registries pushed to, first target's first: one credentials section each. */
  registries: string[] = $derived.by(() => {
    const found = new Set<string>();
    for (const t of this.targets) {
      try {
        found.add(parsePushTarget(t.trim()).registry);
      } catch {
        // not yet a reference
      }
    }
    return [...found];
  });

  /** Each unit's state and bytes, while the push runs and after it. */
  unitStates = $derived.by(() => {
    const progress = this.progress;
    if (!progress?.units) return [];
    const ended = this.running ? undefined : this.failure ? 'failed' : this.cancelled ? 'cancelled' : undefined;
    return unitViews(progress, ended);
  });

  /** The layer rows: live while the push runs; afterwards, what happened to each. */
  rows: PushRow[] = $derived.by(() => {
    const progress = this.progress;
    const contents = this.contents;
    if (!progress || !contents) return [];
    const over = !this.running && (this.failure || this.cancelled);
    const layers = contents.images.flatMap((image) => image.layers);
    return progress.blobs.map((layer, i) => {
      const archived = layer.path ? layers.find((l) => l.path === layer.path) : undefined;
      const digest =
        layer.digest || archived?.digest || (archived?.compression === 'none' ? archived.diffId : undefined);
      let state: PushRowState = layer.state;
      // A layer shared with an earlier row got that row's upload, if that one finished.
      const twinDone = progress.blobs.some(
        (l, j) => j < i && l.path === layer.path && ['done', 'exists', 'mounted'].includes(l.state),
      );
      if (over && (state === 'waiting' || (state === 'shared' && !twinDone))) state = 'not-started';
      else if (over && (state === 'checking' || state === 'uploading')) state = this.cancelled ? 'stopped' : 'failed';
      const finished = state === 'done' || state === 'exists' || state === 'mounted';
      return {
        key: `${layer.image}/${i}`,
        name: digest ?? layer.path ?? layer.digest,
        path: layer.path ?? '',
        size: layer.size,
        sent: finished ? layer.size : state === 'not-started' ? 0 : Math.min(layer.bytes, layer.size),
        state,
      };
    });
  });

  /** "Push all to": every unit with a name goes under `prefix`; rows stay editable afterwards. */
  setPrefix(prefix: string): void {
    this.prefix = prefix;
    this.targets = targetsUnderPrefix(
      this.units.map((u) => u.name),
      prefix,
      this.targets,
    );
  }

  async choose(file: File): Promise<void> {
    this.cancel();
    this.file = file;
    this.contents = undefined;
    this.result = undefined;
    this.failure = undefined;
    this.cancelled = false;
    this.progress = undefined;
    this.reading = true;
    try {
      const contents = await readArchive(slicedFile(file));
      if (this.file !== file) return;
      const last = readStored(LAST_REGISTRY, isText);
      this.contents = contents;
      this.targets = this.units.map((unit) => retarget(unit.name, last));
      // The last "Push all to", where it is shown: a file of more than one unit.
      const prefix = this.units.length > 1 ? readStored(LAST_PREFIX, isText) : undefined;
      if (prefix) this.setPrefix(prefix);
      else this.prefix = '';
    } catch (error) {
      if (this.file === file) this.failure = adviceAbout(error, undefined, { push: 'read' });
    } finally {
      if (this.file === file) this.reading = false;
    }
  }

  async push(): Promise<void> {
    const contents = this.contents;
    if (!contents || !this.units.length || this.running || this.problems.some(Boolean)) return;
    // Push is an explicit action: the credential fields are signed in with now (typing never sends them).
    credentials.signInAll();
    const controller = new AbortController();
    this.controller = controller;
    this.running = true;
    this.result = undefined;
    this.failure = undefined;
    this.cancelled = false;
    this.progress = undefined;
    this.speed = undefined;
    this.eta = undefined;
    const meter = new RateMeter();
    const targets = this.targets.map((t) => t.trim());
    let blamed: ImageReference = parsePushTarget(targets[0]!);
    try {
      writeStored(LAST_REGISTRY, blamed.registry);
      writeStored(LAST_PREFIX, this.prefix.trim() || undefined);
      const job = { kind: 'push' as const, file: this.file!, targets, compress: this.compress };
      this.result = await pushFile(job, {
        signal: controller.signal,
        transport: transportOptions(),
        onProgress: (progress) => {
          meter.add(progress.bytes);
          this.speed = meter.rate();
          this.eta = etaSeconds(progress.totalBytes - progress.bytes, this.speed);
          this.progress = progress;
        },
      });
    } catch (error) {
      if (controller.signal.aborted) this.cancelled = true;
      else {
        // Named after the unit whose layer was in flight (its registry's relay, credentials and hosts), else
        // the first target; the detail names the image.
        const failed = this.progress ? unitViews(this.progress, 'failed').findIndex((u) => u.state === 'failed') : -1;
        if (failed >= 0) blamed = parsePushTarget(targets[failed]!);
        this.failedRegistry = blamed.registry;
        this.failure = adviceAbout(error, blamed, { push: 'send' });
      }
      credentials.noteFailure(blamed.registry, error);
    } finally {
      this.running = false;
      this.controller = undefined;
    }
  }

  cancel(): void {
    this.controller?.abort(new SkiffError('aborted', 'The push was cancelled.'));
  }
}

export const push = new PushState();
