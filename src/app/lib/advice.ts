/** Turns a failure into plain words: what happened and what to try next (translated), plus the engine's detail. */
import { SkiffError } from '../../core/errors.ts';
import { parsePlatform } from '../../core/image/platform.ts';
import { FileStalledError } from '../engine/sink.ts';
import { type ImageReference, familiarName, isLoopbackHost, registryApiHost } from '../../core/image/reference.ts';
import { relayRefusalOf } from '../../core/registry/transport/relay.ts';
import { isWellKnownRegistry, nearestRegistries } from './registries.ts';
import type { Messages } from '../i18n/en.ts';
import { quotaRefusedLines, resetLines } from './quota.ts';

export interface Advice {
  /** What went wrong and what to do, in the page's language. */
  lines: string[];
  /** The engine's own message (English), for the curious and for bug reports. */
  detail?: string;
  /** Platforms to offer when the chosen one does not exist. */
  platforms?: string[];
  cancelled?: boolean;
  /** The SkiffError code, when it was one. */
  code?: string;
  /** What the advice was made from, so it can be told again in another language. */
  source?: { error: unknown; context: AdviceContext };
}

export interface AdviceContext {
  relay?: string;
  /** The failure came from writing the file rather than from the registry. */
  saving?: boolean;
  /** Credentials were sent: a refusal means they are wrong, not missing. */
  hadCredentials?: boolean;
  /** A cancel leaves files behind in Downloads (Firefox, streamed): say so. */
  cancelLeavesFiles?: boolean;
  /** The image that was asked for, when one was (a push: where it goes). */
  reference?: ImageReference;
  /** The registry the failure is about, when no image reference is at hand (a download's own failure). */
  registry?: string;
  /** When it happened (ms since the epoch): a quota's reset is told from then, in whichever language. */
  at?: number;
  /** A push: reading the chosen file (`read`), or sending it to the registry (`send`). */
  push?: 'read' | 'send';
}

/**
 * Whether a platform an index names can be chosen (`os/arch[/variant]` of plain characters). A registry may
 * name anything; offering a name the page then refuses as "not a platform" would be a dead end.
 */
export function choosablePlatform(value: string): boolean {
  try {
    parsePlatform(value);
    return true;
  } catch {
    return false;
  }
}

export function adviceFor(error: unknown, m: Messages, context: AdviceContext = {}): Advice {
  const advice: Advice = { ...describe(error, m, context), source: { error, context } };
  return error instanceof SkiffError ? { ...advice, code: error.code } : advice;
}

/** The same advice in another language (the alert follows a language switch). */
export function retold(advice: Advice, m: Messages): Advice {
  return advice.source ? adviceFor(advice.source.error, m, advice.source.context) : advice;
}

/** Docker Hub answers "unauthorized" both for names that do not exist and for private ones, as `docker pull` says. */
function dockerHubDenied(m: Messages, context: AdviceContext): string[] | undefined {
  if (context.push || context.hadCredentials || context.reference?.registry !== 'docker.io') return undefined;
  return [m.advice.dockerHubDenied(familiarName(context.reference)), m.advice.dockerHubDeniedFix];
}

/** Why the relay refused, with the setting that would let it through. */
function relayLines(error: SkiffError, m: Messages, context: AdviceContext): string[] {
  const a = m.advice;
  const refusal = relayRefusalOf(error);
  const relay = context.relay ?? '';
  const host = refusal?.host ?? (context.reference ? registryApiHost(context.reference.registry) : '');
  switch (refusal?.code) {
    case 'host-not-allowed':
      // Most often a typo: the name first, the relay's setting second.
      return [
        a.relayCheckName(shownRegistry(host, context), nearestRegistries(host)),
        a.relayHostNotAllowed(relay, host),
        a.relayBypass(host),
      ];
    case 'private-address':
      return [a.relayPrivateAddress(relay, host), a.relayBypass(host)];
    case 'scheme-not-allowed':
    case 'redirect-not-allowed':
    case 'too-many-redirects':
    case 'bad-redirect':
      return [a.relayRedirect(relay, host)];
    case 'upstream-unreachable': {
      // The relay passes on what its connection attempt said: a name that does not resolve, a closed port,
      // a connection that was never accepted, or no TLS.
      if (/ENOTFOUND|EAI_AGAIN|EAI_NONAME|getaddrinfo/.test(error.message)) {
        // A public registry's name resolves everywhere: then it is the relay's network that cannot look names up.
        if (!isWellKnownRegistry(host)) return [a.relayDns(relay, host)];
        const hub = host === 'registry-1.docker.io' ? [a.relayDnsMirror] : [];
        return [a.relayDnsPublic(relay, host), ...hub];
      }
      if (/ECONNREFUSED/.test(error.message)) return [a.relayRefused(relay, host)];
      if (/ETIMEDOUT|timed out/i.test(error.message)) return [a.relayConnectTimeout(relay, host)];
      if (/wrong version number|packet length too long|SSL routines|EPROTO|ERR_SSL|TLS/i.test(error.message))
        return [a.relayTls(relay, host)];
      return [a.relayUnreachable(relay, host)];
    }
    case 'upstream-timeout':
      return [a.relayTimeout(relay, host)];
    case 'rate-limited':
    case 'too-many-in-flight':
      return [a.relayRateLimited(relay)];
    case 'origin-not-allowed':
      return [a.relayOrigin(relay)];
    default:
      return [a.relayOther(relay)];
  }
}

