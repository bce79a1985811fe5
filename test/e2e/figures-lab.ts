/**
 * What the figures and words page tests share: a registry with their images, the same registry behind a
 * throttled link (40 ms away, 1 MB/s shared by every connection, 450 kB/s for any one), the built app and
 * Chromium; and how they read sizes and times as the page writes them.
 *
 * SKIFF_LOOK=some/dir writes screenshots of what the tests measured there, to look at.
 */
import assert from 'node:assert/strict';
import { mkdirSync, statSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startThrottleProxy, type ThrottleProxy } from '../bench/throttle-proxy.ts';
import { type LayerSpec, prose, pushImage, smallLayers } from '../support/images.ts';
import { scratchDir } from '../support/process.ts';
import { startRegistry, type Registry } from '../support/registry.ts';
import { ROOT, buildApp, launchBrowser, serveStatic, type StaticServer } from './harness.ts';

export const LOOK = process.env.SKIFF_LOOK ? resolvePath(ROOT, process.env.SKIFF_LOOK) : undefined;
export const LABEL = 'org.example.label.with-a-rather-long-name';

export interface Lab {
  registry: Registry;
  slow: ThrottleProxy;
  server: StaticServer;
  browser: Browser;
  /** Where downloads are saved. */
  dir: string;
  stop(): Promise<void>;
}

/** Layers fetched side by side at a shared rate: zeros and prose (unpacked, they outgrow the download), two of noise. */
export function bigLayers(): LayerSpec[] {
  return [
    // Zeros past the engine's 64 MiB look-ahead: written while it arrives, and far bigger unpacked than served.
    { compression: 'gzip', files: [{ path: 'c/zeros.bin', content: { zeros: 72_000_000 } }] },
    { compression: 'gzip', files: [{ path: 'c/prose.txt', content: prose(1_000_000, 'figures') }] },
    { compression: 'gzip', level: 1, files: [{ path: 'a/noise.bin', content: { noise: 2_400_000 } }] },
    { compression: 'gzip', level: 1, files: [{ path: 'b/noise.bin', content: { noise: 900_000 } }] },
  ];
}

export async function shot(page: Page, dir: string | undefined, name: string): Promise<void> {
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

/** "12.3 MB" → bytes; "1 min 5 s" / "3 s" → seconds (as formatBytes and formatDuration write them). */
export function bytesOf(text: string): number {
  const match = /([\d.]+)\s*(B|kB|MB|GB)/.exec(text);
  assert.ok(match, `no size in ${JSON.stringify(text)}`);
  return Number(match[1]) * { B: 1, kB: 1e3, MB: 1e6, GB: 1e9 }[match[2] as 'B']!;
}
export function secondsOf(text: string): number | undefined {
  const match = /^(?:(\d+) min )?(\d+) s$/.exec(text.trim());
  return match ? Number(match[1] ?? 0) * 60 + Number(match[2]) : undefined;
}

export async function download(page: Page, dir: string, button: string, name: string): Promise<number> {
  const downloading = page.waitForEvent('download', { timeout: 120_000 });
  await page.getByRole('button', { name: button, exact: true }).click();
  const file = await downloading;
  const path = join(dir, name);
  await file.saveAs(path);
  assert.equal(await file.failure(), null);
  return statSync(path).size;
}

export async function startLab(name: string): Promise<Lab> {
  const started = performance.now();
  const scratch = scratchDir(name);
  const [registry, build, browser] = await Promise.all([startRegistry({ cors: true }), buildApp(), launchBrowser()]);
  await Promise.all([
    pushImage(registry, 'team/big', 'v1', { format: 'oci', layers: bigLayers() }),
    pushImage(registry, 'team/one', 'v1', { format: 'docker', layers: smallLayers('gzip') }),
    pushImage(registry, 'team/two', 'v1', { format: 'oci', layers: smallLayers('gzip') }),
    pushImage(registry, 'team/labelled', 'v1', {
      format: 'oci',
      layers: smallLayers('gzip'),
      config: {
        Entrypoint: ['/bin/sh', '-c'],
        Cmd: ['echo hello'],
        ExposedPorts: { '8080/tcp': {} },
        Labels: { [LABEL]: 'a value', 'org.opencontainers.image.source': 'https://example.com/team/labelled' },
      },
    }),
  ]);
  const slow = await startThrottleProxy(registry.url, { latencyMs: 40, connectionRate: 450_000, totalRate: 1_000_000 });
  const server = await serveStatic(build.dir);
  server.config = {};
  console.log(`# set up in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return {
    registry,
    slow,
    server,
    browser,
    dir: scratch.path,
    stop: async () => {
      await browser.close();
      await Promise.all([server.stop(), slow.stop(), registry.stop()]);
      build.remove();
      scratch.remove();
    },
  };
}
