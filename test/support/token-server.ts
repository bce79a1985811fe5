/**
 * A Docker-style token server (the "realm" of distribution's token auth) written with node:http and
 * node:crypto, so tests can watch and steer the Bearer flow against a real registry.
 *
 * It signs RS256 JWTs with a fresh RSA key whose self-signed certificate is the registry's `rootcertbundle`.
 * distribution 2.8 (`registry/auth/token/token.go`) takes the signing key from the header's `x5c` chain first
 * (verified against the bundle), else from `jwk`, else looks `kid` up among the bundle's keys by libtrust
 * fingerprint; we send both `x5c` and `kid`, so either path verifies.
 */
import { createHash, createPrivateKey, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { runCommand, scratchDir } from './process.ts';

/** distribution accepts a token up to this long after its `exp` (token.go `Leeway`). */
export const REGISTRY_CLOCK_LEEWAY_SECONDS = 60;

export interface Access {
  type: string;
  name: string;
  actions: string[];
}

export interface TokenServerOptions {
  /** username → password. Known users get every action they ask for unless `authorize` says otherwise. */
  users?: Record<string, string>;
  /** Repositories anyone may pull without credentials: true for all, or patterns where `*` matches any run of characters. */
  anonymousPull?: boolean | string[];
  /** Overrides the default grant policy; gets one requested scope, returns the actions to grant (may be empty). */
  authorize?: (request: { account: string | undefined; type: string; name: string; actions: string[] }) => string[];
  /** Which field(s) of the GET answer carry the JWT: registries differ (Docker Hub sends both). Default 'both'. */
  tokenField?: 'token' | 'access_token' | 'both';
  /** Lifetime written in `exp` and `expires_in`, seconds. Default 300. */
  expiresIn?: number;
  /** The `aud` the registry checks. Default 'skiff-registry'. */
  service?: string;
  /** The `iss` the registry checks. Default 'skiff-token-issuer'. */
  issuer?: string;
  /** Answer CORS preflights and add CORS headers, for browsers fetching the realm directly. */
  cors?: boolean;
}

export interface TokenRequestRecord {
  method: string;
  /** Authenticated account, undefined when anonymous (or when the credentials were refused). */
  account: string | undefined;
  /** The `service` parameter as sent, undefined when absent. */
  service: string | undefined;
  /** Every requested scope string, as sent. */
  scopes: string[];
  /** 'password' or 'refresh_token' for OAuth POSTs, undefined for GET. */
  grantType: string | undefined;
  status: number;
  /** What the issued token allows (empty when refused). */
  granted: Access[];
}

export interface TokenServer {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** `http://127.0.0.1:PORT/token`: the realm the registry announces. */
  realm: string;
  service: string;
  issuer: string;
  /** PEM of the self-signed signing certificate (the registry's `rootcertbundle`). */
  certPath: string;
  /** libtrust fingerprint of the signing key, sent as the JWT `kid`. */
  keyId: string;
  /** Every request to the realm, in order. Clear it with `requests.length = 0`. */
  requests: TokenRequestRecord[];
  /**
   * The next `count` tokens are issued already expired beyond the registry's leeway, while `expires_in`
   * still says they are fresh: the registry then refuses a token the client believes valid.
   */
  expireNext(count?: number): void;
  /** Changes the lifetime of tokens issued from now on. */
  setExpiresIn(seconds: number): void;
  /** Mints a token directly (no request is logged): for fixtures that need push access. */
  issue(claims: { account?: string; access: Access[]; expiresIn?: number; expired?: boolean }): string;
  stop(): Promise<void>;
}

export async function startTokenServer(options: TokenServerOptions = {}): Promise<TokenServer> {
  const service = options.service ?? 'skiff-registry';
  const issuer = options.issuer ?? 'skiff-token-issuer';
  const users = options.users ?? {};
  let expiresIn = options.expiresIn ?? 300;
  let expireCount = 0;
  const tokenField = options.tokenField ?? 'both';
  const refreshTokens = new Map<string, string>();

  const dir = scratchDir('token-server');
  const keyPath = join(dir.path, 'key.pem');
  const certPath = join(dir.path, 'cert.pem');
  // Node cannot write certificates, openssl can; -days 2 so a run across midnight UTC cannot trip validity.
  await runCommand('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-sha256',
    '-days',
    '2',
    '-subj',
    `/CN=${issuer}`,
    '-keyout',
    keyPath,
    '-out',
    certPath,
  ]);
  const privateKey = createPrivateKey(readFileSync(keyPath));
  const cert = new X509Certificate(readFileSync(certPath));
  const keyId = libtrustKeyId(cert.publicKey);
  const x5c = [cert.raw.toString('base64')];

  const issue: TokenServer['issue'] = (claims) => {
    const now = Math.floor(Date.now() / 1000);
    const lifetime = claims.expiresIn ?? expiresIn;
    // Expired means past exp + leeway, else the registry would still take it for a minute.
    const exp = claims.expired ? now - REGISTRY_CLOCK_LEEWAY_SECONDS - 60 : now + lifetime;
    return signJwt(
      { typ: 'JWT', alg: 'RS256', kid: keyId, x5c },
      {
        iss: issuer,
        sub: claims.account ?? '',
        aud: service,
        exp,
        nbf: Math.min(now, exp) - 1,
        iat: now,
        jti: randomBytes(12).toString('hex'),
        access: claims.access,
      },
      privateKey,
    );
  };

  const grant = (account: string | undefined, scope: ParsedScope): string[] => {
    if (options.authorize) return options.authorize({ account, ...scope });
    if (account !== undefined) return scope.actions;
    const anonymous = options.anonymousPull ?? false;
    const allowed =
      scope.type === 'repository' &&
      (anonymous === true || (Array.isArray(anonymous) && anonymous.some((p) => globMatch(p, scope.name))));
    return allowed ? scope.actions.filter((a) => a === 'pull') : [];
  };

  const requests: TokenRequestRecord[] = [];

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, { errors: [{ code: 'UNKNOWN', message: String(error) }] });
      else res.destroy();
    });
  });

  const corsHeaders: Record<string, string> = options.cors
    ? {
        'Access-Control-Allow-Origin': '*',
        'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
        'Access-Control-Allow-Headers': 'Authorization, Content-Type',
      }
    : {};

  function send(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(text),
      ...corsHeaders,
      ...extra,
    });
    res.end(text);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://token.invalid');
    if (req.method === 'OPTIONS' && options.cors) {
      res.writeHead(204, { ...corsHeaders, 'Access-Control-Max-Age': '600' });
      res.end();
      return;
    }
    if (url.pathname !== '/token' || (req.method !== 'GET' && req.method !== 'POST')) {
      req.resume();
      send(res, 404, { errors: [{ code: 'NOT_FOUND', message: `no ${req.method} ${url.pathname} here` }] });
      return;
    }

    let params = url.searchParams;
    let grantType: string | undefined;
    let account: string | undefined;
    const record = (status: number, scopes: string[], granted: Access[]) =>
      requests.push({
        method: req.method ?? '',
        account,
        service: params.get('service') ?? undefined,
        scopes,
        grantType,
        status,
        granted,
      });
    const refuse = (status: number, scopes: string[], message: string, oauthError: string) => {
      account = undefined;
      record(status, scopes, []);
      // Both shapes clients are known to read: distribution's `errors` and OAuth2's `error`, plus Hub's `details`.
      send(
        res,
        status,
        {
          errors: [{ code: 'UNAUTHORIZED', message }],
          error: oauthError,
          error_description: message,
          details: message,
        },
        status === 401 ? { 'WWW-Authenticate': 'Basic realm="skiff-token-server"' } : {},
      );
    };

    if (req.method === 'POST') {
      params = new URLSearchParams(await readBody(req));
      grantType = params.get('grant_type') ?? undefined;
    } else {
      req.resume();
    }
    const scopes = params
      .getAll('scope')
      .flatMap((s) => s.split(' '))
      .filter(Boolean);
    let wantsRefresh = params.get('offline_token') === 'true' || params.get('access_type') === 'offline';

    if (req.method === 'POST') {
      if (grantType === 'password') {
        const username = params.get('username') ?? '';
        if (users[username] === undefined || users[username] !== params.get('password')) {
          refuse(401, scopes, 'incorrect username or password', 'invalid_grant');
          return;
        }
        account = username;
      } else if (grantType === 'refresh_token') {
        const owner = refreshTokens.get(params.get('refresh_token') ?? '');
        if (owner === undefined) {
          refuse(401, scopes, 'unknown refresh token', 'invalid_grant');
          return;
        }
        account = owner;
        wantsRefresh = false;
      } else {
        record(400, scopes, []);
        send(res, 400, { error: 'unsupported_grant_type', error_description: `grant_type ${grantType ?? '(none)'}` });
        return;
      }
    } else {
      const authorization = req.headers.authorization;
      if (authorization !== undefined) {
        const basic = /^Basic\s+(\S+)$/i.exec(authorization);
        const decoded = basic?.[1] ? Buffer.from(basic[1], 'base64').toString('utf8') : '';
        const colon = decoded.indexOf(':');
        const username = colon < 0 ? '' : decoded.slice(0, colon);
        if (colon < 0 || users[username] === undefined || users[username] !== decoded.slice(colon + 1)) {
          refuse(401, scopes, 'incorrect username or password', 'invalid_client');
          return;
        }
        account = username;
      }
    }

    // Like Docker Hub: scopes the caller may not have are dropped from the token rather than refused here;
    // the registry then answers 401/403 for them.
    const granted: Access[] = [];
    for (const raw of scopes) {
      const scope = parseScope(raw);
      if (!scope) continue;
      const actions = grant(account, scope);
      if (actions.length > 0) granted.push({ type: scope.type, name: scope.name, actions });
    }

    const expired = expireCount > 0;
    if (expired) expireCount--;
    const token = issue({ account, access: granted, expired });
    record(200, scopes, granted);

    const body: Record<string, unknown> = { expires_in: expiresIn, issued_at: new Date().toISOString() };
    if (req.method === 'POST') {
      body.access_token = token;
      body.scope = scopes.join(' ');
    } else {
      if (tokenField !== 'access_token') body.token = token;
      if (tokenField !== 'token') body.access_token = token;
    }
    if (wantsRefresh && account !== undefined) {
      const refresh = randomBytes(16).toString('hex');
      refreshTokens.set(refresh, account);
      body.refresh_token = refresh;
    }
    send(res, 200, body);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    realm: `${url}/token`,
    service,
    issuer,
    certPath,
    keyId,
    requests,
    expireNext(count = 1) {
      expireCount = count;
    },
    setExpiresIn(seconds) {
      expiresIn = seconds;
    },
    issue,
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      dir.remove();
    },
  };
}

