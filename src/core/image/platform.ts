import { SkiffError } from '../errors.ts';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

const ARCH_ALIASES: Record<string, string> = {
  x86_64: 'amd64',
  'x86-64': 'amd64',
  aarch64: 'arm64',
  armhf: 'arm',
  armel: 'arm',
  i386: '386',
  i686: '386',
};

/** containerd's normalisation: arch aliases folded; arm64 `v8` is the default variant; arm defaults to v7. */
export function normalizePlatform(platform: Platform): Platform {
  const os = platform.os.toLowerCase();
  let architecture = platform.architecture.toLowerCase();
  let variant = platform.variant?.toLowerCase() || undefined;
  if (architecture === 'armhf') variant ??= 'v7';
  if (architecture === 'armel') variant ??= 'v6';
  architecture = ARCH_ALIASES[architecture] ?? architecture;
  if (architecture === 'arm64' && (variant === 'v8' || variant === '8')) variant = undefined;
  if (architecture === 'arm') {
    if (variant && /^\d+$/.test(variant)) variant = `v${variant}`;
    variant ??= 'v7';
  }
  return variant ? { os, architecture, variant } : { os, architecture };
}

/** `linux/arm/v7`, `linux/amd64`. */
export function formatPlatform(platform: Platform): string {
  return [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/');
}

/** Reads `os/arch[/variant]`, as `docker pull --platform` does. */
export function parsePlatform(text: string): Platform {
  const parts = text.trim().split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[A-Za-z0-9_.-]+$/.test(p))) {
    throw new SkiffError(
      'invalid-argument',
      `"${text}" is not a platform: write os/arch or os/arch/variant, e.g. linux/arm64`,
    );
  }
  const [os, architecture, variant] = parts as [string, string, string?];
  return normalizePlatform(variant ? { os, architecture, variant } : { os, architecture });
}

export function samePlatform(a: Platform, b: Platform): boolean {
  const x = normalizePlatform(a);
  const y = normalizePlatform(b);
  return x.os === y.os && x.architecture === y.architecture && (x.variant ?? '') === (y.variant ?? '');
}

export const DEFAULT_PLATFORM: Platform = { os: 'linux', architecture: 'amd64' };
