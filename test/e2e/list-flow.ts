/**
 * The list flow Firefox ESR and WebKitGTK share (firefox.test.ts, webkit.test.ts): a pasted list with a typo
 * and a repeat becomes rows, Download refuses naming the typo's row (its editor focused), the row is removed,
 * and one Download writes both images into one tar that docker load reads.
 */
import assert from 'node:assert/strict';
import type { TestPage } from './browsers.ts';
import {
  type SmokeWorld,
  assertSameFile,
  clickButton,
  emptyFolder,
  waitForDone,
  waitForFile,
  waitForText,
  waitInPage,
} from './smoke.ts';

/** A paste of `text` into the Image field, as the browser delivers Ctrl+V: a paste event with the text. */
async function paste(page: TestPage, text: string): Promise<void> {
  await page.evaluate((value: string) => {
    const field = document.querySelector<HTMLInputElement>('#image')!;
    field.focus();
    const data = new DataTransfer();
    data.setData('text/plain', value);
    let event: Event = new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true });
    // A browser whose ClipboardEvent does not take clipboardData from script: the same event by hand.
    if (!(event as ClipboardEvent).clipboardData?.getData('text/plain')) {
      event = new Event('paste', { bubbles: true, cancelable: true });
      Object.defineProperty(event, 'clipboardData', { value: data });
    }
    field.dispatchEvent(event);
  }, text);
}

export async function listFlow(w: SmokeWorld, page: TestPage): Promise<void> {
  emptyFolder(w.browser.downloads);
  const host = w.registry.host;
  await page.goto(w.server.url);
  await waitInPage(page, 'the image field', () => !!document.querySelector('#image'), []);
  await paste(page, `${host}/small/docker:v1\n${host}/small/dockr:v1, ${host}/small/oci:v1\n${host}/small/docker:v1\n`);
  await waitForText(page, `${host}/small/docker:v1 was listed twice; taken once.`);
  await waitForText(page, 'The registry has no such image');
  await waitInPage(
    page,
    'two rows resolved',
    () => document.querySelectorAll('li[data-state="resolved"]').length === 2,
    [],
  );

  await clickButton(page, 'Download 3 images');
  await waitForText(page, `Nothing was downloaded: ${host}/small/dockr:v1 needs fixing first.`);
  await waitInPage(
    page,
    'the typo’s row editor focused',
    () => document.activeElement?.getAttribute('aria-label') === 'Image 2 of the list',
    [],
  );
  await page.click(`button[aria-label="Remove ${host}/small/dockr:v1"]`);
  await waitInPage(page, 'two rows', () => document.querySelectorAll('ul.queue > li').length === 2, []);

  await clickButton(page, 'Download 2 images');
  const done = await waitForDone(page);
  assert.equal(done.fileName, 'images-2.tar');
  const file = await waitForFile(w.browser.downloads, done.fileName);
  await assertSameFile(file, done);
  await w.dockerd.load(file);
  assert.equal((await w.dockerd.inspect(`${host}/small/docker:v1`)).Id, w.images.small.configDigest);
  assert.equal((await w.dockerd.inspect(`${host}/small/oci:v1`)).Id, w.images.oci.configDigest);
}
