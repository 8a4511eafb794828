import { fileURLToPath } from 'node:url';
import nunjucks from 'nunjucks';
import { DEFAULT_LOCALE, formatDateTime, isLocale, pageLocale, type Locale } from '../i18n/i18n.js';

/** The repository's `templates/` folder. */
export const TEMPLATES_DIR = fileURLToPath(new URL('../../../templates', import.meta.url));

/** Nunjucks with autoescape on: every value a page shows is HTML-escaped unless marked safe. */
export class Views {
  readonly env: nunjucks.Environment;

  constructor(globals: Record<string, unknown> = {}) {
    this.env = new nunjucks.Environment(new nunjucks.FileSystemLoader(TEMPLATES_DIR, { noCache: false }), {
      autoescape: true,
      throwOnUndefined: false,
    });
    for (const [name, value] of Object.entries(globals)) this.env.addGlobal(name, value);
    // Epoch milliseconds as an ISO 8601 time (machine-readable: `<time datetime>`).
    this.env.addFilter('isotime', (ms: unknown) => (typeof ms === 'number' && Number.isFinite(ms) ? new Date(ms).toISOString() : ''));
    // Epoch milliseconds as a date and time in the page's locale (nunjucks calls filters with the
    // template's context as `this`; a macro imported without context falls back to English).
    this.env.addFilter('datetime', function (this: { ctx?: { locale?: unknown } } | undefined, ms: unknown) {
      const locale = this?.ctx?.locale;
      return formatDateTime(ms, isLocale(locale) ? locale : DEFAULT_LOCALE);
    });
  }

  /**
   * Renders `name` in `locale`: the template gets `t(key, vars)`, `locale` and `htmlLang`
   * besides `context` (see hub/src/i18n/i18n.ts).
   */
  render(name: string, context: Record<string, unknown> = {}, locale: Locale = DEFAULT_LOCALE): string {
    return this.env.render(name, { ...pageLocale(locale), ...context });
  }
}
