/**
 * Credentials per registry. In memory only, unless the user ticks "remember on this device" for that
 * registry: then (and only then) they are written to localStorage. They never go into a link or a setting.
 * What is typed is a draft: registries see it only after an explicit sign-in (the Sign-in button, Enter in
 * the fields, or Download), never a half-typed password — registries that lock accounts after failed
 * logins would count every pause.
 */
import { isSkiffError } from '../../core/errors.ts';
import type { Credentials } from '../../core/registry/transport/auth.ts';
import { isRecord } from '../../core/json.ts';
import { readStored, writeStored } from '../lib/storage.ts';

export interface StoredCredentials extends Credentials {
  remember: boolean;
}

/**
 * What the panel says about a registry: nothing typed; typed but not sent yet; signed in (requests use the
 * pair); or signed in with a pair the registry refused.
 */
export type SignInStatus = 'none' | 'pending' | 'signed-in' | 'refused';

const pairOf = (c: Credentials | undefined): string => (c ? `${c.username}\n${c.password}` : '');

const isCredentialMap = (value: unknown): value is Record<string, Credentials> =>
  isRecord(value) &&
  Object.values(value).every((c) => isRecord(c) && typeof c.username === 'string' && typeof c.password === 'string');

class CredentialsState {
  /** What the fields hold. */
  byRegistry = $state<Record<string, StoredCredentials>>({});
  /** What requests use: the pairs signed in with. */
  signedIn = $state.raw<Record<string, Credentials>>({});
  /** The pair a registry refused (401), per registry, until another pair is signed in with. */
  private refused = $state.raw<Record<string, string>>({});

  init(): void {
    const stored = readStored('credentials', isCredentialMap) ?? {};
    const loaded: Record<string, StoredCredentials> = {};
    for (const [registry, c] of Object.entries(stored))
      loaded[registry] = { username: c.username, password: c.password, remember: true };
    this.byRegistry = loaded;
    this.signedIn = Object.fromEntries(Object.entries(stored).map(([r, c]) => [r, { ...c }]));
  }

  /** Requests to `registry` use what its fields hold now (only a complete pair). */
  signIn(registry: string): void {
    const c = this.byRegistry[registry];
    const { [registry]: _old, ...rest } = this.signedIn;
    this.signedIn =
      c && c.username && c.password ? { ...rest, [registry]: { username: c.username, password: c.password } } : rest;
    this.persist();
  }

  /** Signs in with every registry's fields (Download is an explicit action too). */
  signInAll(): void {
    for (const registry of new Set([...Object.keys(this.byRegistry), ...Object.keys(this.signedIn)])) {
      const c = this.byRegistry[registry];
      const now = this.signedIn[registry];
      if (c?.username !== now?.username || c?.password !== now?.password) this.signIn(registry);
    }
  }

  /** The fields differ from what requests use. */
  pending(registry: string): boolean {
    const c = this.get(registry);
    return (c.username || c.password ? pairOf(c) : '') !== pairOf(this.signedIn[registry]);
  }

  status(registry: string): SignInStatus {
    if (this.pending(registry)) return 'pending';
    const now = this.signedIn[registry];
    if (!now) return 'none';
    return this.refused[registry] === pairOf(now) ? 'refused' : 'signed-in';
  }

  /** A request to `registry` failed: a refusal while signed in marks the pair as refused. */
  noteFailure(registry: string, error: unknown): void {
    const now = this.signedIn[registry];
    if (now && isSkiffError(error, 'unauthorized')) this.refused = { ...this.refused, [registry]: pairOf(now) };
  }

  /** Forgets the registry's credentials: the fields, the pair requests use (and so its tokens), the stored copy. */
  signOut(registry: string): void {
    const { [registry]: _fields, ...fields } = this.byRegistry;
    const { [registry]: _pair, ...pairs } = this.signedIn;
    const { [registry]: _refused, ...refused } = this.refused;
    this.byRegistry = fields;
    this.signedIn = pairs;
    this.refused = refused;
    this.persist();
  }

  get(registry: string): StoredCredentials {
    return this.byRegistry[registry] ?? { username: '', password: '', remember: false };
  }

  set(registry: string, next: StoredCredentials): void {
    if (!next.username && !next.password && !next.remember) {
      // Emptied fields sign out at once: that never sends a password.
      const { [registry]: _gone, ...rest } = this.byRegistry;
      this.byRegistry = rest;
      if (this.signedIn[registry]) this.signIn(registry);
    } else {
      this.byRegistry = { ...this.byRegistry, [registry]: next };
    }
    this.persist();
  }

  /** What the engine gets: the pair signed in with. */
  lookup = (registry: string): Credentials | undefined => this.signedIn[registry];

  private persist(): void {
    const kept: Record<string, Credentials> = {};
    for (const [registry, c] of Object.entries(this.signedIn)) {
      if (this.byRegistry[registry]?.remember) kept[registry] = { username: c.username, password: c.password };
    }
    writeStored('credentials', Object.keys(kept).length ? kept : undefined);
  }
}

export const credentials = new CredentialsState();
