/**
 * The Push view driven over a bare DevTools pipe (test/support/cdp-pipe.ts), as a person uses it: Push, the
 * file chosen, the target typed, Push; then the "Pushed" heading. For memory figures: Playwright's Network
 * domain keeps upload bodies in the renderer and inflates Chromium's RSS by hundreds of MiB.
 */
import type { CdpBrowser } from '../support/cdp-pipe.ts';

const clickButton = (label: string, last = false) =>
  `(() => { const b = [...document.querySelectorAll('button')].filter((b) => b.textContent.trim() === ${JSON.stringify(label)}); const x = b[${last ? 'b.length - 1' : '0'}]; x?.click(); return !!x; })()`;

/** Opens `url`, chooses `tar` in the Push view and types `reference` as its target; ready to push. */
export async function preparePush(browser: CdpBrowser, url: string, tar: string, reference: string): Promise<void> {
  await browser.send('Page.navigate', { url }, browser.page);
  await browser.waitFor(clickButton('Push'), 30_000, 'the Push view');
  await browser.waitFor(`document.querySelector('input[type=file]')`, 30_000, 'the file input');
  const { result } = await browser.send<{ result: { objectId: string } }>(
    'Runtime.evaluate',
    { expression: `document.querySelector('input[type=file]')` },
    browser.page,
  );
  await browser.send('DOM.setFileInputFiles', { files: [tar], objectId: result.objectId }, browser.page);
  await browser.waitFor(`document.querySelector('[data-testid=push-holds]')`, 120_000, 'the archive read');
  await browser.evaluate(`(() => {
    const field = document.getElementById('push-target-0');
    field.value = ${JSON.stringify(reference)};
    field.dispatchEvent(new Event('input', { bubbles: true }));
  })()`);
}

/** Clicks Push and waits for "Pushed"; rejects with the page's alert if one shows instead. */
export async function runPush(browser: CdpBrowser, timeoutMs: number): Promise<void> {
  await browser.evaluate(clickButton('Push', true));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await browser.evaluate<string>(`(() => {
      if ([...document.querySelectorAll('h3')].some((h) => /Pushed/.test(h.textContent))) return 'done';
      const alert = [...document.querySelectorAll('[role=alert]')].find((a) => a.textContent.trim());
      return alert ? 'alert: ' + alert.textContent.trim() : '';
    })()`);
    if (state === 'done') return;
    if (state.startsWith('alert')) throw new Error(state);
    if (Date.now() > deadline) throw new Error(`no "Pushed" within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
