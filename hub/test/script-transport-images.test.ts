/**
 * A subsite on the legacy `script` transport, on the sync pages that may run no script: an
 * admin's sign-in, and both pages of an account switch (a site asks with prompt=login and someone
 * else signs in in a browser that still holds another account's hub session). Those pages left
 * such a subsite out altogether, so it heard of neither the sign-in nor the sign-out: after bob
 * → carol in one browser, a kit site on the script transport without a back-channel URI still
 * showed bob signed in (an outside review against DESIGN's beacon rule: at sign-out, every subsite
 * the user was signed in to; at sign-in, every trusted one). Its beacons now go there as `<img>`
 * tags: an image runs no code in the hub's origin, and the kit answers an image request to its
 * sync endpoints with a GIF and the same cookie.
 */
import { attribute, inputValue, TestBrowser } from '../src/testing/browser.js';
import { continueUrlOf } from '../src/testing/flows.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { authUrl, codeRequest } from './support.js';

const OLD = 'http://old.sso.test:5007';

/** The claims of each `old` sync code on a page, by the tag that carries it. */
function oldCodes(html: string): { tag: string; claims: Record<string, unknown> }[] {
  return [...html.matchAll(/<(img|script) class="beacon"[^>]* src="([^"]+)"[^>]*data-client="old"/g)].map((m) => ({
    tag: m[1]!,
    claims: JSON.parse(Buffer.from(new URL(m[2]!.replace(/&amp;/g, '&')).searchParams.get('code')!.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>,
  }));
}

describe('a script-transport subsite on the sync pages that run no script', () => {
  let hub: RunningHub;
  const hubHost = () => new URL(hub.url).host;

  beforeAll(async () => {
    hub = await startTestHub('memory');
    await hub.services.clients.upsert({
      clientId: 'old', name: 'Old', redirectUris: [`${OLD}/sso/callback`],
      syncLoginUrl: `${OLD}/sso/synclogin`, syncLogoutUrl: `${OLD}/sso/synclogout`, syncTransport: 'script', trusted: true,
    });
    await hub.services.users.create({ username: 'jan', email: 'jan@example.com', password: 'jan-password-123' });
    await hub.services.users.create({ username: 'kim', email: 'kim@example.com', password: 'kim-password-123' });
    await hub.services.users.create({ username: 'root', email: 'root@example.com', password: 'root-password-12', roles: ['admin'] });
  });
  afterAll(() => hub.close());

  async function signIn(browser: TestBrowser, login: string, password: string, from = `${hub.url}/login`): Promise<Response> {
    const landed = await browser.follow(from, [hubHost()]);
    return browser.post(new URL(attribute(landed.body, /action="(\/interaction\/[^"]+\/login)"/), hub.url).toString(), { _csrf: inputValue(landed.body, '_csrf'), login, password });
  }

  it("an admin's sign-in pings it as an image, and runs no script", async () => {
    const answer = await signIn(new TestBrowser(), 'root', 'root-password-12');
    const page = await answer.text();
    expect(oldCodes(page)).toEqual([{ tag: 'img', claims: expect.objectContaining({ act: 'login', aud: 'old' }) }]);
    expect(page).not.toMatch(/<script class="beacon"/);
    expect(answer.headers.get('content-security-policy')).toMatch(/script-src 'self';/);
  });

  it('an account switch tells it of the new sign-in and of the old session\'s end, as images', async () => {
    const browser = new TestBrowser();
    const janPage = await (await signIn(browser, 'jan', 'jan-password-123')).text();
    expect(oldCodes(janPage).map((code) => code.tag)).toEqual(['script']); // anyone else's sign-in: as before
    await browser.follow(continueUrlOf(janPage, hub.url), [hubHost()]);
    // jan signs in at the subsite: the hub session's authorization for it.
    const toOld = await browser.follow(authUrl(hub.url, codeRequest('old', `${OLD}/sso/callback`).params), [hubHost()]);
    expect(toOld.response.headers.get('location') ?? toOld.url).toContain(`${OLD}/sso/callback?code=`);

    const kimAnswer = await signIn(browser, 'kim', 'kim-password-123', authUrl(hub.url, codeRequest('old', `${OLD}/sso/callback`, { prompt: 'login' }).params));
    const kimPage = await kimAnswer.text();
    expect(oldCodes(kimPage)).toEqual([{ tag: 'img', claims: expect.objectContaining({ act: 'login', aud: 'old' }) }]);
    expect(kimAnswer.headers.get('content-security-policy')).toMatch(/script-src 'self';/);

    const question = await (await browser.get(continueUrlOf(kimPage, hub.url))).text();
    const fields = Object.fromEntries([...question.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    const signOut = await browser.post(`${hub.url}/session/end/confirm`, { ...fields, logout: 'yes' });
    const signOutPage = await signOut.text();
    expect(oldCodes(signOutPage)).toEqual([{ tag: 'img', claims: expect.objectContaining({ act: 'logout', aud: 'old', switch: true }) }]);
    expect(signOutPage).not.toMatch(/<script class="beacon"/);
    expect(signOut.headers.get('content-security-policy')).toMatch(/script-src 'self';/);
  });
});
