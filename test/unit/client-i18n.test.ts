/** The client's string table and localizer: fallbacks, placeholders, Intl formats, direction. */
import { describe, expect, it } from 'vitest';
import { en, localizer, SHIPPED_STRINGS, type StringKey } from '../../src/client/i18n/localizer';
import { ERROR_STATUS, REASON_CODES } from '../../src/domain/errors';

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('client string table', () => {
  it('every shipped language uses only English keys, with the same placeholders', () => {
    for (const [lang, table] of Object.entries(SHIPPED_STRINGS)) {
      for (const [key, text] of Object.entries(table)) {
        expect(key in en, `${lang} has unknown key ${key}`).toBe(true);
        expect(placeholders(text!), `${lang} ${key}`).toEqual(placeholders(en[key as StringKey]));
      }
    }
  });

  it('German and Arabic translate every key', () => {
    for (const lang of ['de', 'ar']) expect(Object.keys(SHIPPED_STRINGS[lang]!).sort()).toEqual(Object.keys(en).sort());
  });

  it('every server code the table words is one the server declares (src/domain/errors.ts)', () => {
    const worded = Object.keys(en).filter((k) => k.startsWith('reason.ERR_')).map((k) => k.slice('reason.'.length));
    expect(worded.length).toBeGreaterThan(10);
    for (const code of worded) expect(code in ERROR_STATUS || code in REASON_CODES, code).toBe(true);
  });

  it('a key missing in a language (or in overrides) falls back to English', () => {
    const l = localizer({ locale: 'de', strings: { 'zone.drop': 'Hierher!', 'zone.or': undefined } as never });
    expect(l.t('zone.drop')).toBe('Hierher!');
    expect(l.t('zone.or')).toBe('oder');
    const partial = localizer({ locale: 'fr', strings: { 'action.pause': 'Pause' } });
    expect(partial.t('action.cancel')).toBe('Cancel');
    expect(partial.locale).toBe('fr');
  });

  it('picks the language of a regional tag, fills placeholders, leaves unknown ones', () => {
    const l = localizer({ locale: 'de-CH' });
    expect(l.t('announce.state', { name: 'a.pdf', state: 'Fertig' })).toBe('a.pdf: Fertig.');
    expect(localizer({ locale: 'en' }).t('reason.empty')).toBe('“{name}” is empty.');
  });

  it('formats sizes, durations, percentages and lists with Intl in the locale', () => {
    const en = localizer({ locale: 'en' });
    expect(en.bytes(999)).toBe('999 byte');
    expect(en.bytes(67_108_864)).toBe('67.1 MB');
    expect(en.duration(125)).toBe('2 min 5 sec');
    expect(en.duration(null)).toBe('');
    expect(en.percent(0.42)).toBe('42%');
    expect(en.list(['PDF', 'PNG', 'JPEG'])).toBe('PDF, PNG, and JPEG');
    const de = localizer({ locale: 'de' });
    expect(de.bytes(1_500_000)).toBe('1,5 MB');
    expect(de.list(['PDF', 'PNG'])).toBe('PDF und PNG');
  });

  it('right-to-left for Arabic and Hebrew; an invalid tag becomes English', () => {
    expect(localizer({ locale: 'ar' }).dir).toBe('rtl');
    expect(localizer({ locale: 'he-IL' }).dir).toBe('rtl');
    expect(localizer({ locale: 'de' }).dir).toBe('ltr');
    expect(localizer({ locale: 'not a tag!' }).locale).toBe('en');
  });
});
