/**
 * What every registry request of the page goes out with (today's settings and sign-ins), the key that says
 * when that changed, and what an error's advice needs to know. Other state modules build their requests here.
 */
import { parsePlatform } from '../../core/image/platform.ts';
import type { ImageReference } from '../../core/image/reference.ts';
import type { TransportOptions } from '../../core/registry/client.ts';
import { RegistryClients } from '../../core/registry/pool.ts';
import { type ResolvedImage, resolve } from '../../core/registry/resolve.ts';
import { t } from '../i18n/index.svelte.ts';
import { type Advice, adviceFor } from '../lib/advice.ts';
import { absoluteRelay } from '../lib/config.ts';
import { credentials } from './credentials.svelte.ts';
import { hostWaits, settings } from './settings.svelte.ts';

/** Every registry request of the page goes out with these. */
export function transportOptions(): TransportOptions {
  const s = settings.current;
  const relay = absoluteRelay(s.relay);
  return {
    ...(relay ? { relay } : {}),
    ...(s.dockerHubMirror ? { dockerHubMirror: s.dockerHubMirror } : {}),
    plainHttp: s.plainHttp,
    credentials: credentials.lookup,
    ...hostWaits(),
  };
}

/** Everything that shapes registry requests, as one string: a change makes resolved images stale. */
export function currentTransportKey(): string {
  return JSON.stringify([
    settings.current.relay,
    settings.current.dockerHubMirror,
    settings.current.plainHttp,
    Object.entries(credentials.signedIn).map(([r, c]) => [r, c.username, c.password]),
  ]);
}

let pagePool: { key: string; clients: RegistryClients } | undefined;

/** The page's registry clients (tokens reused), made afresh whenever what shapes requests changes. */
export function registryClients(): RegistryClients {
  const key = currentTransportKey();
  if (pagePool?.key !== key) pagePool = { key, clients: new RegistryClients(transportOptions()) };
  return pagePool.clients;
}

/** Resolves `reference` with today's settings, for an explicit platform ('' = the default). */
export function resolveWith(reference: ImageReference, platform: string, signal?: AbortSignal): Promise<ResolvedImage> {
  return resolve(reference, {
    clients: registryClients(),
    ...(signal ? { signal } : {}),
    ...(platform ? { platform: parsePlatform(platform) } : {}),
  });
}

/** What the alert says about `error`, for a request about `reference` (none: a download's own failure). */
export function adviceAbout(
  error: unknown,
  reference: ImageReference | undefined,
  extra: { saving?: boolean; registry?: string; cancelLeavesFiles?: boolean; push?: 'read' | 'send' } = {},
): Advice {
  const registry = reference?.registry ?? extra.registry ?? '';
  return adviceFor(error, t(), {
    relay: absoluteRelay(settings.current.relay),
    ...(reference ? { reference } : {}),
    ...(registry ? { registry } : {}),
    at: Date.now(),
    hadCredentials: !!credentials.lookup(registry),
    ...(extra.saving !== undefined ? { saving: extra.saving } : {}),
    ...(extra.cancelLeavesFiles ? { cancelLeavesFiles: true } : {}),
    ...(extra.push ? { push: extra.push } : {}),
  });
}

/** The relay the page's requests go through, if any (as the credentials panel names it). */
export function relayShown(): string | undefined {
  return absoluteRelay(settings.current.relay);
}
