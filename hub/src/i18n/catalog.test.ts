/**
 * Issue 13, "Chinese and English": every string exists in both languages, every template
 * reads its text through `t()`, and every key a template uses exists. These tests read the
 * real locale files and templates, so a new namespace or template is checked with no change here.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { findUntranslated } from '../testing/untranslated.js';
import { TEMPLATES_DIR } from '../views/views.js';
import { LOCALES, loadResources, namespacesOf, pickLocale, translator, formatDateTime } from './i18n.js';

/** Template folders whose pages and e-mails people read. */
const TEMPLATE_ROOTS = ['hub', 'mail'].map((name) => join(TEMPLATES_DIR, name)).filter((dir) => existsSync(dir));
/** Texts that are the same in every language: the brand, and example values shown as placeholders. */
const ALLOWED_LITERALS = ['sso-hub', '2026-01-31T00:00:00Z', 'https://bbs.example.com', 'DISCUZX', 'api/uc.php', 'UTF-8', 'GBK', 'BIG5'];
/** i18next plural suffixes: `key_one` / `key_other` are one key (Chinese has only `_other`). */
const PLURAL = /_(zero|one|two|few|many|other)$/;

function templatesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.(njk|html|txt)$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}
const TEMPLATES = TEMPLATE_ROOTS.flatMap(templatesUnder);

/** `{ 'portal:login.title': 'Sign in', … }` for one locale, plural forms folded into one key. */
function flatten(value: unknown, prefix: string, into: Map<string, string>): Map<string, string> {
  if (typeof value === 'string') into.set(prefix.replace(PLURAL, ''), value);
  else if (value && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) flatten(child, prefix.endsWith(':') ? `${prefix}${key}` : `${prefix}.${key}`, into);
  }
  return into;
}

const resources = loadResources();
const catalogs = Object.fromEntries(
  LOCALES.map((locale) => {
    const flat = new Map<string, string>();
    for (const [ns, tree] of Object.entries(resources[locale] ?? {})) flatten(tree, `${ns}:`, flat);
    return [locale, flat];
  }),
) as Record<(typeof LOCALES)[number], Map<string, string>>;

/** The `{{name}}` placeholders of a translation. */
function placeholders(text: string): string[] {
  return [...text.matchAll(/\{\{\s*([\w.]+)\s*\}\}/g)].map((m) => m[1]!).sort();
}

describe('locale files', () => {
  test('every locale has the same namespaces', () => {
    expect(namespacesOf('zh-CN')).toEqual(namespacesOf('en'));
    expect(namespacesOf('en')).toEqual(expect.arrayContaining(['common', 'portal', 'admin', 'sync', 'errors']));
  });

  test.each(LOCALES)('every key in any language is also in %s, with the same placeholders', (locale) => {
    const missing: string[] = [];
    const wrongPlaceholders: string[] = [];
    for (const other of LOCALES) {
      for (const [key, text] of catalogs[other]) {
        const own = catalogs[locale].get(key);
        if (own === undefined) missing.push(`${key} (in ${other})`);
        else if (placeholders(own).join() !== placeholders(text).join()) wrongPlaceholders.push(`${key}: ${placeholders(own).join() || 'none'} vs ${other}: ${placeholders(text).join() || 'none'}`);
      }
    }
    expect(missing).toEqual([]);
    expect(wrongPlaceholders).toEqual([]);
  });

  test('no translation is empty', () => {
    const empty = LOCALES.flatMap((locale) => [...catalogs[locale]].filter(([, text]) => text.trim() === '').map(([key]) => `${locale} ${key}`));
    expect(empty).toEqual([]);
  });
});

