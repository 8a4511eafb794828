/**
 * A finished sign-in is resumed only by the browser that finished it (security/sign-in-binding.ts).
 *
 * oidc-provider's per-request cookies (`hub_interaction`, `hub_resume`) are scoped to a path, so
 * they cannot be `__Host-` cookies: a sibling host (a subsite on the hub's parent domain, an old
 * forum with an XSS) can plant them in a visitor's browser with `Domain=` the parent domain. An
 * outside review did so in Chromium from a page on a sibling host (`evil.sso.localhost`):
 * - it planted the interaction cookie of its own authorization request; the visitor signed in on
 *   the genuine sign-in page that opened, and the reviewer's browser resumed that sign-in and was
 *   signed in as the visitor (account takeover);
 * - it planted the resume cookie of its own finished sign-in; the visitor's browser resumed it and
 *   was signed in as the reviewer (login CSRF), a visitor already signed in too (oidc-provider
 *   signs the previous account out first).
 * Planting is simulated here by copying the cookie's value into the other browser's jar, which is
 * what a browser does with a cookie a sibling host set for the parent domain.
 */
import { TestBrowser, attribute, inputValue } from '../src/testing/browser.js';
import { startTestHub, STORE_KINDS, type RunningHub } from '../src/testing/test-hub.js';
import { KEPT_BINDINGS, signInBindingCookieName } from '../src/security/sign-in-binding.js';
import { authUrl, codeRequest, isSignedIn, signOut, walk } from './support.js';

const REDIRECT = 'http://rp.test/cb';
const VICTIM = { login: 'victim', password: 'victim-password-1' };
const ATTACKER = { login: 'attacker', password: 'attacker-password-1' };