/** The registry as the person typed it (docker.io, not the API host registry-1.docker.io). */
function shownRegistry(host: string, context: AdviceContext): string {
  const typed = context.reference?.registry;
  return typed && registryApiHost(typed) === host ? typed : host;
}

function describe(error: unknown, m: Messages, context: AdviceContext): Advice {
  if (error instanceof SkiffError) {
    const detail = error.message;
    const a = m.advice;
    switch (error.code) {
      case 'aborted':
        return cancelled(m, context);
      case 'network': {
        if (context.relay) return { lines: [a.networkRelay(context.relay)], detail };
        const host = context.reference ? registryApiHost(context.reference.registry) : '';
        // A page spoke https to a host with a port that is not loopback: it may well be a plain-HTTP registry.
        const plain = host && /:\d+$/.test(host) && !isLoopbackHost(host) ? [a.networkPlainHttp(host)] : [];
        return { lines: [a.network(host), ...plain, a.networkFix], detail };
      }
      case 'relay-refused':
        return { lines: relayLines(error, m, context), detail };
      case 'timeout': {
        const wait = error.wait;
        if (!wait) return { lines: [a.timeout], detail };
        const line = { 'no-answer': a.waitNoAnswer, 'too-slow': a.waitTooSlow, stalling: a.waitStalling }[wait.kind];
        return { lines: [line(wait.host)], detail };
      }
      case 'unauthorized':
        return { lines: dockerHubDenied(m, context) ?? [context.hadCredentials ? a.unauthorized : a.signIn], detail };
      case 'denied':
        return { lines: dockerHubDenied(m, context) ?? [context.push ? a.deniedPush : a.denied], detail };
      case 'not-found':
        return { lines: [context.push ? a.notFoundPush : a.notFound], detail };
      case 'rate-limited': {
        const quota = { ...(context.relay ? { relay: context.relay } : {}), at: context.at ?? Date.now() };
        if ((context.reference?.registry ?? context.registry) === 'docker.io')
          return {
            lines: quotaRefusedLines(error.quota, m, { ...quota, signedIn: !!context.hadCredentials }),
            detail,
          };
        return { lines: [a.rateLimited, ...resetLines(error.quota, m, quota)], detail };
      }
      case 'platform-not-found': {
        const platforms = error.platforms ?? [];
        // All are named (as text); only those the page can ask for again are offered as choices.
        return {
          lines: platforms.length ? [a.platformNotFound, a.platformList(platforms.join(', '))] : [a.platformNotFound],
          detail,
          platforms: platforms.filter(choosablePlatform),
        };
      }
      // Bytes that do not match their digest, or compressed data that will not inflate: damaged on the way.
      case 'digest-mismatch':
      case 'size-mismatch':
      case 'bad-layer':
        // A push checks the file's own layers: it is the file that is damaged (nothing was tagged).
        return { lines: [context.push ? a.fileDamaged : a.corrupt], detail };
      case 'malformed-layer':
        return { lines: [a.malformedLayer], detail };
      case 'unsupported':
        return { lines: [context.push === 'read' ? a.notArchive : a.unsupported], detail };
      case 'bad-manifest':
        return { lines: [context.push === 'read' ? a.notArchive : a.badManifest], detail };
      case 'too-large':
        return { lines: [a.tooLarge], detail };
      case 'bad-challenge':
      case 'bad-token':
        return { lines: [a.auth], detail };
      case 'invalid-reference':
      case 'invalid-argument':
        return { lines: [context.push ? a.pushTarget : a.reference], detail };
      case 'http': {
        const status = /answered HTTP (\d{3})/.exec(detail)?.[1];
        return { lines: [a.http(status ?? '?')], detail };
      }
    }
  }
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof FileStalledError) return { lines: [m.advice.saveStalled(error.seconds)], detail: message };
  if (error instanceof DOMException && error.name === 'AbortError' && !context.saving) return cancelled(m, context);
  if (error instanceof DOMException && error.name === 'AbortError')
    return { lines: [m.advice.saveAborted], cancelled: true };
  if (context.saving) return { lines: [m.advice.saveFailed], detail: message };
  // The browser could not read the chosen file (moved, deleted or changed since it was chosen).
  if (context.push && error instanceof DOMException && error.name === 'NotReadableError')
    return { lines: [m.advice.fileUnreadable], detail: message };
  return { lines: [m.advice.unknown], detail: message };
}

function cancelled(m: Messages, context: AdviceContext): Advice {
  return { lines: context.cancelLeavesFiles ? [m.cancelled, m.cancelledFiles] : [m.cancelled], cancelled: true };
}
