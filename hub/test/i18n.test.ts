/**
 * Issue 13, "Chinese and English": pages in the reader's language (Accept-Language, or the
 * switcher's `lang` cookie), `<html lang>` set, English when nothing asks otherwise, and a
 * switcher that cannot be used as an open redirect.
 */
import { TestBrowser } from '../src/testing/browser.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';

const LANG = /<html lang="([^"]+)">/;

describe('pages in the reader’s language', () => {
  let hub: RunningHub;

  beforeAll(async () => {
    hub = await startTestHub('memory');
  });
  afterAll(() => hub.close());

  test('English with no Accept-Language', async () => {
    const page = await new TestBrowser().follow(`${hub.url}/login`);
    expect(page.body).toMatch(LANG);
    expect(LANG.exec(page.body)?.[1]).toBe('en');
    expect(page.body).toContain('<h1>Sign in</h1>');
    expect(page.body).toContain('data-testid="lang-zh-CN"');
  });

  test.each(['zh-CN', 'zh', 'zh-Hans-CN,zh;q=0.9', 'fr;q=0.9, zh-CN;q=0.8, en;q=0.5'])('Chinese for Accept-Language %s', async (header) => {
    const response = await new TestBrowser().get(`${hub.url}/nope`, { 'accept-language': header });
    const html = await response.text();
    expect(response.status).toBe(404);
    expect(LANG.exec(html)?.[1]).toBe('zh-CN');
    expect(html).toContain('前往 sso-hub');
    expect(response.headers.get('vary')).toMatch(/accept-language/i);
  });

  test('the switcher’s cookie wins over Accept-Language and is remembered', async () => {
    const browser = new TestBrowser();
    const switched = await browser.get(`${hub.url}/lang?to=zh-CN&next=${encodeURIComponent('/login?next=/account')}`, { 'accept-language': 'en' });
    expect(switched.status).toBe(303);
    expect(switched.headers.get('location')).toBe('/login?next=/account');
    const cookie = switched.headers.getSetCookie().find((c) => c.startsWith('lang='));
    expect(cookie).toMatch(/^lang=zh-CN;/);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Max-Age=\d{6,}/i);
    // Remembered: later pages (a sign-in page, the 404 page) in Chinese though the browser asks for English.
    const login = await browser.follow(`${hub.url}/login`);
    expect(LANG.exec(login.body)?.[1]).toBe('zh-CN');
    expect(login.body).toContain('<h1>登录</h1>');
    expect(login.body).toContain('data-testid="lang-en"');
    const back = await browser.get(`${hub.url}/lang?to=en&next=/nope`);
    expect(back.headers.get('location')).toBe('/nope');
    const english = await browser.get(`${hub.url}/nope`, { 'accept-language': 'zh-CN' });
    expect(LANG.exec(await english.text())?.[1]).toBe('en');
  });

  test.each(['//evil.example/x', 'https://evil.example/', '/\\evil.example', '/%2e%2e//evil.example', ''])('the switcher never leaves the hub (next=%j)', async (next) => {
    const response = await new TestBrowser().get(`${hub.url}/lang?to=zh-CN&next=${encodeURIComponent(next)}`);
    expect(response.status).toBe(303);
    const location = response.headers.get('location') ?? '';
    expect(new URL(location, hub.url).origin).toBe(hub.url);
  });

  test('an unknown language is ignored: no cookie, back to the page', async () => {
    const response = await new TestBrowser().get(`${hub.url}/lang?to=<script>&next=/login`);
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/login');
    expect(response.headers.getSetCookie().some((c) => c.startsWith('lang='))).toBe(false);
  });

  test('a forged lang cookie falls back to Accept-Language', async () => {
    const browser = new TestBrowser();
    browser.cookies(hub.url).set('lang', '%3Cscript%3E');
    const response = await browser.get(`${hub.url}/nope`, { 'accept-language': 'zh-CN' });
    expect(LANG.exec(await response.text())?.[1]).toBe('zh-CN');
  });
});
