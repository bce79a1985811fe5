/**
 * The page's language: the one the user picked (remembered), else the browser's (any zh-* → 简体中文),
 * else English. `t()` reads reactive state, so every string in a template follows a switch at once.
 */
import { readStored, writeStored } from '../lib/storage.ts';
import { type Messages, en } from './en.ts';
import { zh } from './zh.ts';

export type Locale = 'en' | 'zh';
export const LOCALES: Record<Locale, Messages> = { en, zh };

const isLocale = (value: unknown): value is Locale => value === 'en' || value === 'zh';

export function browserLocale(languages: readonly string[] = globalThis.navigator?.languages ?? []): Locale {
  for (const tag of languages) {
    const lower = tag.toLowerCase();
    if (lower.startsWith('zh')) return 'zh';
    if (lower.startsWith('en')) return 'en';
  }
  return 'en';
}

const state = $state<{ locale: Locale; chosen: boolean }>({ locale: 'en', chosen: false });

/** Picks the starting language; `hostDefault` comes from config.json and loses to the user's own choice. */
export function initLocale(hostDefault?: string): void {
  const stored = readStored('lang', isLocale);
  state.chosen = stored !== undefined;
  state.locale = stored ?? (isLocale(hostDefault) ? hostDefault : browserLocale());
  applyToDocument();
}

export function setLocale(locale: Locale): void {
  state.locale = locale;
  state.chosen = true;
  writeStored('lang', locale);
  applyToDocument();
}

export function locale(): Locale {
  return state.locale;
}

export function t(): Messages {
  return LOCALES[state.locale];
}

function applyToDocument(): void {
  if (typeof document === 'undefined') return;
  document.documentElement.lang = state.locale === 'zh' ? 'zh-CN' : 'en';
  document.title = `${LOCALES[state.locale].title} — ${LOCALES[state.locale].tagline}`;
}
