/**
 * Bearer realms rewritten to point back into the relay, so the browser-side engine fetches its token
 * through the relay too: `realm="https://auth.docker.io/token"` → `realm="<relay>/auth.docker.io/token"`,
 * only where the relay would take that URL.
 */
import { type Challenge, parseWwwAuthenticate } from '../core/registry/transport/challenge.ts';
import { type DestinationPolicy, destinationForUrl, schemeFor } from './destination.ts';
import { classifyPath } from './route.ts';

export function rewriteChallenges(policy: DestinationPolicy, header: string, relayBase: string): string {
  let challenges: Challenge[];
  try {
    challenges = parseWwwAuthenticate(header);
  } catch {
    return header; // not ours to repair: the client reports the registry's malformed header
  }
  let changed = false;
  for (const challenge of challenges) {
    const realm = challenge.params.realm;
    if (challenge.scheme !== 'bearer' || realm === undefined) continue;
    let url: URL;
    try {
      url = new URL(realm);
      const target = destinationForUrl(policy, url);
      // The relay dials the scheme from its own settings: a realm in another scheme cannot go through it.
      if (target.scheme !== schemeFor(policy, target.host)) continue;
      classifyPath(url.pathname);
    } catch {
      continue; // not relayable: passed on untouched, and requests to it are refused
    }
    challenge.params.realm = `${relayBase}/${url.host}${url.pathname}${url.search}`;
    changed = true;
  }
  return changed ? challenges.map(serializeChallenge).join(', ') : header;
}

/** Rebuilds a challenge with every parameter quoted and escaped (RFC 9110 §5.6.4). */
export function serializeChallenge(challenge: Challenge): string {
  const scheme = challenge.scheme === 'bearer' ? 'Bearer' : challenge.scheme === 'basic' ? 'Basic' : challenge.scheme;
  if (challenge.token68 !== undefined) return `${scheme} ${challenge.token68}`;
  const params = Object.entries(challenge.params).map(
    ([name, value]) => `${name}="${value.replace(/["\\]/g, '\\$&')}"`,
  );
  return params.length ? `${scheme} ${params.join(',')}` : scheme;
}
