/**
 * Docker Hub's pull quota in words: running low, used up (429 TOOMANYREQUESTS), when it resets, and the fix
 * (an account of one's own). Behind a shared relay everyone shares one anonymous quota, so that is said too.
 */
import type { QuotaReport } from '../../core/errors.ts';
import type { Messages } from '../i18n/en.ts';

export interface QuotaContext {
  /** The relay requests go through, if any: its address is the one Docker Hub counts. */
  relay?: string;
  /** Requests carried credentials for Docker Hub: the quota is the account's own. */
  signedIn?: boolean;
  /** When the registry said it (ms since the epoch): a reset in N seconds counts from then. */
  at: number;
}

/** Low: at most a tenth of the limit left, or 10 pulls when the limit is not said. */
export function quotaIsLow(quota: { remaining: number; limit?: number }): boolean {
  return quota.remaining <= Math.max(10, (quota.limit ?? 0) / 10);
}

/** Docker Hub refused a pull for the quota (429). */
export function quotaRefusedLines(quota: QuotaReport | undefined, m: Messages, context: QuotaContext): string[] {
  const a = m.advice;
  if (context.signedIn) return [a.dockerHubQuotaAccount, ...resetLines(quota, m, context)];
  return [
    context.relay ? a.dockerHubQuotaShared(context.relay) : a.dockerHubQuota,
    a.dockerHubQuotaFix,
    ...resetLines(quota, m, context),
  ];
}

/** Docker Hub reported few pulls left. */
export function quotaLowLines(
  quota: { remaining: number; limit?: number; windowSeconds?: number },
  m: Messages,
  context: QuotaContext,
): string[] {
  const a = m.advice;
  if (context.signedIn) return [a.quotaLowAccount(quota.remaining, quota.limit), ...resetLines(quota, m, context)];
  return [
    context.relay
      ? a.quotaLowShared(quota.remaining, quota.limit, context.relay)
      : a.quotaLow(quota.remaining, quota.limit),
    a.dockerHubQuotaFix,
    ...resetLines(quota, m, context),
  ];
}

/** A reset time when the registry said one; else the window the quota counts over, when it said that. */
export function resetLines(quota: QuotaReport | undefined, m: Messages, context: QuotaContext): string[] {
  if (quota?.resetSeconds !== undefined)
    return [m.advice.quotaResets(context.at + quota.resetSeconds * 1000, Date.now())];
  if (quota?.windowSeconds !== undefined) return [m.advice.quotaWindow(quota.windowSeconds)];
  return [];
}
