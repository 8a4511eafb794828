import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import i18next, { type i18n as I18n, type Resource } from 'i18next';

/** The hub's languages: English (the default) and Simplified Chinese. */
export const LOCALES = ['en', 'zh-CN'] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'en';

/** `hub/locales/<locale>/<namespace>.json`: every namespace found there is loaded at start. */
export const LOCALES_DIR = fileURLToPath(new URL('../../locales', import.meta.url));

/** Translates `key` (`namespace:path.to.key`) with `{{name}}` interpolation. */
export type Translate = (key: string, vars?: Record<string, unknown>) => string;

/** The namespaces in `hub/locales/<locale>/`, from the file names. */
export function namespacesOf(locale: Locale, dir = LOCALES_DIR): string[] {
  return readdirSync(join(dir, locale))
    .filter((name) => name.endsWith('.json'))
    .map((name) => name.slice(0, -'.json'.length))
    .sort();
}

/** Every locale file, parsed: `{ en: { common: {...}, portal: {...} }, 'zh-CN': {...} }`. */
export function loadResources(dir = LOCALES_DIR): Resource {
  const resources: Resource = {};
  for (const locale of LOCALES) {
    resources[locale] = {};
    for (const ns of namespacesOf(locale, dir)) {
      resources[locale][ns] = JSON.parse(readFileSync(join(dir, locale, `${ns}.json`), 'utf8')) as Record<string, unknown>;
    }
  }
  return resources;
}

let instance: I18n | undefined;

/** One i18next instance for the process, initialised synchronously from the files on first use. */
function i18n(): I18n {
  if (instance) return instance;
  const resources = loadResources();
  const created = i18next.createInstance();
  void created.init({
    initAsync: false, // resources are in memory: ready when init returns
    resources,
    supportedLngs: [...LOCALES],
    lng: DEFAULT_LOCALE,
    fallbackLng: DEFAULT_LOCALE,
    ns: Object.keys(resources[DEFAULT_LOCALE] ?? {}),
    defaultNS: 'common',
    nsSeparator: ':',
    keySeparator: '.',
    // Output is escaped by nunjucks' autoescape (pages) or by the mail templates: escaping here too
    // would show `&amp;` to the reader.
    interpolation: { escapeValue: false },
    returnNull: false,
  });
  instance = created;
  return created;
}

/** Whether `value` is one of the hub's locales (exact spelling). */
export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

/** A language tag of any spelling (`zh`, `zh-Hans-CN`, `ZH_cn`, `en-GB`) as a hub locale, if it is one. */
export function normalizeLocale(tag: unknown): Locale | undefined {
  if (typeof tag !== 'string') return undefined;
  const lower = tag.trim().toLowerCase().replace(/_/g, '-');
  // Simplified Chinese and plain `zh`; Traditional (zh-Hant, zh-TW, zh-HK) readers still read zh-CN
  // better than English, so every `zh` goes to zh-CN while there is no Traditional translation.
  if (lower === 'zh' || lower.startsWith('zh-')) return 'zh-CN';
  if (lower === 'en' || lower.startsWith('en-')) return 'en';
  return undefined;
}

/**
 * The first hub locale in a space-separated list of language tags in order of preference
 * (OIDC Core §3.1.2.1 `ui_locales`), if one is there.
 */
export function firstLocale(list: unknown): Locale | undefined {
  if (typeof list !== 'string') return undefined;
  // A list is short; a long one is not read past this.
  for (const tag of list.split(/\s+/, 20)) {
    const locale = normalizeLocale(tag);
    if (locale) return locale;
  }
  return undefined;
}

/**
 * The locale for a request: the `lang` cookie (the switcher's choice) when it names a hub
 * locale, else the best match in `Accept-Language` by quality, else English.
 */
export function pickLocale(acceptLanguage: string | undefined, cookie?: unknown): Locale {
  const chosen = normalizeLocale(cookie);
  if (chosen) return chosen;
  if (!acceptLanguage) return DEFAULT_LOCALE;
  const ranges = acceptLanguage
    .split(',')
    .slice(0, 20) // a header is a short list; a long one is not read past this
    .map((part, index) => {
      const [tag = '', ...params] = part.split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      const quality = q ? Number(q.slice(2)) : 1;
      return { tag: tag.trim(), quality: Number.isFinite(quality) ? quality : 0, index };
    })
    .filter((range) => range.quality > 0)
    .sort((a, b) => b.quality - a.quality || a.index - b.index);
  for (const range of ranges) {
    const locale = normalizeLocale(range.tag);
    if (locale) return locale;
  }
  return DEFAULT_LOCALE;
}

/** The most texts without values a locale's translator remembers (the keys are the code's, a few hundred). */
const MEMO_LIMIT = 2_000;

const translators = new Map<Locale, Translate>();

/**
 * A `t` bound to `locale`, usable anywhere (pages, e-mails, the CLI). One per locale, made
 * once: a text without values is looked up in i18next once and then remembered (the
 * resources never change while the process runs). A page calls `t` dozens of times, and
 * i18next copies its options into new objects on every call (issue 14: 12 % of what a
 * sign-in allocated).
 */
export function translator(locale: Locale = DEFAULT_LOCALE): Translate {
  let translate = translators.get(locale);
  if (!translate) {
    const t = i18n().getFixedT(locale);
    const memo = new Map<string, string>();
    translate = (key, vars) => {
      if (vars !== undefined) return t(key, vars) as string;
      let text = memo.get(key);
      if (text === undefined) {
        text = t(key, {}) as string;
        if (memo.size < MEMO_LIMIT) memo.set(key, text);
      }
      return text;
    };
    translators.set(locale, translate);
  }
  return translate;
}

/** Date and time with seconds, in UTC and saying so: the hub's servers and its readers may be anywhere. */
const DATE_TIME: Intl.DateTimeFormatOptions = {
  year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit',
  hourCycle: 'h23', timeZone: 'UTC', timeZoneName: 'short',
};

/**
 * Formatters made once per options object and locale: making an `Intl.DateTimeFormat` costs about
 * 0.3 ms (ICU loads the locale's patterns), formatting with one a few microseconds. One was made
 * per time shown: the console's audit page (200 rows) spent 60 to 200 ms of the event loop on it
 * per view, most of the page's time (a scale review).
 */
const formatters = new WeakMap<Intl.DateTimeFormatOptions, Map<Locale, Intl.DateTimeFormat>>();

function formatterOf(locale: Locale, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  let byLocale = formatters.get(options);
  if (!byLocale) formatters.set(options, (byLocale = new Map()));
  let formatter = byLocale.get(locale);
  if (!formatter) byLocale.set(locale, (formatter = new Intl.DateTimeFormat(locale, options)));
  return formatter;
}

/** Epoch milliseconds (or a Date) in `locale`: `Dec 2, 2026, 12:35:35 UTC` / `2026年12月2日 UTC 12:35:35`; '' for no time. */
export function formatDateTime(value: unknown, locale: Locale, options: Intl.DateTimeFormatOptions = DATE_TIME): string {
  const date = value instanceof Date ? value : typeof value === 'number' && Number.isFinite(value) ? new Date(value) : undefined;
  if (!date || Number.isNaN(date.getTime())) return '';
  return formatterOf(locale, options).format(date);
}

/** What every page's template gets: `t`, `locale` and `htmlLang` (for `<html lang>`). */
export interface PageLocale {
  t: Translate;
  locale: Locale;
  htmlLang: string;
}

export function pageLocale(locale: Locale = DEFAULT_LOCALE): PageLocale {
  return { t: translator(locale), locale, htmlLang: locale };
}
