import { readTextAtMost } from '../../bytes.ts';
import { SkiffError, abortError } from '../../errors.ts';
import { type Challenge, parseWwwAuthenticate } from './challenge.ts';
import { type Fetcher, discard, withHeader } from './fetcher.ts';
import { relayRefusal } from './relay.ts';
import { RequestWait, type WaitPolicy, retryTransient, waitOf, withWait } from './waits.ts';

export interface Credentials {
  username: string;
  /** A password or an access token. */
  password: string;
}

export interface RegistryAuthOptions {
  credentials?: Credentials | undefined;
  now?: () => number;
  /** The wait policy a token request shares with the request it is for. */
  policy: WaitPolicy;
  /** How long one token answer may take to arrive whole. */
  bodyDeadlineMs?: number;
  /** Ask for push rights as well (`pull,push`), for a client that uploads. */
  push?: boolean;
}

interface CachedToken {
  value: string;
  expiresAt: number;
}

/**
 * The scope a registry request needs, from its path: `/v2/<name>/(manifests|blobs|tags)/…`. A client made
 * for pushing asks for `pull,push` on every request (as `docker push` does: one token for HEAD, upload and
 * manifest), and a cross-repository mount (`?mount=…&from=<repo>`) also asks to pull from the source.
 */
export function scopeFor(url: string, push = false): string | undefined {
  const parsed = new URL(url);
  const match = /^\/v2\/(.+?)\/(manifests|blobs|tags)\//.exec(parsed.pathname);
  if (!match) return undefined;
  const scope = `repository:${decodeURIComponent(match[1]!)}:${push ? 'pull,push' : 'pull'}`;
  const from = parsed.searchParams.get('from');
  return from && parsed.searchParams.has('mount') ? `${scope} repository:${from}:pull` : scope;
}

function basic(credentials: Credentials): string {
  const bytes = new TextEncoder().encode(`${credentials.username}:${credentials.password}`);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return `Basic ${btoa(binary)}`;
}

/**
 * Answers a registry's 401 challenge the way `docker pull` does: Bearer tokens from the realm (anonymous,
 * or with Basic credentials sent to the realm — Harbor, private Hub repositories), or plain Basic.
 * Tokens are cached per scope until they expire; a 401 on a request that carried a token fetches a fresh
 * one once. Credentials go only to the registry origin and the realm it names, never further.
 */
export class RegistryAuth {
  private challenge: Challenge | undefined;
  private readonly tokens = new Map<string, CachedToken>();
  /** Token requests under way, per scope: parallel requests that need the same token wait for one. */
  private readonly pending = new Map<string, Promise<CachedToken>>();

  private readonly credentials: Credentials | undefined;
  private readonly now: () => number;
  /** The waits of a token request (tries and deadline, shared with the request it is for), and how long
   *  one token answer may take to arrive whole. */
  private readonly waits: { policy: WaitPolicy; bodyDeadlineMs?: number };
  private readonly push: boolean;

  constructor(
    private readonly next: Fetcher,
    private readonly registryOrigin: string,
    options: RegistryAuthOptions,
  ) {
    this.credentials = options.credentials;
    this.now = options.now ?? Date.now;
    this.waits = {
      policy: options.policy,
      ...(options.bodyDeadlineMs !== undefined ? { bodyDeadlineMs: options.bodyDeadlineMs } : {}),
    };
    this.push = options.push ?? false;
  }

  readonly fetch: Fetcher = async (url, init) => {
    if (new URL(url).origin !== this.registryOrigin) return this.next(url, init);
    const scope = scopeFor(url, this.push);
    // The request's own patience: a token asked for on its behalf spends the same tries and time.
    const wait = waitOf(init) ?? RequestWait.of(this.waits.policy, url, init);
    init = withWait(init, wait);
    const authorization = await this.authorization(scope, false, init.signal, wait);
    const response = await this.next(url, withHeader(init, 'authorization', authorization));
    if (response.status !== 401) return response;
    const header = response.headers.get('www-authenticate');
    discard(response);
    wait.challenged();
    this.challenge = this.pickChallenge(header);
    const fresh = await this.authorization(scope, true, init.signal, wait);
    const retried = await this.next(url, withHeader(init, 'authorization', fresh));
    if (retried.status === 401) {
      discard(retried);
      throw this.unauthorized();
    }
    return retried;
  };

  private unauthorized(): SkiffError {
    return new SkiffError(
      'unauthorized',
      this.credentials
        ? 'The registry refused these credentials (unauthorized): check the username and the password or access token.'
        : 'This registry or repository needs credentials (unauthorized): give a username and a password or access token.',
    );
  }

