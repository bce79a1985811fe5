/** Registry auth configuration pieces for distribution 2.8: htpasswd files and the `auth:` YAML sections. */
import { writeFileSync } from 'node:fs';
import { runCommand } from './process.ts';

/** Writes an htpasswd file with bcrypt entries: distribution 2.8 refuses every other hash kind. */
export async function writeHtpasswd(path: string, users: Record<string, string>): Promise<void> {
  const lines: string[] = [];
  for (const [username, password] of Object.entries(users)) {
    // -B bcrypt, -b password from the command line, -n print instead of editing a file.
    const { stdout } = await runCommand('htpasswd', ['-Bbn', username, password]);
    lines.push(stdout.trim());
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

export function htpasswdAuthYaml(path: string, realm = 'skiff-registry'): string {
  return `auth:
  htpasswd:
    realm: ${realm}
    path: ${path}
`;
}

export function tokenAuthYaml(token: { realm: string; service: string; issuer: string; certPath: string }): string {
  return `auth:
  token:
    realm: ${token.realm}
    service: ${token.service}
    issuer: ${token.issuer}
    rootcertbundle: ${token.certPath}
`;
}

export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}
