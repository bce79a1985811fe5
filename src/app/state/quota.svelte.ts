/** Docker Hub's pull quota as it last reported it (on a resolve or during a download), for the low-quota notice. */
import type { RateLimit } from '../../core/registry/transport/rate-limit.ts';
import { credentials } from './credentials.svelte.ts';

export interface QuotaSeen {
  rateLimit: RateLimit;
  /** When it was reported (ms since the epoch). */
  at: number;
  /** Whether Docker Hub credentials were in use: the account's quota rather than the address's. */
  signedIn: boolean;
}

class DockerHubQuota {
  seen = $state.raw<QuotaSeen | undefined>(undefined);

  /** A registry's answer reported its quota; only Docker Hub's is told. */
  note(registry: string, rateLimit: RateLimit | undefined): void {
    if (registry !== 'docker.io' || !rateLimit) return;
    // Progress reports the same figures many times a second: only a change is news.
    const signedIn = !!credentials.lookup('docker.io');
    const last = this.seen;
    if (last?.signedIn === signedIn && JSON.stringify(last.rateLimit) === JSON.stringify(rateLimit)) return;
    this.seen = { rateLimit, at: Date.now(), signedIn };
  }

  /** The last report, while it still describes the quota requests use now (signing in or out changes whose it is). */
  current(): QuotaSeen | undefined {
    const seen = this.seen;
    return seen && seen.signedIn === !!credentials.lookup('docker.io') ? seen : undefined;
  }
}

export const dockerHubQuota = new DockerHubQuota();
