/**
 * The sync page is rendered once per language, action and wait, around marks (sync-page.ts,
 * `syncStencil`): what it sends must be byte for byte what the template renders for every
 * sign-in, whatever the continue URL holds.
 */
import { describe, expect, test } from '@jest/globals';
import { LOCALES } from '../i18n/i18n.js';
import { Views } from '../views/views.js';
import { renderSyncTemplate } from './sync-page.js';

const CONTINUE_URLS = [
  'http://hub.test/auth/abc123',
  'https://hub.test/interaction/x?a=1&b=2',
  `https://hub.test/"quoted"/'single'/<tag>/back\\slash/&amp;`,
  'https://hub.test/$&/$1/$$', // replacement patterns, if anything used String.replace with it
  '',
];
const MARKUP = ['', '<img class="beacon" src="https://a.test/s?time=1&amp;code=x" alt="">', '$& $1 {{ continueUrl }} <script>'];

describe('the sync page, rendered around marks', () => {
  const views = new Views({ issuer: 'http://hub.test' });

  test.each(LOCALES.flatMap((locale) => (['login', 'logout', 'test'] as const).map((act) => [locale, act] as const)))('%s, %s: what the template renders, for every continue URL and markup', (locale, act) => {
    for (const waitMs of [1500, 0]) {
      for (const continueUrl of CONTINUE_URLS) {
        for (const markup of MARKUP) {
          const direct = views.render('hub/sync.njk', { switchNext: '/', plan: { act, markup }, continueUrl, waitMs }, locale);
          expect(renderSyncTemplate(views, { act, markup, continueUrl, waitMs }, locale)).toBe(direct);
        }
      }
    }
  });

  test('the continue URL appears escaped (twice) and the markup as it is', () => {
    const html = renderSyncTemplate(views, { act: 'login', markup: '<i>beacons</i>', continueUrl: 'https://hub.test/a?b=1&c="2"', waitMs: 1500 }, 'en');
    expect(html.split('https://hub.test/a?b=1&amp;c=&quot;2&quot;')).toHaveLength(3);
    expect(html).toContain('<i>beacons</i>');
    expect(html).not.toMatch(/sync-(markup|continue)-/);
  });

  test('each Views instance has its own pages (another template folder or globals)', () => {
    const other = new Views({ issuer: 'http://other.test' });
    const page = { act: 'login' as const, markup: 'm', continueUrl: 'u', waitMs: 1 };
    expect(renderSyncTemplate(other, page, 'en')).toBe(other.render('hub/sync.njk', { switchNext: '/', plan: { act: page.act, markup: page.markup }, continueUrl: page.continueUrl, waitMs: page.waitMs }, 'en'));
  });
});