describe('templates', () => {
  test('there are templates to check', () => {
    expect(TEMPLATES.length).toBeGreaterThan(10);
  });

  test.each(TEMPLATES.map((file) => [relative(TEMPLATES_DIR, file), file]))('%s has no untranslated text', (_name, file) => {
    const found = findUntranslated(readFileSync(file, 'utf8'), ALLOWED_LITERALS).map((u) => `line ${u.line} (${u.where}): ${u.text}`);
    expect(found).toEqual([]);
  });

  test.each(TEMPLATES.map((file) => [relative(TEMPLATES_DIR, file), file]))('every t() key in %s exists in every language', (_name, file) => {
    const source = readFileSync(file, 'utf8');
    const missing: string[] = [];
    for (const match of source.matchAll(/\bt\(\s*(['"])((?:(?!\1).)+)\1\s*(\+|~)?/g)) {
      const raw = match[2]!;
      const key = raw.includes(':') ? raw : `common:${raw}`;
      for (const locale of LOCALES) {
        const keys = [...catalogs[locale].keys()];
        // `t('admin:status.' ~ entry.status)`: some key must start with the literal part.
        const known = match[3] ? keys.some((k) => k.startsWith(key)) : catalogs[locale].has(key);
        if (!known) missing.push(`${locale} ${key}${match[3] ? '…' : ''}`);
      }
    }
    expect(missing).toEqual([]);
  });
});

describe('the untranslated-text check itself', () => {
  test('finds literal text, visible attributes and prose literals in expressions', () => {
    const template = [
      '{% extends "hub/layout.njk" %}',
      '{% block title %}Your account{% endblock %}',
      '<p title="Help">{{ t("portal:x") }}</p>',
      '<input type="submit" value="Send"><input type="hidden" name="a" value="yes">',
      '<img src="x.png" alt="">',
      '<h1>{{ title or "Something went wrong" }}</h1>',
      '<p>{{ action(url, "Disable", csrfToken) }}</p>',
      '<p>{{ t("portal:y", { client: name }) }} &hellip; 42 · {{ n }}</p>',
      '{# a comment with words #}<script>var words = "not prose for readers";</script>',
      '<p>未翻译</p>',
    ].join('\n');
    expect(findUntranslated(template).map((u) => [u.line, u.text])).toEqual([
      [2, 'Your account'],
      [3, 'Help'],
      [4, 'Send'],
      [6, 'Something went wrong'],
      [7, 'Disable'],
      [10, '未翻译'],
    ]);
  });
});

describe('choosing the locale', () => {
  test.each([
    [undefined, undefined, 'en'],
    ['', undefined, 'en'],
    ['zh-CN,zh;q=0.9,en;q=0.8', undefined, 'zh-CN'],
    ['zh', undefined, 'zh-CN'],
    ['zh-Hans', undefined, 'zh-CN'],
    ['zh-Hans-CN', undefined, 'zh-CN'],
    ['en-US,en;q=0.9', undefined, 'en'],
    ['fr-FR,fr;q=0.9,zh;q=0.8,en;q=0.5', undefined, 'zh-CN'],
    ['en;q=0.5,zh-CN;q=0.9', undefined, 'zh-CN'],
    ['de, fr', undefined, 'en'],
    ['zh;q=0', undefined, 'en'],
    ['zh-CN', 'en', 'en'],
    ['en', 'zh-CN', 'zh-CN'],
    ['en', 'klingon', 'en'],
  ])('Accept-Language %j with cookie %j → %s', (header, cookie, expected) => {
    expect(pickLocale(header, cookie)).toBe(expected);
  });

  test('a very long Accept-Language is read only as far as its first 20 ranges', () => {
    expect(pickLocale(`${'x,'.repeat(5000)}zh`)).toBe('en');
  });
});

describe('translator', () => {
  test('translates with interpolation, outside any request', () => {
    expect(translator('en')('portal:consent.heading', { client: 'Forum' })).toBe('Allow Forum?');
    expect(translator('zh-CN')('portal:consent.heading', { client: '论坛' })).toBe('允许 论坛 访问吗？');
    // No HTML escaping here: pages escape (nunjucks autoescape), so `&` is shown as `&`.
    expect(translator('en')('portal:consent.heading', { client: 'A & B' })).toBe('Allow A & B?');
  });

  test('one translator per locale; texts without values are remembered, each locale its own, values never', () => {
    expect(translator('en')).toBe(translator('en'));
    expect(translator('en')).not.toBe(translator('zh-CN'));
    const en = translator('en');
    const zh = translator('zh-CN');
    for (const round of [1, 2]) {
      expect({ round, en: en('common:lang.label') }).toEqual({ round, en: 'Language' });
      expect({ round, zh: zh('common:lang.label') }).toEqual({ round, zh: '语言' });
      expect(en('portal:consent.heading', { client: `Site ${round}` })).toBe(`Allow Site ${round}?`);
    }
    // Unknown keys (i18next answers the key) past the memo's bound are still answered right.
    for (let i = 0; i < 2_500; i += 1) expect(en(`common:no.such.key${i}`)).toBe(`no.such.key${i}`);
  });

  test('dates in the reader’s locale', () => {
    const when = Date.UTC(2026, 11, 2, 13, 5, 9);
    expect(formatDateTime(when, 'en')).toBe('Dec 2, 2026, 13:05:09 UTC');
    expect(formatDateTime(when, 'zh-CN')).toBe('2026年12月2日 UTC 13:05:09');
    expect(formatDateTime(undefined, 'en')).toBe('');
  });

  test('a page of times makes its formatter once, not once per time (a scale review: 0.3 ms each, 60 ms or more for the audit page’s 200 rows)', () => {
    const made = { count: 0 };
    const Real = Intl.DateTimeFormat;
    const Counting = function (this: unknown, ...args: ConstructorParameters<typeof Intl.DateTimeFormat>) {
      made.count += 1;
      return new Real(...args);
    } as unknown as typeof Intl.DateTimeFormat;
    Counting.supportedLocalesOf = Real.supportedLocalesOf;
    Intl.DateTimeFormat = Counting;
    try {
      const when = Date.UTC(2026, 11, 2, 13, 5, 9);
      const shown = new Set<string>();
      for (let row = 0; row < 200; row += 1) for (const locale of ['en', 'zh-CN'] as const) shown.add(formatDateTime(when + row * 1000, locale));
      expect(shown.size).toBe(400);
      expect(formatDateTime(when + 199_000, 'en')).toBe('Dec 2, 2026, 13:08:28 UTC');
      expect(made.count).toBeLessThanOrEqual(2);
    } finally {
      Intl.DateTimeFormat = Real;
    }
  });
});

describe('errors a page shows are translated', () => {
  /**
   * Modules whose errors only the CLI or a seed file shows (an operator's terminal, in English):
   * every other module's errors can reach a page (the portal, the console), so they are
   * `msg('errors:…')` keys. A review found the console's UCenter form, the e-mail change's last
   * step, invites and a taken client id answering a Chinese reader in English.
   */
  const OPERATOR_ONLY = ['cli.ts', 'ucenter/import.ts', 'users/bootstrap-admin.ts', 'users/user.ts', 'users/user-repository.ts'];
  const SRC = join(TEMPLATES_DIR, '..', 'hub', 'src');

  test('no page-facing error is thrown with an English literal', () => {
    const literal = /new (?:Validation|Conflict|Forbidden|NotFound)Error\(\s*['`"]/;
    const found = readdirSync(SRC, { withFileTypes: true, recursive: true })
      .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts'))
      .map((entry) => relative(SRC, join(entry.parentPath, entry.name)))
      .filter((file) => !file.startsWith('testing/') && !OPERATOR_ONLY.includes(file))
      .flatMap((file) => readFileSync(join(SRC, file), 'utf8').split('\n').map((line, index) => ({ file, line: index + 1, text: line }))
        .filter(({ text }) => literal.test(text))
        .map(({ file, line }) => `${file}:${line}`));
    expect(found).toEqual([]);
  });
});
