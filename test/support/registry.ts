/**
 * Real CNCF distribution registries (Debian `docker-registry`) on ephemeral loopback ports.
 * Each starts with its own storage directory and config; stop() ends it and removes both.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, scratchDir, startProcess, waitUntil } from './process.ts';

export interface RegistryOptions {
  /** Add CORS headers to every answer (what a browser needs to talk to it directly). */
  cors?: boolean;
  /** Extra YAML appended under the top level of the config (auth sections and the like). */
  extraConfig?: string;
}

export interface Registry {
  /** `127.0.0.1:PORT`, as written in an image reference. */
  host: string;
  /** `http://127.0.0.1:PORT`. */
  url: string;
  stop(): Promise<void>;
}

export const CORS_HEADERS_YAML = `  headers:
    Access-Control-Allow-Origin: ['*']
    Access-Control-Allow-Methods: ['HEAD', 'GET', 'OPTIONS']
    Access-Control-Allow-Headers: ['Authorization', 'Accept', 'Range']
    Access-Control-Expose-Headers: ['Docker-Content-Digest', 'WWW-Authenticate', 'Content-Length', 'Content-Range']
`;

export async function startRegistry(options: RegistryOptions = {}): Promise<Registry> {
  const dir = scratchDir('registry');
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const config = `version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${join(dir.path, 'data')}
  delete:
    enabled: true
http:
  addr: ${host}
${options.cors ? CORS_HEADERS_YAML : ''}${options.extraConfig ?? ''}`;
  const configPath = join(dir.path, 'config.yml');
  writeFileSync(configPath, config);
  const proc = startProcess('docker-registry', ['serve', configPath]);
  const url = `http://${host}`;
  try {
    await waitUntil(`registry on ${host}`, async () => {
      if (proc.child.exitCode !== null) throw new Error(proc.output());
      const res = await fetch(`${url}/v2/`);
      return res.status === 200 || res.status === 401;
    });
  } catch (error) {
    await proc.stop();
    dir.remove();
    throw new Error(`docker-registry failed to start: ${proc.output() || String(error)}`);
  }
  return {
    host,
    url,
    async stop() {
      await proc.stop();
      dir.remove();
    },
  };
}
