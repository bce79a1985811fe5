/**
 * Credentials per registry. In memory only, unless the user ticks "remember on this device" for that
 * registry: then (and only then) they are written to localStorage. They never go into a link or a setting.
 */
import type { Credentials } from '../../core/transport/auth.ts';
import { isRecord } from '../../core/json.ts';
import { readStored, writeStored } from '../lib/storage.ts';

export interface StoredCredentials extends Credentials {
  remember: boolean;
}

const isCredentialMap = (value: unknown): value is Record<string, Credentials> =>
  isRecord(value) &&
  Object.values(value).every((c) => isRecord(c) && typeof c.username === 'string' && typeof c.password === 'string');

class CredentialsState {
  byRegistry = $state<Record<string, StoredCredentials>>({});

  init(): void {
    const stored = readStored('credentials', isCredentialMap) ?? {};
    const loaded: Record<string, StoredCredentials> = {};
    for (const [registry, c] of Object.entries(stored))
      loaded[registry] = { username: c.username, password: c.password, remember: true };
    this.byRegistry = loaded;
  }

  get(registry: string): StoredCredentials {
    return this.byRegistry[registry] ?? { username: '', password: '', remember: false };
  }

  set(registry: string, next: StoredCredentials): void {
    if (!next.username && !next.password && !next.remember) {
      const { [registry]: _gone, ...rest } = this.byRegistry;
      this.byRegistry = rest;
    } else {
      this.byRegistry = { ...this.byRegistry, [registry]: next };
    }
    this.persist();
  }

  /** What the engine gets: only complete pairs. */
  lookup = (registry: string): Credentials | undefined => {
    const c = this.byRegistry[registry];
    return c && c.username && c.password ? { username: c.username, password: c.password } : undefined;
  };

  private persist(): void {
    const kept: Record<string, Credentials> = {};
    for (const [registry, c] of Object.entries(this.byRegistry)) {
      if (c.remember && c.username && c.password) kept[registry] = { username: c.username, password: c.password };
    }
    writeStored('credentials', Object.keys(kept).length ? kept : undefined);
  }
}

export const credentials = new CredentialsState();