  private pickChallenge(header: string | null): Challenge {
    if (!header)
      throw new SkiffError(
        'bad-challenge',
        'The registry answered 401 without a WWW-Authenticate header, so there is no way to log in',
      );
    const challenges = parseWwwAuthenticate(header);
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    const chosen = bearer ?? challenges.find((c) => c.scheme === 'basic');
    if (!chosen) {
      throw new SkiffError(
        'bad-challenge',
        `The registry asks for an authentication scheme Skiff does not speak: ${challenges.map((c) => c.scheme).join(', ') || 'none'}`,
      );
    }
    if (chosen.scheme === 'bearer') {
      const realm = chosen.params.realm;
      let realmUrl: URL;
      try {
        realmUrl = new URL(realm ?? '');
      } catch {
        throw new SkiffError(
          'bad-challenge',
          `The registry's Bearer challenge has no usable realm URL (${JSON.stringify(realm ?? null)})`,
        );
      }
      if (realmUrl.protocol !== 'https:' && realmUrl.protocol !== 'http:') {
        throw new SkiffError(
          'bad-challenge',
          `The registry's token realm uses the scheme "${realmUrl.protocol}"; only http and https are allowed`,
        );
      }
    }
    return chosen;
  }

  private async authorization(
    scope: string | undefined,
    fresh: boolean,
    signal: AbortSignal | null | undefined,
    wait: RequestWait,
  ): Promise<string | undefined> {
    const challenge = this.challenge;
    if (!challenge) return undefined;
    if (challenge.scheme === 'basic') {
      if (!this.credentials) throw this.unauthorized();
      return basic(this.credentials);
    }
    const key = scope ?? '';
    const cached = this.tokens.get(key);
    if (cached && !fresh && cached.expiresAt > this.now()) return `Bearer ${cached.value}`;
    let pending = this.pending.get(key);
    if (!pending) {
      pending = this.fetchToken(challenge, scope, signal ?? undefined, wait).finally(() => this.pending.delete(key));
      this.pending.set(key, pending);
    }
    const token = await pending;
    this.tokens.set(key, token);
    return `Bearer ${token.value}`;
  }

  /** A token request, asked again when its answer breaks off or comes too slowly (as registry bodies are). */
  private async fetchToken(
    challenge: Challenge,
    scope: string | undefined,
    signal: AbortSignal | undefined,
    wait: RequestWait,
  ): Promise<CachedToken> {
    return retryTransient(wait, signal, () => this.fetchTokenOnce(challenge, scope, signal, wait), {
      host: new URL(challenge.params.realm!).host,
    });
  }

  private async fetchTokenOnce(
    challenge: Challenge,
    scope: string | undefined,
    signal: AbortSignal | undefined,
    wait: RequestWait,
  ): Promise<CachedToken> {
    const realm = new URL(challenge.params.realm!);
    if (challenge.params.service) realm.searchParams.set('service', challenge.params.service);
    // Several scopes are several `scope` parameters (a mount needs the target's push and the source's pull).
    if (scope) for (const one of scope.split(' ')) realm.searchParams.append('scope', one);
    else if (challenge.params.scope) realm.searchParams.set('scope', challenge.params.scope);
    const init = withWait(
      { method: 'GET', headers: { accept: 'application/json' }, ...(signal ? { signal } : {}) },
      wait,
    );
    const response = await this.next(
      realm.href,
      this.credentials ? withHeader(init, 'authorization', basic(this.credentials)) : init,
    );
    if (signal?.aborted) throw abortError(signal);
    const text = await readTextAtMost(
      response,
      1024 * 1024,
      `The token answer from ${realm.host}`,
      Math.max(1, Math.min(this.waits.bodyDeadlineMs ?? Infinity, wait.left())),
    );
    if (!response.ok) {
      // A relay in between may refuse the token service itself (not on its allowlist, unreachable).
      const refusal = relayRefusal(response.status, text, response.headers);
      if (refusal) throw refusal;
    }
    if (response.status === 401 || response.status === 403) throw this.unauthorized();
    if (!response.ok) {
      throw new SkiffError(
        'bad-token',
        `The token service at ${realm.host} answered ${response.status}: ${summarize(text)}`,
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new SkiffError(
        'bad-token',
        `The token service at ${realm.host} did not answer with JSON: ${summarize(text)}`,
      );
    }
    const record = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const value = [record.token, record.access_token].find((v): v is string => typeof v === 'string' && v.length > 0);
    if (!value) throw new SkiffError('bad-token', `The token service at ${realm.host} answered without a token`);
    if (!/^[\x21-\x7e]+$/.test(value))
      throw new SkiffError('bad-token', `The token service at ${realm.host} sent a token with invalid characters`);
    const expiresIn = typeof record.expires_in === 'number' && record.expires_in > 0 ? record.expires_in : 60;
    // Renew a little early so a token does not expire between our check and the registry's.
    return { value, expiresAt: this.now() + Math.max(0, expiresIn - 5) * 1000 };
  }
}

export function summarize(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat || '(empty)';
}
