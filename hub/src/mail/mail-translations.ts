import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import i18next from 'i18next';
import { MAIL_LOCALES } from './mail-message.js';
import type { Translate } from './mail-renderer.js';

/** The hub's locale files: `hub/locales/<locale>/<namespace>.json`. */
export const LOCALES_DIR = fileURLToPath(new URL('../../locales', import.meta.url));

/**
 * An i18next instance over every namespace file of every mail language, loaded synchronously
 * once. No escaping here: the HTML templates escape what they print, the text ones must not.
 */
export function loadMailTranslations(dir = LOCALES_DIR): Translate {
  const resources: Record<string, Record<string, unknown>> = {};
  for (const locale of MAIL_LOCALES) {
    resources[locale] = {};
    for (const file of readdirSync(join(dir, locale)).filter((name) => name.endsWith('.json'))) {
      resources[locale][file.slice(0, -'.json'.length)] = JSON.parse(readFileSync(join(dir, locale, file), 'utf8'));
    }
  }
  const instance = i18next.createInstance();
  void instance.init({
    resources: resources as never,
    lng: 'en',
    fallbackLng: 'en',
    ns: Object.keys(resources.en ?? {}),
    initAsync: false,
    interpolation: { escapeValue: false },
    returnNull: false,
  });
  return (locale, key, values = {}) => instance.t(key, { ...values, lng: locale }) as string;
}
