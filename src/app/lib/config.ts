/**
 * Settings and where their defaults come from: built-in values, overridden by `config.json` beside
 * index.html (so whoever hosts the page sets them once for everyone), overridden by what the user saved
 * in this browser. Everything read from outside is checked field by field; unknown keys are ignored.
 */
import { DEFAULT_PARALLEL, LAYER_MODES, type LayerMode } from '../../core/pull.ts';
import { isRecord } from '../../core/json.ts';

export type SaveMethodChoice = 'auto' | 'stream' | 'blob';

export interface Settings {
  /** CORS relay base URL; empty = talk to registries directly. */
  relay: string;
  /** Host[:port] serving Docker Hub images instead of registry-1.docker.io. */
  dockerHubMirror: string;
  /** Registry hosts reached over plain http. */
  plainHttp: string[];
  layers: LayerMode;
  /** Fixed output file name; empty = named after the image(s). */
  outputName: string;
  saveMethod: SaveMethodChoice;
  /** Blob requests at once (1–16): several layers, and segments of a big one, download in parallel. */
  parallel: number;
  /**
   * Hash the whole file for the Done panel. Off by default: it is a full extra pass over the archive (every
   * layer is already checked against its digest); the zip kit hashes its tars for SHA256SUMS regardless.
   */
  hashFile: boolean;
}

export interface HostConfig extends Partial<Settings> {
  /** Starting language when the browser's own is not wanted ('en' | 'zh'). */
  language?: string;
  /** Seconds a layer download may send nothing before it is cut and resumed (default: the wait policy's 20 s window,
   *  src/core/transport/waits.ts; 1–3600). */
  stallTimeoutSeconds?: number;
  /** Seconds one write may wait for the browser to take it before the download is ended as incomplete
   *  (default 120; 1–3600): a stopped download worker must not leave the page waiting forever. */
  writeTimeoutSeconds?: number;
  /** Seconds before a registry that does not answer, or keeps stalling, is given up (default 60; 1–3600):
   *  every other wait of the engine is scaled to it (core/transport/waits.ts). */
  waitSeconds?: number;
}

export const BUILT_IN: Settings = {
  relay: '',
  dockerHubMirror: '',
  plainHttp: [],
  layers: 'kept',
  outputName: '',
  saveMethod: 'auto',
  parallel: DEFAULT_PARALLEL,
  hashFile: false,
};

/** Keeps the valid fields of an untrusted object (config.json, localStorage). */
export function sanitizeSettings(value: unknown): Partial<Settings> {
  if (!isRecord(value)) return {};
  const out: Partial<Settings> = {};
  if (typeof value.relay === 'string' && (value.relay === '' || isRelayUrl(value.relay)))
    out.relay = value.relay.trim();
  if (typeof value.dockerHubMirror === 'string' && (value.dockerHubMirror === '' || isHost(value.dockerHubMirror))) {
    out.dockerHubMirror = value.dockerHubMirror.trim();
  }
  if (Array.isArray(value.plainHttp))
    out.plainHttp = value.plainHttp.filter((h): h is string => typeof h === 'string' && isHost(h));
  if (LAYER_MODES.includes(value.layers as LayerMode)) out.layers = value.layers as LayerMode;
  if (typeof value.outputName === 'string') out.outputName = value.outputName.trim().slice(0, 200);
  if (value.saveMethod === 'auto' || value.saveMethod === 'stream' || value.saveMethod === 'blob')
    out.saveMethod = value.saveMethod;
  if (
    typeof value.parallel === 'number' &&
    Number.isInteger(value.parallel) &&
    value.parallel >= 1 &&
    value.parallel <= 16
  )
    out.parallel = value.parallel;
  if (typeof value.hashFile === 'boolean') out.hashFile = value.hashFile;
  return out;
}

/** Reads `./config.json`; a missing or broken file means the built-in defaults. */
export async function loadHostConfig(fetcher: typeof fetch = fetch): Promise<HostConfig> {
  try {
    const response = await fetcher('./config.json', { cache: 'no-cache', headers: { accept: 'application/json' } });
    if (!response.ok) return {};
    const value: unknown = await response.json();
    const config: HostConfig = sanitizeSettings(value);
    if (isRecord(value) && typeof value.language === 'string') config.language = value.language;
    const stall = boundedSeconds(value, 'stallTimeoutSeconds');
    if (stall !== undefined) config.stallTimeoutSeconds = stall;
    const write = boundedSeconds(value, 'writeTimeoutSeconds');
    if (write !== undefined) config.writeTimeoutSeconds = write;
    const wait = boundedSeconds(value, 'waitSeconds');
    if (wait !== undefined) config.waitSeconds = wait;
    return config;
  } catch {
    return {};
  }
}

/** A number of seconds from config.json, held to 1–3600; undefined when absent or not a number. */
function boundedSeconds(value: unknown, key: string): number | undefined {
  const seconds = isRecord(value) ? value[key] : undefined;
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return undefined;
  return Math.min(3600, Math.max(1, seconds));
}

/** A relay is an http(s) URL, absolute or relative to the page (`/relay/`, `./relay/`). */
export function isRelayUrl(text: string): boolean {
  const value = text.trim();
  if (value === '') return true;
  try {
    const url = new URL(value, 'http://page.invalid/');
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
    return /^(https?:\/\/|\/|\.\/|\.\.\/)/i.test(value);
  } catch {
    return false;
  }
}

/** The relay as an absolute URL, resolved against the page (config.json may say `/relay/`). */
export function absoluteRelay(
  relay: string,
  base: string = globalThis.location?.href ?? 'http://localhost/',
): string | undefined {
  if (!relay.trim()) return undefined;
  return new URL(relay.trim(), base).href.replace(/\/+$/, '');
}

/** host, host:port, or [v6]:port — what a registry is named by in an image reference. */
export function isHost(text: string): boolean {
  return /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::\d{1,5})?$/.test(
    text.trim(),
  );
}

export function parseHostList(text: string): { hosts: string[]; invalid: string[] } {
  const items = text
    .split(/[\s,;]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  return { hosts: items.filter(isHost), invalid: items.filter((h) => !isHost(h)) };
}
