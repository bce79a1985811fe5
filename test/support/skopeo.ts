/** skopeo (Debian, 1.9) as a reference reader and writer of image archives and registries. */
import { runCommand, type CommandResult } from './process.ts';

/**
 * `skopeo inspect docker-archive:tar[:ref]`, parsed. With `raw`, the manifest skopeo derived from the
 * archive instead of its summary; with `config`, the image config.
 */
export async function skopeoInspectArchive(
  tarPath: string,
  ref?: string,
  options: { raw?: boolean; config?: boolean } = {},
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- skopeo's own JSON; tests read the fields they assert
): Promise<any> {
  const args = ['inspect'];
  if (options.raw) args.push('--raw');
  if (options.config) args.push('--config');
  args.push(`docker-archive:${tarPath}${ref ? `:${ref}` : ''}`);
  const { stdout } = await skopeo(args);
  return JSON.parse(stdout);
}

/**
 * `skopeo copy src dest`, e.g. `docker://127.0.0.1:5000/x:1` → `docker-archive:/tmp/x.tar:x:1`.
 * Plain-http registries need `--src-tls-verify=false` / `--dest-tls-verify=false` in extraArgs; credentials go
 * as `--src-creds user:pass` / `--dest-creds`.
 */
export function skopeoCopy(src: string, dest: string, extraArgs: string[] = []): Promise<CommandResult> {
  return skopeo(['copy', '--quiet', ...extraArgs, src, dest]);
}

/** Any skopeo command. Runs with an empty policy that accepts everything, so the machine's policy.json does not matter. */
export function skopeo(args: string[], options: { timeoutMs?: number } = {}): Promise<CommandResult> {
  return runCommand('skopeo', ['--insecure-policy', ...args], { timeoutMs: options.timeoutMs ?? 300_000 });
}
