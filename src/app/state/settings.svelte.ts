/**
 * The effective settings: built-in ← config.json ← what the user saved here. `version` changes whenever
 * something that shapes registry requests changes, so resolved images know when they are stale.
 */
import { BUILT_IN, type HostConfig, type Settings, sanitizeSettings } from '../lib/config.ts';
import { readStored, writeStored, isRecord } from '../lib/storage.ts';

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
  const { language: _language, stallTimeoutSeconds: _stall, ...rest } = host;
  return rest;
}

export const settings = new SettingsState();
