/**
 * The parts of an image config people look at before pulling, read defensively: the config is registry
 * data, so every field is checked for type and shown as text only.
 */
import type { ImageConfig } from '../../core/image/manifest.ts';
import { shellWord } from '../../core/archive/shell-word.ts';

export interface ImageInfo {
  entrypoint?: string[];
  cmd?: string[];
  workdir?: string;
  user?: string;
  env: string[];
  ports: string[];
  labels: [string, string][];
  history: { createdBy: string; comment?: string; empty: boolean; created?: string }[];
  created?: string;
}

const strings = (value: unknown): string[] | undefined =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : undefined;

export function imageInfo(config: ImageConfig): ImageInfo {
  const c = config.config;
  const entrypoint = strings(c.Entrypoint);
  const cmd = strings(c.Cmd);
  const labels =
    c.Labels && typeof c.Labels === 'object' && !Array.isArray(c.Labels)
      ? Object.entries(c.Labels as Record<string, unknown>)
      : [];
  const ports =
    c.ExposedPorts && typeof c.ExposedPorts === 'object' && !Array.isArray(c.ExposedPorts)
      ? Object.keys(c.ExposedPorts)
      : [];
  return {
    ...(entrypoint?.length ? { entrypoint } : {}),
    ...(cmd?.length ? { cmd } : {}),
    ...(typeof c.WorkingDir === 'string' && c.WorkingDir ? { workdir: c.WorkingDir } : {}),
    ...(typeof c.User === 'string' && c.User ? { user: c.User } : {}),
    env: strings(c.Env) ?? [],
    ports: ports.sort(),
    labels: labels
      .filter((e): e is [string, string] => typeof e[1] === 'string')
      .sort(([a], [b]) => a.localeCompare(b)),
    history: config.history.map((h) => ({
      createdBy: typeof h.created_by === 'string' ? h.created_by : '',
      ...(typeof h.comment === 'string' && h.comment ? { comment: h.comment } : {}),
      empty: h.empty_layer === true,
      ...(typeof h.created === 'string' ? { created: h.created } : {}),
    })),
    ...(config.created ? { created: config.created } : {}),
  };
}

/** `["/bin/sh","-c","echo hi"]` as a shell would read it: words quoted only where needed. */
export function commandLine(words: string[]): string {
  return words.map(shellWord).join(' ');
}

export function formatDate(iso: string | undefined, locale: string): string | undefined {
  if (!iso) return undefined;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return (
    date.toLocaleString(locale === 'zh' ? 'zh-CN' : 'en-GB', {
      dateStyle: 'medium',
      timeStyle: 'short',
      timeZone: 'UTC',
    }) + ' UTC'
  );
}
