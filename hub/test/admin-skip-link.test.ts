/**
 * Keyboard use of the console: the first Tab stop of every console page is a link past the header
 * and the section links to the page's own content (WCAG 2.4.1, bypass blocks). Before, ten stops
 * (the brand, the language switch, six sections, account, sign out) came first on every page
 * (an exploratory review, keyboard only).
 */
import type { TestBrowser } from '../src/testing/browser.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { pageWithCsrf, signedInAdmin } from './support.js';

describe('console skip link', () => {
  let hub: RunningHub;
  let admin: TestBrowser;

  beforeAll(async () => {
    hub = await startTestHub('memory');
    admin = await signedInAdmin(hub);
  }, 60_000);
  afterAll(() => hub.close());

  test.each(['/admin', '/admin/users', '/admin/clients', '/admin/deliveries', '/admin/ucenter', '/admin/audit'])('%s: the first link skips to the content', async (path) => {
    const { html } = await pageWithCsrf(admin, `${hub.url}${path}`);
    const body = html.slice(html.indexOf('<body'));
    const first = /<a [^>]*href="([^"]+)"[^>]*>([^<]*)</.exec(body)!;
    expect(first[1]).toBe('#admin-content');
    expect(first[2]).toBe('Skip to the page content');
    // The target holds the page's heading, after the section links.
    expect(body.indexOf('id="admin-content"')).toBeGreaterThan(body.indexOf('class="admin-nav"'));
    expect(body.indexOf('<h1')).toBeGreaterThan(body.indexOf('id="admin-content"'));
  });
});
