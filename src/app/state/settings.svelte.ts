/**
 * The effective settings: built-in ← config.json ← what the user saved here. `current` is derived state, so
 * whatever reads it (the session's key of what shapes registry requests, which marks resolved images stale)
 * follows every change.
 */
import { BUILT_IN, type HostConfig, type Settings, sanitizeSettings } from '../lib/config.ts';
import { isRecord } from '../../core/json.ts';
import { type WaitPolicy, scaledWaits } from '../../core/registry/transport/waits.ts';
import { readStored, writeStored } from '../lib/storage.ts';

class SettingsState {
  host = $state<HostConfig>({});
  user = $state<Partial<Settings>>({});
  current: Settings = $derived({ ...BUILT_IN, ...stripLanguage(this.host), ...this.user });
  /** Defaults the user would get back with "Reset to defaults". */
  defaults: Settings = $derived({ ...BUILT_IN, ...stripLanguage(this.host) });

  init(host: HostConfig): void {
    this.host = host;
    this.user = sanitizeSettings(readStored('settings', isRecord));
  }

  /** Fields `next` leaves out keep their current value (a form need not show every setting, e.g. `parallel`). */
  save(next: Partial<Settings>): void {
    const full: Settings = { ...this.current, ...next };
    // Only what differs from the host's defaults is kept, so a later change of config.json still reaches
    // users who never touched that field.
    const diff: Partial<Settings> = {};
    for (const key of Object.keys(full) as (keyof Settings)[]) {
      if (JSON.stringify(full[key]) !== JSON.stringify(this.defaults[key]))
        (diff as Record<string, unknown>)[key] = full[key];
    }
    this.user = diff;
    writeStored('settings', Object.keys(diff).length ? diff : undefined);
  }

  reset(): void {
    this.user = {};
    writeStored('settings', undefined);
  }
}

/** The host's fields that are not user settings stay out of them. */
function stripLanguage(host: HostConfig): Partial<Settings> {
  const {
    language: _language,
    stallTimeoutSeconds: _stall,
    writeTimeoutSeconds: _write,
    waitSeconds: _wait,
    ...rest
  } = host;
  return rest;
}

export const settings = new SettingsState();

/** The host's `waitSeconds` (config.json), scaling every wait of the engine; none = the engine's own. */
export function hostWaits(): { waits?: Partial<WaitPolicy> } {
  const seconds = settings.host.waitSeconds;
  return seconds ? { waits: scaledWaits(seconds * 1000) } : {};
}
