/**
 * Skiff in Chromium pulling a list of images into one archive, entered as a person does. Where the page
 * takes a list in its Image field (one per line, or separated by commas), the names go in at once and the
 * page resolves them; where it does not yet (the field marks the list invalid), each name goes in with
 * "Add to archive", the queue the page has had since before lists. Either way one Download pulls every
 * image through the same engine job (DownloadJob with several images), and the clock runs from the first
 * name entered to the complete file, as the CLI's includes resolving.
 */
import { RssSampler } from './chromium-procs.ts';
import { type ChromiumHost, type LayerMode, saveAndWait } from './chromium-session.ts';
import type { Contender, Measurement } from './measure.ts';

export function chromiumListContender(host: ChromiumHost, refs: string[], mode: LayerMode, label: string): Contender {
  return {
    name: `Skiff in Chromium, ${mode}${label}`,
    memory: 'Chromium RSS rise',
    identity: `${mode}${label}`,
    run: (out) =>
      host.withPage({ layers: mode }, async (run): Promise<Measurement> => {
        const { page } = run;
        await page.goto(host.server.url);
        const field = page.locator('#image');
        await field.waitFor();
        await page.waitForTimeout(1000);
        const sampler = new RssSampler(run.downloads);
        sampler.start();
        let input: string;
        let clickAt: number;
        let result: { seconds: number; extra: string };
        let sampled;
        try {
          const multiline = (await field.evaluate((e) => e.tagName)) === 'TEXTAREA';
          await field.fill(refs.join(multiline ? '\n' : ', '));
          await page.waitForTimeout(300);
          if ((await field.getAttribute('aria-invalid')) === 'true') {
            input = `${refs.length} × Add to archive`;
            await field.fill('');
            const add = page.getByRole('button', { name: 'Add to archive', exact: true });
            for (let i = 0; i < refs.length; i++) {
              await field.fill(refs[i]!);
              await add.click();
              await page.locator('ul.queue > li').nth(i).waitFor({ timeout: 60_000 });
            }
          } else {
            input = 'the list entered at once';
          }
          const download = page.locator('#download-button');
          // A page that resolves every row before it lets the list download keeps the button disabled until then.
          for (const deadline = Date.now() + 300_000; !(await download.isEnabled());) {
            if (Date.now() > deadline)
              throw new Error(`Download stayed disabled; page errors: ${run.errors.join('; ')}`);
            await page.waitForTimeout(100);
          }
          clickAt = sampler.elapsed();
          result = await saveAndWait(run, sampler, 'service worker', out);
        } finally {
          sampled = sampler.stop();
        }
        if (sampled.profile) console.error(`  list: ${sampled.profile}`);
        return {
          seconds: result.seconds,
          peakRssBytes: sampled.riseBytes,
          afterDownloadSeconds: result.seconds - clickAt,
          extra: `input: ${input}; Download → file complete ${(result.seconds - clickAt).toFixed(2)} s, ${result.extra}`,
        };
      }),
  };
}
