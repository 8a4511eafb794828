/**
 * An account switch (a site asks with prompt=login and someone else signs in in a browser that
 * holds another account's hub session) sends the new account's login codes first, on its
 * sign-in's page, then the old session's logout codes. A subsite that ended the old session and
 * cleared `Request-Login` on that logout lost the marker the login code had just set, and showed
 * the new account signed out (a review of a PHP subsite built from the docs; the kit did the
 * same). The switch's logout codes now say so (`"switch": true`); a plain sign-out's do not.
 */
import { attribute, inputValue, TestBrowser } from '../src/testing/browser.js';
import { continueUrlOf } from '../src/testing/flows.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { authUrl, codeRequest } from './support.js';

const BBS = 'http://bbs.sso.test:5001';

/** The claims of each sync code on a page, for the subsite `bbs`. */
function bbsCodes(html: string): Record<string, unknown>[] {
  return [...html.matchAll(/<img class="beacon" src="([^"]+)"[^>]*data-client="bbs">/g)]
    .map((m) => new URL(m[1]!.replace(/&amp;/g, '&')).searchParams.get('code')!)
    .map((code) => JSON.parse(Buffer.from(code.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>);
}

describe('the logout codes of an account switch', () => {
  let hub: RunningHub;
  const hubHost = () => new URL(hub.url).host;

  beforeAll(async () => {
    hub = await startTestHub('memory');
    await hub.services.clients.upsert({
      clientId: 'bbs', name: 'BBS', redirectUris: [`${BBS}/sso/callback`],
      syncLoginUrl: `${BBS}/sso/synclogin`, syncLogoutUrl: `${BBS}/sso/synclogout`, trusted: true,
    });
    await hub.services.users.create({ username: 'jan', email: 'jan@example.com', password: 'jan-password-123' });
    await hub.services.users.create({ username: 'kim', email: 'kim@example.com', password: 'kim-password-123' });
  });
  afterAll(() => hub.close());

  async function signIn(browser: TestBrowser, login: string, password: string, from = `${hub.url}/login`): Promise<string> {
    const landed = await browser.follow(from, [hubHost()]);
    const answer = await browser.post(new URL(attribute(landed.body, /action="(\/interaction\/[^"]+\/login)"/), hub.url).toString(), { _csrf: inputValue(landed.body, '_csrf'), login, password });
    return answer.text();
  }

  /** jan signed in at the hub and at bbs (the session's authorization for bbs holds its sid). */
  async function janAtBbs(): Promise<TestBrowser> {
    const browser = new TestBrowser();
    const page = await signIn(browser, 'jan', 'jan-password-123');
    await browser.follow(continueUrlOf(page, hub.url), [hubHost()]);
    const toBbs = await browser.follow(authUrl(hub.url, codeRequest('bbs', `${BBS}/sso/callback`).params), [hubHost()]);
    expect(toBbs.response.headers.get('location') ?? toBbs.url).toContain(`${BBS}/sso/callback?code=`);
    return browser;
  }

  /** Posts the sign-out question's form as the browser would (logout=yes). */
  async function confirmSignOut(browser: TestBrowser, questionUrl: string): Promise<string> {
    const question = await (await browser.get(questionUrl)).text();
    const fields = Object.fromEntries([...question.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    return (await browser.post(`${hub.url}/session/end/confirm`, { ...fields, logout: 'yes' })).text();
  }

  it('carry "switch": true after the new account\'s login code, with the old session\'s sid', async () => {
    const browser = await janAtBbs();
    const kimPage = await signIn(browser, 'kim', 'kim-password-123', authUrl(hub.url, codeRequest('bbs', `${BBS}/sso/callback`, { prompt: 'login' }).params));
    const [login] = bbsCodes(kimPage);
    expect(login).toMatchObject({ act: 'login', aud: 'bbs' });
    expect(login).not.toHaveProperty('switch');
    const signOutPage = await confirmSignOut(browser, continueUrlOf(kimPage, hub.url));
    const [logout] = bbsCodes(signOutPage);
    expect(logout).toMatchObject({ act: 'logout', aud: 'bbs', switch: true });
    expect(logout!.sid).not.toBe(login!.sid);
  });

  it('a plain sign-out\'s logout codes carry no "switch"', async () => {
    const browser = await janAtBbs();
    const signOutPage = await confirmSignOut(browser, `${hub.url}/session/end`);
    const [logout] = bbsCodes(signOutPage);
    expect(logout).toMatchObject({ act: 'logout', aud: 'bbs' });
    expect(logout).not.toHaveProperty('switch');
  });
});
