/**
 * Cancel on the hub's sign-in page (issue 9, item 14): the interaction ends with
 * `access_denied` at the client's redirect URI (RFC 6749 §4.1.2.1), so a subsite gets the
 * standard error and carries on anonymous; a sign-in the portal started goes back to the
 * hub's sign-in. Audited as `login.cancelled`, not as a refused consent.
 */
import { TestBrowser, attribute, inputValue } from '../src/testing/browser.js';
import { startTestHub, STORE_KINDS, type RunningHub } from '../src/testing/test-hub.js';
import { authUrl, codeRequest, walk } from './support.js';

const SUBSITE = 'http://bbs.sso.test:5201';
const REDIRECT = `${SUBSITE}/sso/callback`;

/** Opens the sign-in page of an authorization request and presses Cancel; returns the answer to Cancel. */
async function cancelAt(hub: RunningHub, browser: TestBrowser, start: string) {
  const landed = await browser.follow(start);
  expect(landed.response.status).toBe(200);
  const cancel = new URL(attribute(landed.body, /action="(\/interaction\/[^"]+\/abort)"/), hub.url).toString();
  return browser.post(cancel, { _csrf: inputValue(landed.body, '_csrf') });
}

describe.each(STORE_KINDS)('RFC 6749 §4.1.2.1: Cancel on the sign-in page (%s)', (kind) => {
  let hub: RunningHub;

  beforeAll(async () => {
    hub = await startTestHub(kind);
    await hub.services.users.create({ username: 'alice', email: 'alice@example.test', password: 'wonderland-123' });
    await hub.services.clients.register({ clientId: 'bbs', trusted: true, redirectUris: [REDIRECT] });
    await hub.services.clients.register({ clientId: 'wiki', redirectUris: ['http://wiki.sso.test:5202/sso/callback'] });
  });
  afterAll(() => hub.close());

  test('started from a subsite: back at its redirect URI with error=access_denied and its state, nobody signed in', async () => {
    const browser = new TestBrowser();
    const request = codeRequest('bbs', REDIRECT, { state: 'bbs-state-1' });
    const answer = await cancelAt(hub, browser, authUrl(hub.url, request.params));
    expect(answer.status).toBe(303);
    const landed = await browser.follow(new URL(answer.headers.get('location')!, hub.url).toString(), [new URL(hub.url).host]);
    const callback = new URL(landed.url);
    expect(callback.origin + callback.pathname).toBe(REDIRECT);
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('state')).toBe('bbs-state-1');
    expect(callback.searchParams.get('code')).toBeNull();
    // Not signed in: the next request from the subsite asks for a sign-in again (no loop, no session).
    const again = codeRequest('bbs', REDIRECT, { prompt: 'none' });
    const silent = await walk(browser, hub.url, authUrl(hub.url, again.params));
    expect(silent.callback.searchParams.get('error')).toBe('login_required');
  });

  test('Back from the site after Cancel: the page says the sign-in was cancelled and links back to that site, not to the hub (a browser review)', async () => {
    const browser = new TestBrowser();
    const request = codeRequest('bbs', REDIRECT, { state: 'bbs-state-back' });
    const landed = await browser.follow(authUrl(hub.url, request.params));
    const page = landed.url;
    const cancel = new URL(attribute(landed.body, /action="(\/interaction\/[^"]+\/abort)"/), hub.url).toString();
    const cancelled = await browser.post(cancel, { _csrf: inputValue(landed.body, '_csrf') });
    expect(cancelled.status).toBe(303);
    const atSite = await browser.follow(new URL(cancelled.headers.get('location')!, hub.url).toString(), [new URL(hub.url).host]);
    expect(new URL(atSite.url).searchParams.get('error')).toBe('access_denied');
    // Before: 400 "This sign-in page has expired", whose only link went to the hub.
    const back = await browser.get(page);
    expect(back.status).toBe(400);
    const body = await back.text();
    expect(body).toContain('This sign-in was cancelled');
    expect(attribute(body, /href="([^"]+)" data-testid="error-back"/)).toBe(`${SUBSITE}/`);
    expect(body).toContain('Back to bbs.sso.test:5201');
    // Its language follows the reader's.
    const zh = await browser.get(page, { 'accept-language': 'zh-CN' });
    expect(await zh.text()).toContain('此次登录已取消');
    // The password form's stale POST from that page says the same (CSRF or interaction gone).
    const stale = await browser.post(page.replace(/\/?$/, '') + '/login', { _csrf: inputValue(landed.body, '_csrf'), login: 'alice', password: 'wonderland-123' });
    expect(stale.status).toBeGreaterThanOrEqual(400);
    // Another browser, which never cancelled it, still gets the plain "expired" page.
    const other = await new TestBrowser().get(page);
    expect(other.status).toBe(400);
    expect(await other.text()).toContain('This sign-in page has expired');
  });

  test('audited as login.cancelled (not consent.denied)', async () => {
    const browser = new TestBrowser();
    const answer = await cancelAt(hub, browser, authUrl(hub.url, codeRequest('wiki', 'http://wiki.sso.test:5202/sso/callback').params));
    expect(answer.status).toBe(303);
    const entries = await hub.services.audit.search({ client: 'wiki' }, 10);
    expect(entries.map((entry) => entry.event)).toContain('login.cancelled');
    expect(entries.map((entry) => entry.event)).not.toContain('consent.denied');
  });

  test("started by the portal itself: back to the hub's sign-in, no error page", async () => {
    const browser = new TestBrowser();
    const answer = await cancelAt(hub, browser, `${hub.url}/login?next=/account`);
    expect(answer.status).toBe(303);
    const landed = await browser.follow(new URL(answer.headers.get('location')!, hub.url).toString());
    expect(landed.response.status).toBe(200);
    expect(landed.body).toMatch(/action="\/interaction\/[^"]+\/login"/);
    expect(landed.body).not.toContain('cancelled');
    // The portal sign-in still works after a cancel.
    const action = new URL(attribute(landed.body, /action="(\/interaction\/[^"]+\/login)"/), hub.url).toString();
    const signIn = await browser.post(action, { _csrf: inputValue(landed.body, '_csrf'), login: 'alice', password: 'wonderland-123' });
    expect(signIn.status).toBe(200);
  });
});
