/**
 * Chromium end-to-end contenders for the bench: the built web app in Debian's headless Chromium, as a
 * person uses it. A pull opens the deep link `?image=REF` with the layer mode set by config.json, waits
 * until the image is resolved, clicks Download (StreamSaver's service worker, the default save) or
 * "Save to…" (a file in the profile's private file system standing in for the picker) and waits until the
 * file is complete on disk. Lists (chromium-list.ts) and the Push view (chromium-push.ts) build on the same runs.
 *
 * Measured per run: wall time from the click to the complete file; first bytes (click → the first byte on
 * disk); memory: the peak rise of all Chromium processes' summed RSS (chromium-procs.ts). A single pull runs
 * over a bare DevTools pipe (chromium-bare.ts); lists and pushes are typed through Playwright, whose sessions
 * add ~190 MiB of body copies to their memory figures. The file is moved
 * to `out`, so the bench can check that it is byte-identical to the CLI's.
 */
import { chromiumListContender } from './chromium-list.ts';
import { barePull } from './chromium-bare.ts';
import { chromiumPushContender, type PushJob } from './chromium-push.ts';
import { type LayerMode, type SaveMethod, startChromiumHost } from './chromium-session.ts';
import type { Contender, Measurement } from './measure.ts';

export { chromiumRss } from './chromium-procs.ts';

export type { LayerMode, SaveMethod } from './chromium-session.ts';

export interface PullOptions {
  /** Tells contenders of different profiles apart; also part of the identity (same label, same file). */
  label?: string;
  /** A variant that writes the same file (", file hashed"): shown in the name, not in the identity. */
  note?: string;
  /** More settings for config.json. */
  config?: Record<string, unknown>;
  save?: SaveMethod;
}

export interface ChromiumBench {
  contender(ref: string, mode: LayerMode, options?: PullOptions): Contender;
  /** Several images into one archive, entered as a person does (chromium-list.ts). */
  listContender(refs: string[], mode: LayerMode, label: string): Contender;
  /** The Push view pushing a tar (chromium-push.ts). */
  pushContender(job: PushJob): Contender;
  close(): Promise<void>;
}

/** Builds the app once and serves it; every contender run starts its own browser. */
export async function startChromiumBench(settings: Record<string, unknown> = {}): Promise<ChromiumBench> {
  const host = await startChromiumHost(settings);

  const contender = (ref: string, mode: LayerMode, options: PullOptions = {}): Contender => {
    const { label = '', note, config = {}, save = 'service worker' } = options;
    return {
      name: `Skiff in Chromium, ${mode}${note ? `, ${note}` : ''}${save === 'save to' ? ', Save to…' : ''}${label}`,
      memory: 'Chromium RSS rise',
      identity: `${mode}${label}`,
      // Over a bare DevTools pipe: Playwright's sessions would add their copies of every body to the memory.
      run: async (out): Promise<Measurement> => {
        const result = await barePull(host, host.runDir(), { ref, save, config: { ...config, layers: mode }, out });
        const { sampled } = result;
        if (sampled.profile) console.error(`  ${mode}: ${sampled.profile}`);
        return {
          seconds: result.seconds,
          peakRssBytes: sampled.riseBytes,
          firstBytesSeconds: sampled.firstBytesSeconds ?? result.seconds,
          extra: `${result.extra ? `${result.extra}, ` : ''}idle ${(sampled.idleBytes / 2 ** 20).toFixed(0)} MiB`,
        };
      },
    };
  };

  return {
    contender,
    listContender: (refs, mode, label) => chromiumListContender(host, refs, mode, label),
    pushContender: (job) => chromiumPushContender(host, job),
    close: () => host.close(),
  };
}
