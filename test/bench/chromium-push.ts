/**
 * Skiff's Push view in Chromium as a person uses it: Push, "Choose a file…" (the tar, handed to the file
 * dialog), the target typed into "Push to", then Push; the clock runs from that click to the "Pushed"
 * heading. Memory: the rise of all Chromium processes' RSS over the page at rest with the file chosen.
 * Under Playwright that figure reads higher than a person's browser would (push.test.ts measured 300–400 MiB
 * here against 115–160 MiB over bare CDP for the same push): Playwright's Network domain keeps upload bodies.
 */
import { chooseFile } from '../e2e/harness.ts';
import { RssSampler } from './chromium-procs.ts';
import type { ChromiumHost } from './chromium-session.ts';
import type { Contender, Measurement } from './measure.ts';

export interface PushJob {
  /** The tar to push. */
  tar: string;
  /** Which tar, in the contender's name. */
  label: string;
  /** Starts an empty registry, runs `push` to a reference in it, checks that the image arrived, stops it. */
  withTarget(push: (reference: string) => Promise<Measurement>): Promise<Measurement>;
}

export function chromiumPushContender(host: ChromiumHost, job: PushJob): Contender {
  return {
    name: `Skiff's Push view in Chromium${job.label}`,
    memory: 'Chromium RSS rise',
    run: () =>
      job.withTarget((reference) =>
        host.withPage({}, async (run): Promise<Measurement> => {
          const { page } = run;
          await page.goto(host.server.url);
          await page.getByRole('button', { name: 'Push', exact: true }).click();
          await chooseFile(page, job.tar);
          await page.getByTestId('push-holds').waitFor({ timeout: 120_000 });
          await page.getByLabel('Push to').fill(reference);
          await page.waitForTimeout(1000);
          const sampler = new RssSampler();
          sampler.start();
          let seconds: number;
          let sampled;
          try {
            await page.getByRole('button', { name: 'Push', exact: true }).last().click();
            await page.getByRole('heading', { name: /Pushed/ }).waitFor({ timeout: 3_600_000 });
            seconds = sampler.elapsed();
          } finally {
            sampled = sampler.stop();
          }
          if (sampled.profile) console.error(`  push: ${sampled.profile}`);
          return {
            seconds,
            peakRssBytes: sampled.riseBytes,
            extra: `idle ${(sampled.idleBytes / 2 ** 20).toFixed(0)} MiB`,
          };
        }),
      ),
  };
}