describe.each(STORE_KINDS)('a sign-in resumed by another browser (%s)', (kind) => {
  let hub: RunningHub;
  let victimId: string;

  beforeAll(async () => {
    hub = await startTestHub(kind);
    victimId = (await hub.services.users.create({ username: VICTIM.login, email: 'victim@example.test', password: VICTIM.password })).id;
    await hub.services.users.create({ username: ATTACKER.login, email: 'attacker@example.test', password: ATTACKER.password });
    await hub.services.clients.register({ clientId: 'rp', name: 'RP', redirectUris: [REDIRECT], trusted: true });
    await hub.services.clients.register({ clientId: 'asks', name: 'Asks consent', redirectUris: [REDIRECT] });
  });
  afterAll(() => hub.close());

  /** An authorization request started in `browser`: its interaction's URL and uid. */
  async function startRequest(browser: TestBrowser): Promise<{ interaction: string; uid: string }> {
    const started = await browser.get(authUrl(hub.url, codeRequest('rp', REDIRECT).params));
    const interaction = new URL(started.headers.get('location')!, hub.url).toString();
    return { interaction, uid: new URL(interaction).pathname.split('/')[2]! };
  }

  /** Signs in on the sign-in page at `interaction` in `browser`; returns the sync page's continue URL (not followed). */
  async function signInOn(browser: TestBrowser, interaction: string, credentials: { login: string; password: string }): Promise<string> {
    const page = await (await browser.get(interaction)).text();
    const action = attribute(page, /action="(\/interaction\/[^"]+\/login)"/);
    const answer = await browser.post(new URL(action, hub.url).toString(), { _csrf: inputValue(page, '_csrf'), ...credentials });
    const body = await answer.text();
    expect(answer.status).toBe(200);
    return new URL(attribute(body, /data-continue="([^"]+)"/), hub.url).toString();
  }

  /** Copies `names` from one browser's jar for the hub to another's (a sibling host setting them for the parent domain). */
  function plant(from: TestBrowser, to: TestBrowser, names: string[]): void {
    for (const name of names) {
      const value = from.cookies(hub.url).get(name);
      expect(value).toEqual(expect.any(String));
      to.cookies(hub.url).set(name, value!);
    }
  }

  test('the browser that signed in resumes, and gets the code', async () => {
    const browser = new TestBrowser();
    const { interaction, uid } = await startRequest(browser);
    const resume = await signInOn(browser, interaction, VICTIM);
    expect(browser.cookies(hub.url).get(signInBindingCookieName(false, uid))).toEqual(expect.any(String));
    const answer = await browser.get(resume);
    expect(new URL(answer.headers.get('location')!).origin + new URL(answer.headers.get('location')!).pathname).toBe(REDIRECT);
    expect(new URL(answer.headers.get('location')!).searchParams.get('code')).toEqual(expect.any(String));
    expect(await isSignedIn(browser, hub.url)).toBe(true);
  });

  test('a consent page after the sign-in (another interaction, the login carried over): the same browser still resumes it', async () => {
    const browser = new TestBrowser();
    const { callback, sawLogin, sawConsent } = await walk(browser, hub.url, authUrl(hub.url, codeRequest('asks', REDIRECT).params), VICTIM);
    expect(sawLogin && sawConsent).toBe(true);
    expect(callback.searchParams.get('code')).toEqual(expect.any(String));
  });

  test('a planted interaction cookie: the visitor signs in, the planting browser resuming it is not signed in as the visitor', async () => {
    const attacker = new TestBrowser();
    const victim = new TestBrowser();
    const { interaction, uid } = await startRequest(attacker);
    plant(attacker, victim, ['hub_interaction', 'hub_interaction.sig']);
    // The visitor, sent to the attacker's sign-in page, signs in there with their own password.
    await signInOn(victim, interaction, VICTIM);

    const answer = await attacker.get(`${hub.url}/auth/${uid}`);
    const location = answer.headers.get('location') ?? '';
    expect(location.startsWith(REDIRECT)).toBe(false);
    expect(location).not.toContain('code=');
    expect(await isSignedIn(attacker, hub.url)).toBe(false);
    const entries = await hub.services.audit.search({ event: 'login.resumed-elsewhere' });
    expect(entries.some((entry) => entry.subject === victimId)).toBe(true);
  });

  test('a planted resume cookie: the visitor is not signed in as the planting browser\'s account', async () => {
    const attacker = new TestBrowser();
    const { interaction, uid } = await startRequest(attacker);
    await signInOn(attacker, interaction, ATTACKER);

    for (const signedIn of [false, true]) {
      const victim = new TestBrowser();
      if (signedIn) await walk(victim, hub.url, authUrl(hub.url, codeRequest('rp', REDIRECT).params), VICTIM);
      plant(attacker, victim, ['hub_resume', 'hub_resume.sig']);
      // Followed as far as the hub goes (a signed-in visitor is first signed out by oidc-provider's form, here posted as the browser would).
      let answer = await victim.get(`${hub.url}/auth/${uid}`);
      const body = await answer.text();
      if (answer.status === 200 && body.includes('/session/end/confirm')) {
        answer = await victim.post(`${hub.url}/session/end/confirm`, { xsrf: inputValue(body, 'xsrf'), logout: 'yes' });
        const back = answer.headers.get('location');
        if (back) answer = await victim.get(new URL(back, hub.url).toString());
      }
      expect(answer.headers.get('location') ?? '').not.toContain('code=');
      const account = await victim.get(`${hub.url}/account`);
      const page = await account.text();
      expect(page).not.toContain(ATTACKER.login);
    }
  });

  test('a browser signing in again and again keeps a few binding cookies, not one per sign-in; sign-ins open in other tabs still resume', async () => {
    // Before: one cookie per sign-in for an hour (about 90 bytes of every request's Cookie
    // header each): 90 sign-ins in an hour passed nginx's 8 KB and every hub page answered 400.
    const browser = new TestBrowser();
    const bindings = () => [...browser.cookies(hub.url).keys()].filter((name) => name.startsWith('hub_signin_'));
    for (let n = 0; n < 8; n += 1) {
      const { interaction } = await startRequest(browser);
      const resume = await signInOn(browser, interaction, VICTIM);
      const answer = await browser.get(resume);
      expect(new URL(answer.headers.get('location')!).searchParams.get('code')).toEqual(expect.any(String));
      // A signed-in browser's next request needs no sign-in page: sign out so each round signs in.
      expect((await signOut(browser, hub.url)).status).toBe(200);
      expect(bindings().length).toBeLessThanOrEqual(KEPT_BINDINGS + 1);
    }
    // Sign-ins finished in KEPT_BINDINGS + 1 tabs before any resumes: each resumes with its code.
    const tabs = [];
    for (let n = 0; n < KEPT_BINDINGS + 1; n += 1) tabs.push(await startRequest(browser));
    const resumes = [];
    for (const tab of tabs) resumes.push(await signInOn(browser, tab.interaction, VICTIM));
    for (const resume of resumes) {
      const answer = await browser.get(resume);
      expect(new URL(answer.headers.get('location')!).searchParams.get('code')).toEqual(expect.any(String));
    }
  });
});