interface ParsedScope {
  type: string;
  name: string;
  actions: string[];
}

/** `repository:library/alpine:pull,push` → type, name, actions. The name sits between the first and last colon. */
export function parseScope(raw: string): ParsedScope | undefined {
  const first = raw.indexOf(':');
  const last = raw.lastIndexOf(':');
  if (first < 0 || last === first) return undefined;
  const type = raw.slice(0, first).replace(/\(.*\)$/, '');
  return {
    type,
    name: raw.slice(first + 1, last),
    actions: raw
      .slice(last + 1)
      .split(',')
      .filter(Boolean),
  };
}

function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return re.test(name);
}

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

function signJwt(header: object, claims: object, key: KeyObject): string {
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  // RS256 is RSASSA-PKCS1-v1_5 with SHA-256, node's default padding for RSA keys.
  return `${input}.${base64url(sign('sha256', Buffer.from(input), key))}`;
}

/** libtrust's key ID: SHA-256 of the DER SubjectPublicKeyInfo, first 240 bits, base32, in 12 groups of 4. */
export function libtrustKeyId(publicKey: KeyObject): string {
  const digest = createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest()
    .subarray(0, 30);
  return (base32(digest).match(/.{4}/g) ?? []).join(':');
}

function base32(data: Buffer): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of data) {
    value = ((value << 8) | byte) & 0xffff; // only the unread bits (at most 12) matter
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
