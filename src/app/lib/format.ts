/** Numbers for people: sizes in decimal units as docker prints them, durations, speeds, short digests. */
import type { Locale } from '../i18n/index.svelte.ts';

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB'];

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '–';
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  const digits = unit === 0 || value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

export function formatSpeed(bytesPerSecond: number | undefined): string {
  return bytesPerSecond === undefined || !Number.isFinite(bytesPerSecond) ? '–' : `${formatBytes(bytesPerSecond)}/s`;
}

export function formatDuration(seconds: number | undefined, locale: Locale): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '–';
  // Anything left at all is at least a second: "0 s" would read as done.
  const s = seconds > 0 ? Math.max(1, Math.round(seconds)) : 0;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  if (locale === 'zh') return h ? `${h} 小时 ${m} 分` : m ? `${m} 分 ${r} 秒` : `${r} 秒`;
  return h ? `${h} h ${m} min` : m ? `${m} min ${r} s` : `${r} s`;
}

/** `sha256:0123456789ab` — enough to tell layers apart; the full digest goes in a title. */
export function shortDigest(digest: string): string {
  return digest.slice(0, 'sha256:'.length + 12);
}

const SHORT_TYPES: Record<string, string> = {
  'application/vnd.docker.distribution.manifest.v2+json': 'Docker manifest v2',
  'application/vnd.docker.distribution.manifest.list.v2+json': 'Docker manifest list',
  'application/vnd.oci.image.manifest.v1+json': 'OCI manifest',
  'application/vnd.oci.image.index.v1+json': 'OCI index',
  'application/vnd.docker.image.rootfs.diff.tar.gzip': 'Docker layer (gzip)',
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip': 'Docker foreign layer (gzip)',
  'application/vnd.docker.image.rootfs.diff.tar': 'Docker layer (tar)',
  'application/vnd.oci.image.layer.v1.tar': 'OCI layer (tar)',
  'application/vnd.oci.image.layer.v1.tar+gzip': 'OCI layer (gzip)',
  'application/vnd.oci.image.layer.v1.tar+zstd': 'OCI layer (zstd)',
};

export function shortMediaType(mediaType: string): string {
  return SHORT_TYPES[mediaType] ?? mediaType;
}

/**
 * Speed over a sliding window of recent samples: steadier than the last interval, quicker to follow a
 * change than an average since the start.
 */
export class RateMeter {
  private samples: { t: number; bytes: number }[] = [];
  constructor(private readonly windowMs = 5000) {}

  add(bytes: number, t = performance.now()): void {
    this.samples.push({ t, bytes });
    while (this.samples.length > 2 && t - this.samples[0]!.t > this.windowMs) this.samples.shift();
  }

  /** Bytes per second, or undefined until there is something to measure. */
  rate(): number | undefined {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (!first || !last || last.t - first.t < 250) return undefined;
    return ((last.bytes - first.bytes) * 1000) / (last.t - first.t);
  }
}

export function etaSeconds(remaining: number, rate: number | undefined): number | undefined {
  if (rate === undefined || rate <= 0) return undefined;
  return remaining / rate;
}
