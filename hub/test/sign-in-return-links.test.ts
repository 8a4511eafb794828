/**
 * A sign-in started at a site, then "Forgot your password?" or "Create an account": the pages
 * after them linked "Back to sign-in" (and "Sign in" once the address was verified) to `/login`,
 * the hub's own account page, so the user signed in and landed on `/account`, not back at the
 * site (an outside review in Chromium). They now go back to the site's sign-in page while it is
 * still open at the hub.
 */
import { TestBrowser, attribute, inputValue } from '../src/testing/browser.js';
import { continueUrlOf } from '../src/testing/flows.js';
import { startSmtpCatcher, type SmtpCatcher } from '../src/testing/smtp-catcher.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { authUrl, codeRequest } from './support.js';

const BBS = 'http://bbs.sso.test:5301';
const REDIRECT = `${BBS}/sso/callback`;
const ALICE = { login: 'alice', password: 'wonderland-123' };

describe('links back to a site\'s sign-in page from the password and sign-up pages (redis, real SMTP)', () => {
  let hub: RunningHub;
  let catcher: SmtpCatcher;

  beforeAll(async () => {
    catcher = await startSmtpCatcher();
    hub = await startTestHub('redis', { SMTP_URL: catcher.url, HUB_SIGNUP: 'open', RECOVERY_REQUESTS_PER_IP: '1000', SIGNUP_MAX_PER_IP: '1000' });
    await hub.services.users.create({ username: 'alice', email: 'alice@example.test', password: ALICE.password });
    await hub.services.clients.register({ clientId: 'bbs', trusted: true, redirectUris: [REDIRECT] });
  });
  afterAll(async () => {
    await hub.close();
    await catcher.close();
  });

  /** Opens bbs's sign-in page at the hub: its URL and body. */
  async function bbsSignInPage(browser: TestBrowser): Promise<{ url: string; body: string }> {
    const landed = await browser.follow(authUrl(hub.url, codeRequest('bbs', REDIRECT).params));
    expect(landed.response.status).toBe(200);
    return { url: landed.url, body: landed.body };
  }

  const href = (html: string, testId: string) => attribute(html, new RegExp(`href="([^"]*)"[^>]*data-testid="${testId}"`));

  test('"Forgot your password?", a link asked for, "Back to sign-in", sign in: back at the site, not /account', async () => {
    const browser = new TestBrowser();
    const page = await bbsSignInPage(browser);
    const forgot = await browser.follow(new URL(href(page.body, 'forgot-link'), hub.url).toString());
    expect(href(forgot.body, 'forgot-back')).toBe(new URL(page.url).pathname);
    // Asking for a link (post, then the "sent" page) keeps it.
    const asked = await browser.post(`${hub.url}/password/forgot`, { _csrf: inputValue(forgot.body, '_csrf'), login: 'nobody-here' });
    expect(asked.status).toBe(303);
    const sent = await browser.follow(new URL(asked.headers.get('location')!, hub.url).toString());
    const back = href(sent.body, 'forgot-back');
    expect(back).toBe(new URL(page.url).pathname);
    // Back on bbs's sign-in page; signing in there goes on to bbs.
    const again = await browser.follow(new URL(back, hub.url).toString());
    const action = new URL(attribute(again.body, /action="(\/interaction\/[^"]+\/login)"/), hub.url).toString();
    const answer = await browser.post(action, { _csrf: inputValue(again.body, '_csrf'), ...ALICE });
    expect(answer.status).toBe(200);
    const landed = await browser.follow(continueUrlOf(await answer.text(), hub.url), [new URL(hub.url).host]);
    expect(new URL(landed.url).origin + new URL(landed.url).pathname).toBe(REDIRECT);
  });

  test('"Create an account": its "Already have an account?" and the "check your inbox" page lead back to the site\'s sign-in page', async () => {
    const browser = new TestBrowser();
    const page = await bbsSignInPage(browser);
    const form = await browser.follow(new URL(href(page.body, 'login-signup'), hub.url).toString());
    expect(href(form.body, 'signup-have-account')).toBe(new URL(page.url).pathname);
    const id = Math.random().toString(36).slice(2, 8);
    const posted = await browser.post(`${hub.url}/signup`, { _csrf: inputValue(form.body, '_csrf'), username: `carol${id}`, email: `carol${id}@example.test`, name: 'Carol', password: 'orbit tulip cactus lantern', confirm: 'orbit tulip cactus lantern' });
    expect(posted.status).toBe(303);
    const sent = await browser.follow(new URL(posted.headers.get('location')!, hub.url).toString());
    expect(href(sent.body, 'sent-sign-in')).toBe(new URL(page.url).pathname);
  });

  test('once that sign-in is over (or for a browser that came from none, or a made-up uid), the links go to /login', async () => {
    const browser = new TestBrowser();
    const page = await bbsSignInPage(browser);
    const uid = new URL(page.url).pathname.split('/').pop()!;
    // Finished: signed in to bbs.
    const action = new URL(attribute(page.body, /action="(\/interaction\/[^"]+\/login)"/), hub.url).toString();
    const answer = await browser.post(action, { _csrf: inputValue(page.body, '_csrf'), ...ALICE });
    await browser.follow(continueUrlOf(await answer.text(), hub.url), [new URL(hub.url).host]);
    const after = await browser.follow(`${hub.url}/password/forgot?from=${uid}`);
    expect(href(after.body, 'forgot-back')).toBe('/login');
    const stranger = await new TestBrowser().follow(`${hub.url}/password/forgot`);
    expect(href(stranger.body, 'forgot-back')).toBe('/login');
    for (const from of ['made-up-uid-0123456789', '..%2F..%2Fadmin', 'javascript:alert(1)']) {
      const made = await new TestBrowser().follow(`${hub.url}/password/forgot?from=${from}`);
      expect(made.response.status).toBe(200);
      expect(href(made.body, 'forgot-back')).toBe('/login');
    }
  });
});
