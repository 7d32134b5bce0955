/**
 * @module Turns the string table into text for one locale: picks the shipped table (exact tag,
 * then its language), lays caller overrides on top, falls back to English key by key, fills
 * `{placeholders}`, and formats numbers, sizes, percentages and durations with Intl.
 */
import { ar } from './strings-ar';
import { de } from './strings-de';
import { en, type StringKey, type Strings } from './strings-en';

export { en, type StringKey, type Strings };

/** The languages shipped with the client; any other locale gets English text with its own number formats. */
export const SHIPPED_STRINGS: Record<string, Partial<Strings>> = { en, de, ar };

export type Params = Record<string, string | number>;

export interface LocalizerOptions {
  /** A BCP 47 tag (`ar`, `de-CH`); the browser's language when unset. */
  locale?: string;
  /** Overrides for some or all strings (in the chosen locale); missing keys fall back. */
  strings?: Partial<Strings>;
}

export interface Localizer {
  readonly locale: string;
  readonly dir: 'ltr' | 'rtl';
  t(key: StringKey, params?: Params): string;
  /** Whether the table has `key` (for codes that come from elsewhere, like the server's). */
  has(key: string): boolean;
  bytes(bytes: number): string;
  /** "3 min 20 sec", or '' when unknown. */
  duration(seconds: number | null): string;
  percent(fraction: number): string;
  /** "PDF, PNG and JPEG" in the locale's way of listing. */
  list(items: string[]): string;
}

const RTL_LANGUAGES = new Set(['ar', 'he', 'fa', 'ur', 'ps', 'sd', 'ug', 'yi', 'dv', 'ku']);
const SIZE_UNITS = ['kilobyte', 'megabyte', 'gigabyte', 'terabyte'] as const;

function defaultLocale(): string {
  return (typeof navigator !== 'undefined' && navigator.language) || 'en';
}

/** A valid, canonical tag; 'en' for anything Intl does not accept. */
function canonical(locale: string | undefined): string {
  try {
    return Intl.getCanonicalLocales(locale ?? defaultLocale())[0] ?? 'en';
  } catch {
    return 'en';
  }
}

export function localizer(options: LocalizerOptions = {}): Localizer {
  const locale = canonical(options.locale);
  const language = locale.split('-')[0]!.toLowerCase();
  const table: Strings = { ...en, ...(SHIPPED_STRINGS[language] ?? {}), ...(SHIPPED_STRINGS[locale] ?? {}), ...definedOnly(options.strings) };
  const number = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 });
  const percent = new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 0 });
  const unit = (name: string) => new Intl.NumberFormat(locale, { style: 'unit', unit: name, unitDisplay: 'short', maximumFractionDigits: 1 });
  const units = new Map<string, Intl.NumberFormat>();
  const inUnit = (name: string, value: number) => {
    let format = units.get(name);
    if (!format) units.set(name, (format = unit(name)));
    return format.format(value);
  };
  const lists = new Intl.ListFormat(locale, { style: 'long', type: 'conjunction' });

  return {
    locale,
    dir: RTL_LANGUAGES.has(language) ? 'rtl' : 'ltr',
    t(key, params) {
      const template = table[key] ?? en[key] ?? key;
      if (!params) return template;
      return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
        const value = params[name];
        if (value === undefined) return whole;
        return typeof value === 'number' ? number.format(value) : value;
      });
    },
    bytes(bytes) {
      if (bytes < 1000) return inUnit('byte', Math.round(bytes));
      let value = bytes / 1000;
      let i = 0;
      while (value >= 1000 && i < SIZE_UNITS.length - 1) {
        value /= 1000;
        i += 1;
      }
      return inUnit(SIZE_UNITS[i]!, value);
    },
    duration(seconds) {
      if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return '';
      const whole = Math.ceil(seconds);
      const hours = Math.floor(whole / 3600);
      const minutes = Math.floor((whole % 3600) / 60);
      const secs = whole % 60;
      const parts: string[] = [];
      if (hours) parts.push(inUnit('hour', hours));
      if (minutes) parts.push(inUnit('minute', minutes));
      if (secs && !hours) parts.push(inUnit('second', secs));
      return parts.join(' ');
    },
    has: (key) => key in table,
    percent: (fraction) => percent.format(fraction),
    list: (items) => lists.format(items),
  };
}

/** Drops `undefined` values so an override object cannot blank out a key. */
function definedOnly(strings: Partial<Strings> | undefined): Partial<Strings> {
  if (!strings) return {};
  return Object.fromEntries(Object.entries(strings).filter(([, v]) => typeof v === 'string')) as Partial<Strings>;
}
