/**
 * Issue 13, "Chinese and English": pages in the reader's language (Accept-Language, or the
 * switcher's `lang` cookie), `<html lang>` set, English when nothing asks otherwise, and a
 * switcher that cannot be used as an open redirect.
 */
import { attribute, inputValue, TestBrowser } from '../src/testing/browser.js';
import { continueUrlOf } from '../src/testing/flows.js';
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

describe('every page of the hub in Chinese (phase 2)', () => {
  let hub: RunningHub;
  const ROOT = { login: 'root', password: 'admin-password-1' };

  beforeAll(async () => {
    hub = await startTestHub('memory');
    await hub.services.users.create({ username: ROOT.login, email: 'root@example.test', name: '管理员', password: ROOT.password, roles: ['admin'] });
  });
  afterAll(() => hub.close());

  /** A browser that reads Chinese (the switcher's cookie), at a fresh sign-in page. */
  async function chineseSignInPage(): Promise<{ browser: TestBrowser; html: string; action: string }> {
    const browser = new TestBrowser();
    browser.cookies(hub.url).set('lang', 'zh-CN');
    const login = await browser.follow(`${hub.url}/login?next=/admin`);
    return { browser, html: login.body, action: new URL(attribute(login.body, /action="(\/interaction\/[^"]+\/login)"/), hub.url).toString() };
  }

  test('a wrong password is answered in Chinese', async () => {
    const { browser, html, action } = await chineseSignInPage();
    const answer = await browser.post(action, { _csrf: inputValue(html, '_csrf'), login: 'root', password: 'wrong-password-1' });
    const page = await answer.text();
    expect(answer.status).toBe(401);
    expect(page).toContain('data-testid="login-error">用户名或密码不正确。<');
    expect(LANG.exec(page)?.[1]).toBe('zh-CN');
  });

  test('the admin console, its notices and the errors it raises are in Chinese', async () => {
    const { browser, html, action } = await chineseSignInPage();
    const answer = await browser.post(action, { _csrf: inputValue(html, '_csrf'), ...ROOT });
    expect(answer.status).toBe(200);
    const sync = await answer.text();
    expect(sync).toContain('正在为您登录所有网站');
    await browser.follow(continueUrlOf(sync, hub.url));
    const home = await browser.follow(`${hub.url}/admin`);
    expect(LANG.exec(home.body)?.[1]).toBe('zh-CN');
    expect(home.body).toContain('<h1>管理控制台</h1>');
    expect(home.body).toContain('投递队列');
    const users = await browser.follow(`${hub.url}/admin/users?done=user-created`);
    expect(users.body).toContain('data-testid="admin-notice">用户已创建。<');
    expect(users.body).toContain('共 1 个用户。');
    // A notice code that is not one of ours shows nothing (no text reflected from the URL).
    const unknown = await browser.follow(`${hub.url}/admin/users?done=%3Cb%3Ehi`);
    expect(unknown.body).not.toContain('admin-notice');
    // A HubError (NotFoundError with a key) on the friendly error page.
    const missing = await browser.follow(`${hub.url}/admin/users/nobody-here`);
    expect(missing.response.status).toBe(404);
    expect(missing.body).toContain('data-testid="error-title">操作未成功<');
    expect(missing.body).toContain('没有用户 nobody-here。');
    // The audit log shows times in Chinese (Intl), with the ISO time kept for machines.
    const audit = await browser.follow(`${hub.url}/admin/audit`);
    expect(audit.body).toMatch(/<time datetime="\d{4}-\d\d-\d\dT[^"]+Z">\d{4}年\d{1,2}月\d{1,2}日 UTC \d\d:\d\d:\d\d<\/time>/);
  });

  test('the same errors stay in English for an English reader', async () => {
    const browser = new TestBrowser();
    const login = await browser.follow(`${hub.url}/login?next=/admin`);
    const action = new URL(attribute(login.body, /action="(\/interaction\/[^"]+\/login)"/), hub.url).toString();
    const answer = await browser.post(action, { _csrf: inputValue(login.body, '_csrf'), ...ROOT });
    await browser.follow(continueUrlOf(await answer.text(), hub.url));
    const missing = await browser.follow(`${hub.url}/admin/users/nobody-here`);
    expect(missing.body).toContain('No user nobody-here.');
    expect(LANG.exec(missing.body)?.[1]).toBe('en');
  });

  test('pages oidc-provider renders (errors, sign-out) follow the reader too', async () => {
    const browser = new TestBrowser();
    browser.cookies(hub.url).set('lang', 'zh-CN');
    const bad = await browser.get(`${hub.url}/auth?client_id=nope&response_type=code&scope=openid&redirect_uri=http://x.test/`);
    const html = await bad.text();
    expect(bad.status).toBe(400);
    expect(LANG.exec(html)?.[1]).toBe('zh-CN');
    expect(html).toContain('<h1 data-testid="error-title">出错了</h1>');
    expect(html).toContain('您来自的网站未在此登录服务注册。');
    expect(html).toContain('<code>invalid_client</code>');
    // Signed in (in Chinese), the sign-out question, the sync page and the signed-out page.
    const signIn = await chineseSignInPage();
    const answer = await signIn.browser.post(signIn.action, { _csrf: inputValue(signIn.html, '_csrf'), ...ROOT });
    await signIn.browser.follow(continueUrlOf(await answer.text(), hub.url));
    const logout = await signIn.browser.follow(`${hub.url}/logout`);
    const page = logout.body;
    expect(LANG.exec(page)?.[1]).toBe('zh-CN');
    expect(page).toContain('是的，退出登录');
    const form = /<form[^>]*id="op.logoutForm"[^>]*action="([^"]+)"/.exec(page)?.[1] ?? /action="([^"]+)"[^>]*id="op.logoutForm"/.exec(page)?.[1];
    const confirmed = await signIn.browser.post(new URL(form!, hub.url).toString(), { xsrf: inputValue(page, 'xsrf'), logout: 'yes' });
    const sync = await confirmed.text();
    expect(LANG.exec(sync)?.[1]).toBe('zh-CN');
    expect(sync).toContain('正在为您退出所有网站');
    const out = await signIn.browser.follow(continueUrlOf(sync, hub.url));
    expect(out.body).toContain('data-testid="signed-out">您已退出登录<');
  });

  test('a relying party’s ui_locales picks the sign-in pages’ language, under the reader’s own choice', async () => {
    await hub.services.clients.register({ clientId: 'ui-locales-rp', name: 'RP', redirectUris: ['http://rp.test/cb'], grantTypes: ['authorization_code'] });
    const metadata = (await (await fetch(`${hub.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(metadata.ui_locales_supported).toEqual(['en', 'zh-CN']);
    const params = (uiLocales: string) => new URLSearchParams({
      client_id: 'ui-locales-rp', response_type: 'code', redirect_uri: 'http://rp.test/cb', scope: 'openid', state: 's',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSvtM-cM', code_challenge_method: 'S256', ui_locales: uiLocales,
    });
    /** The sign-in page an authorization request leads to, the browser asking for English. */
    async function signInPage(browser: TestBrowser, uiLocales: string): Promise<{ html: string; url: string }> {
      let url = `${hub.url}/auth?${params(uiLocales)}`;
      for (let hop = 0; hop < 5; hop += 1) {
        const response = await browser.get(url, { 'accept-language': 'en-US,en;q=0.9' });
        const location = response.headers.get('location');
        if (!location) return { html: await response.text(), url };
        url = new URL(location, url).toString();
      }
      throw new Error('too many redirects');
    }
    // The first of its list that the hub has; a tag it lacks is passed over.
    const chinese = await signInPage(new TestBrowser(), 'fr-CA zh-Hans en');
    expect(LANG.exec(chinese.html)?.[1]).toBe('zh-CN');
    expect(chinese.html).toContain('<h1>登录</h1>');
    // A wrong password on that sign-in is answered in that language too.
    const browser = new TestBrowser();
    const page = await signInPage(browser, 'zh-CN');
    const action = new URL(attribute(page.html, /action="(\/interaction\/[^"]+\/login)"/), hub.url).toString();
    const wrong = await browser.post(action, { login: 'nobody', password: 'wrong-password-1', _csrf: inputValue(page.html, '_csrf') }, { 'accept-language': 'en' });
    const wrongHtml = await wrong.text();
    expect(LANG.exec(wrongHtml)?.[1]).toBe('zh-CN');
    // Its language switcher goes back to this sign-in (not the start page, which would drop the
    // relying party's request), and the page it leads to is that sign-in's form, in English.
    const uid = /\/interaction\/([^/]+)\/login/.exec(action)![1]!;
    const switchHref = attribute(wrongHtml, /href="(\/lang\?to=en[^"]*)"/).replaceAll('&amp;', '&');
    expect(new URL(switchHref, hub.url).searchParams.get('next')).toBe(`/interaction/${uid}`);
    const switched = await browser.follow(new URL(switchHref, hub.url).toString());
    expect(LANG.exec(switched.body)?.[1]).toBe('en');
    expect(switched.body).toContain(`action="/interaction/${uid}/login"`);
    // None of the hub's languages in the list: Accept-Language decides, as without it.
    expect(LANG.exec((await signInPage(new TestBrowser(), 'fr de')).html)?.[1]).toBe('en');
    // The reader chose English with the switcher: that stays.
    const chose = new TestBrowser();
    await chose.get(`${hub.url}/lang?to=en&next=/`);
    expect(LANG.exec((await signInPage(chose, 'zh-CN')).html)?.[1]).toBe('en');
  });
});
