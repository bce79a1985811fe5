/** Turns a failure into plain words: what happened and what to try next (translated), plus the engine's detail. */
import { SkiffError } from '../../core/errors.ts';
import { parsePlatform } from '../../core/platform.ts';
import { FileStalledError } from '../engine/sink.ts';
import type { Messages } from '../i18n/en.ts';

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
}

export interface AdviceContext {
  relay?: string;
  /** The failure came from writing the file rather than from the registry. */
  saving?: boolean;
  /** Credentials were sent: a refusal means they are wrong, not missing. */
  hadCredentials?: boolean;
  /** A cancel leaves files behind in Downloads (Firefox, streamed): say so. */
  cancelLeavesFiles?: boolean;
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
  const advice = describe(error, m, context);
  return error instanceof SkiffError ? { ...advice, code: error.code } : advice;
}

function describe(error: unknown, m: Messages, context: AdviceContext): Advice {
  if (error instanceof SkiffError) {
    const detail = error.message;
    const a = m.advice;
    switch (error.code) {
      case 'aborted':
        return cancelled(m, context);
      case 'network':
        return {
          lines: context.relay ? [a.network, a.networkRelay(context.relay)] : [a.network, a.networkFix],
          detail,
        };
      case 'timeout':
        return { lines: [a.timeout], detail };
      case 'unauthorized':
        return { lines: [context.hadCredentials ? a.unauthorized : a.signIn], detail };
      case 'denied':
        return { lines: [a.denied], detail };
      case 'not-found':
        return { lines: [a.notFound], detail };
      case 'rate-limited':
        return { lines: [a.rateLimited], detail };
      case 'platform-not-found': {
        const platforms = error.platforms ?? [];
        // All are named (as text); only those the page can ask for again are offered as choices.
        return {
          lines: platforms.length ? [a.platformNotFound, a.platformList(platforms.join(', '))] : [a.platformNotFound],
          detail,
          platforms: platforms.filter(choosablePlatform),
        };
      }
      case 'digest-mismatch':
      case 'size-mismatch':
      case 'bad-layer':
        return { lines: [a.corrupt], detail };
      case 'unsupported':
        return { lines: [a.unsupported], detail };
      case 'bad-manifest':
        return { lines: [a.badManifest], detail };
      case 'too-large':
        return { lines: [a.tooLarge], detail };
      case 'bad-challenge':
      case 'bad-token':
        return { lines: [a.auth], detail };
      case 'invalid-reference':
      case 'invalid-argument':
        return { lines: [a.reference], detail };
      case 'http':
        return { lines: [a.http], detail };
    }
  }
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof FileStalledError) return { lines: [m.advice.saveStalled(error.seconds)], detail: message };
  if (error instanceof DOMException && error.name === 'AbortError' && !context.saving) return cancelled(m, context);
  if (error instanceof DOMException && error.name === 'AbortError')
    return { lines: [m.advice.saveAborted], cancelled: true };
  if (context.saving) return { lines: [m.advice.saveFailed], detail: message };
  return { lines: [m.advice.unknown], detail: message };
}

function cancelled(m: Messages, context: AdviceContext): Advice {
  return { lines: context.cancelLeavesFiles ? [m.cancelled, m.cancelledFiles] : [m.cancelled], cancelled: true };
}
