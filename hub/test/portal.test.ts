/**
 * The hub's portal pages (sign-in, consent, account, sync page) against the design's
 * security rules (OWASP ASVS 5: CSRF, session fixation, uniform failures, throttling,
 * output encoding, headers, open redirects, fail-closed store) and the sync fan-out.
 */
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { TestBrowser, attribute, inputValue } from '../src/testing/browser.js';
import { continueUrlOf } from '../src/testing/flows.js';
import { MemoryStore } from '../src/store/memory.js';
import { StoreUnavailableError, type Store } from '../src/store/store.js';
import { RedisStore } from '../src/store/redis.js';
import { openTestStore, startTestHub, STORE_KINDS, type RunningHub } from '../src/testing/test-hub.js';
import { authUrl, codeRequest, isSignedIn, signOut, walk, type Credentials } from './support.js';
import { deleteByPrefix } from '../src/store/redis-client.js';

const REDIRECT = 'http://rp.test/cb';
const ALICE: Credentials = { login: 'alice', password: 'wonderland-123' };
const XSS_NAME = '<script>alert(1)</script>';
const SUBSITES = [
  { clientId: 'bbs', origin: 'http://bbs.sso.test:5001' },
  { clientId: 'wiki', origin: 'http://wiki.sso.test:5002' },
  { clientId: 'shop', origin: 'http://shop.test:5003' },
];
/** Signs that a page shows a stack trace or server internals. */
const LEAKS = [/\bat [\w.<>]+ \(/, /node_modules/, /\/work\//, /\.ts:\d+/, /TypeError|ReferenceError|SyntaxError/];

interface LoginForm {
  /** The interaction page URL. */
  url: string;
  html: string;
  /** The absolute URL the form posts to. */
  action: string;
  csrf: string;
}

/** Starts an authorization request in `browser` and returns the sign-in form it lands on. */
async function openLoginForm(hub: RunningHub, browser: TestBrowser, clientId = 'first-party', overrides: Record<string, string | undefined> = {}): Promise<LoginForm> {
  const start = await browser.get(authUrl(hub.url, codeRequest(clientId, REDIRECT, overrides).params));
  await start.arrayBuffer();
  expect(start.status).toBe(303);
  const url = new URL(start.headers.get('location')!, hub.url).toString();
  const page = await browser.get(url);
  const html = await page.text();
  expect(page.status).toBe(200);
  const action = new URL(attribute(html, /action="(\/interaction\/[^"]+\/login)"/), hub.url).toString();
  return { url, html, action, csrf: inputValue(html, '_csrf') };
}

/** The error text of a sign-in page answer. */
function loginError(html: string): string | undefined {
  return /data-testid="login-error">([^<]*)</.exec(html)?.[1];
}

/** Follows a portal URL through sign-in (if asked) and the sync page to where it ends. */
async function portalVisit(hub: RunningHub, browser: TestBrowser, start: string, credentials = ALICE) {
  const hubHost = new URL(hub.url).host;
  let landed = await browser.follow(start, [hubHost]);
  const visited = [landed.url];
  if (/action="\/interaction\/[^"]+\/login"/.test(landed.body)) {
    const action = new URL(attribute(landed.body, /action="(\/interaction\/[^"]+\/login)"/), hub.url).toString();
    const answer = await browser.post(action, { _csrf: inputValue(landed.body, '_csrf'), ...credentials });
    const sync = await answer.text();
    expect(answer.status).toBe(200);
    landed = await browser.follow(continueUrlOf(sync, hub.url), [hubHost]);
    visited.push(landed.url);
  }
  return { ...landed, visited };
}

interface Beacon {
  clientId: string;
  url: URL;
}

function beaconsOf(html: string): Beacon[] {
  return [...html.matchAll(/<img class="beacon" src="([^"]+)"[^>]*data-client="([^"]+)"/g)].map((match) => ({
    clientId: match[2]!,
    url: new URL(match[1]!.replace(/&amp;/g, '&')),
  }));
}

function cspDirective(csp: string, name: string): string[] {
  const directive = csp
    .split(';')
    .map((part) => part.trim().split(/\s+/))
    .find(([directiveName]) => directiveName === name);
  return directive ? directive.slice(1) : [];
}

describe.each(STORE_KINDS)('hub portal on %s', (kind) => {
  let hub: RunningHub;
  const syncKeys = new Map<string, string>();

  beforeAll(async () => {
    hub = await startTestHub(kind);
    const { users, clients } = hub.services;
    await users.create({ username: 'alice', email: 'alice@example.test', name: 'Alice Liddell', password: ALICE.password });
    await clients.register({ clientId: 'first-party', name: 'First Party', redirectUris: [REDIRECT], trusted: true });
    await clients.register({ clientId: 'xss-rp', name: XSS_NAME, redirectUris: [REDIRECT] });
    await clients.register({ clientId: 'headers-rp', name: 'Headers RP', redirectUris: [REDIRECT] });
    for (const subsite of SUBSITES) {
      const client = await clients.register({
        clientId: subsite.clientId,
        name: subsite.clientId,
        // First-party: synced at every sign-in (third-party ones only once allowed, see sync-fanout.test.ts).
        trusted: true,
        redirectUris: [`${subsite.origin}/sso/callback`],
        syncLoginUrl: `${subsite.origin}/sso/synclogin`,
        syncLogoutUrl: `${subsite.origin}/sso/synclogout`,
      });
      syncKeys.set(client.clientId, client.sync!.key);
    }
  });
  afterAll(() => hub.close());

  describe('OWASP ASVS V3.5 CSRF on the sign-in form', () => {
    test.each([
      ['no token', undefined],
      ['a wrong token', 'not-the-token-of-this-session'],
    ])('%s: 403, a friendly page, and no sign-in', async (_name, token) => {
      const browser = new TestBrowser();
      const form = await openLoginForm(hub, browser);
      const answer = await browser.post(form.action, { ...(token !== undefined ? { _csrf: token } : {}), ...ALICE });
      const html = await answer.text();
      expect(answer.status).toBe(403);
      expect(answer.headers.get('content-type')).toMatch(/^text\/html/);
      expect(html).toContain('This form has expired');
      expect(html).not.toContain('data-continue');
      for (const leak of LEAKS) expect(html).not.toMatch(leak);
      expect(await isSignedIn(browser, hub.url)).toBe(false);
    });

    test("another browser's valid token does not work here", async () => {
      const mine = await openLoginForm(hub, new TestBrowser());
      const victim = new TestBrowser();
      const theirs = await openLoginForm(hub, victim);
      const answer = await victim.post(theirs.action, { _csrf: mine.csrf, ...ALICE });
      await answer.arrayBuffer();
      expect(answer.status).toBe(403);
      expect(await isSignedIn(victim, hub.url)).toBe(false);
    });

    test('the right token signs in (the 403s above are about the token)', async () => {
      const browser = new TestBrowser();
      const form = await openLoginForm(hub, browser);
      const answer = await browser.post(form.action, { _csrf: form.csrf, ...ALICE });
      const sync = await answer.text();
      expect(answer.status).toBe(200);
      expect(sync).toContain('data-continue');
      await browser.follow(continueUrlOf(sync, hub.url));
      expect(await isSignedIn(browser, hub.url)).toBe(true);
    });
  });

  describe('OWASP ASVS V3.2 session fixation', () => {
    test('the portal session id (hub_portal) changes at sign-in', async () => {
      const browser = new TestBrowser();
      const form = await openLoginForm(hub, browser);
      const host = new URL(hub.url).host;
      const before = browser.jar.get(host)!.get('hub_portal');
      expect(before).toBeTruthy();
      const answer = await browser.post(form.action, { _csrf: form.csrf, ...ALICE });
      await answer.arrayBuffer();
      expect(answer.status).toBe(200);
      const after = browser.jar.get(host)!.get('hub_portal');
      expect(after).toBeTruthy();
      const sessionId = (cookie: string) => decodeURIComponent(cookie).replace(/^s:/, '').split('.')[0];
      expect(sessionId(after!)).not.toBe(sessionId(before!));
    });

    test('a hub_portal cookie planted before sign-in is worthless after it', async () => {
      const attacker = new TestBrowser();
      await openLoginForm(hub, attacker);
      const host = new URL(hub.url).host;
      const planted = attacker.jar.get(host)!.get('hub_portal')!;

      const victim = new TestBrowser();
      victim.cookies(hub.url).set('hub_portal', planted);
      const form = await openLoginForm(hub, victim);
      const answer = await victim.post(form.action, { _csrf: form.csrf, ...ALICE });
      await answer.arrayBuffer();
      expect(answer.status).toBe(200);
      expect(victim.jar.get(host)!.get('hub_portal')).not.toBe(planted);
      // The attacker's copy of the cookie does not make the attacker signed in.
      expect(await isSignedIn(attacker, hub.url)).toBe(false);
    });
  });

  describe('OWASP ASVS V6.3 the same answer for an unknown user and a wrong password', () => {
    test('status, message and page are the same', async () => {
      const browser = new TestBrowser();
      const form = await openLoginForm(hub, browser);
      const unknown = await browser.post(form.action, { _csrf: form.csrf, login: 'nobody-at-all', password: 'whatever-123' });
      const unknownHtml = await unknown.text();
      const wrong = await browser.post(form.action, { _csrf: inputValue(unknownHtml, '_csrf'), login: 'alice', password: 'not-her-password' });
      const wrongHtml = await wrong.text();

      expect(unknown.status).toBe(401);
      expect(wrong.status).toBe(unknown.status);
      expect(loginError(unknownHtml)).toBe('The username or password is incorrect.');
      expect(loginError(wrongHtml)).toBe(loginError(unknownHtml));
      const normalise = (html: string, login: string) => html.replace(`value="${login}"`, 'value="LOGIN"');
      expect(normalise(wrongHtml, 'alice')).toBe(normalise(unknownHtml, 'nobody-at-all'));
      expect(await isSignedIn(browser, hub.url)).toBe(false);
    });
  });

  describe('OWASP ASVS V6.3.1 rate limits and lockout', () => {
    let limited: RunningHub;

    beforeEach(async () => {
      limited = await startTestHub(kind, { LOGIN_MAX_FAILURES_PER_ACCOUNT: '3', LOGIN_MAX_ATTEMPTS_PER_IP: '5', LOGIN_BACKOFF_BASE_SECONDS: '60' });
      await limited.services.users.create({ username: 'alice', email: 'alice@example.test', password: ALICE.password });
      await limited.services.users.create({ username: 'bob', email: 'bob@example.test', password: 'builder-password-1' });
      await limited.services.clients.register({ clientId: 'first-party', name: 'First Party', redirectUris: [REDIRECT], trusted: true });
    });
    afterEach(() => limited.close());

    /** Posts sign-ins one after the other on one form, each with the token of the last page. */
    async function attempts(browser: TestBrowser, tries: Credentials[]) {
      const form = await openLoginForm(limited, browser);
      let csrf = form.csrf;
      const answers: { status: number; retryAfter: string | null; html: string }[] = [];
      for (const credentials of tries) {
        const answer = await browser.post(form.action, { _csrf: csrf, ...credentials });
        const html = await answer.text();
        answers.push({ status: answer.status, retryAfter: answer.headers.get('retry-after'), html });
        if (html.includes('name="_csrf"')) csrf = inputValue(html, '_csrf');
      }
      return answers;
    }

    test('after LOGIN_MAX_FAILURES_PER_ACCOUNT failures, even the right password answers 429 with Retry-After', async () => {
      const browser = new TestBrowser();
      const wrong = { login: 'alice', password: 'wrong-password' };
      const answers = await attempts(browser, [wrong, wrong, wrong, ALICE]);
      expect(answers.slice(0, 3).map((a) => a.status)).toEqual([401, 401, 401]);
      const locked = answers[3]!;
      expect(locked.status).toBe(429);
      expect(Number(locked.retryAfter)).toBeGreaterThan(0);
      expect(locked.html).not.toContain('data-continue');
      expect(loginError(locked.html)).toMatch(/Too many/);
      // The wait it says is the wait it sends (it said "a few minutes" beside Retry-After: 2; a review).
      const seconds = Number(locked.retryAfter);
      expect(loginError(locked.html)).toBe(`Too many sign-in attempts. Please wait ${seconds} second${seconds === 1 ? '' : 's'} and try again.`);
      expect(await isSignedIn(browser, limited.url)).toBe(false);

      // The lock is on the account, not the browser: bob still signs in from a new browser.
      const other = await attempts(new TestBrowser(), [{ login: 'bob', password: 'builder-password-1' }]);
      expect(other[0]!.status).toBe(200);
    });

    test('an unknown account locks the same way (the lockout tells nothing about who exists)', async () => {
      const wrong = { login: 'ghost', password: 'wrong-password' };
      const answers = await attempts(new TestBrowser(), [wrong, wrong, wrong, wrong]);
      expect(answers.map((a) => a.status)).toEqual([401, 401, 401, 429]);
      expect(answers[3]!.retryAfter).toBeTruthy();
    });

    test('after LOGIN_MAX_ATTEMPTS_PER_IP attempts from one address, the next answers 429 with Retry-After', async () => {
      const tries = ['u1', 'u2', 'u3', 'u4', 'u5'].map((login) => ({ login, password: 'wrong-password' }));
      const answers = await attempts(new TestBrowser(), tries);
      expect(answers.map((a) => a.status)).toEqual([401, 401, 401, 401, 401]);
      const browser = new TestBrowser();
      const [blocked] = await attempts(browser, [ALICE]);
      expect(blocked!.status).toBe(429);
      expect(Number(blocked!.retryAfter)).toBeGreaterThan(0);
      expect(await isSignedIn(browser, limited.url)).toBe(false);
    });

    test('successful sign-ins from one address (an office NAT, new browsers) never use up LOGIN_MAX_ATTEMPTS_PER_IP', async () => {
      // Before, the sixth new browser signing in from the address was refused with its right password.
      for (let i = 0; i < 8; i += 1) {
        const browser = new TestBrowser();
        const [answer] = await attempts(browser, [i % 2 === 0 ? ALICE : { login: 'bob', password: 'builder-password-1' }]);
        expect(answer!.status).toBe(200);
        expect(answer!.html).toContain('data-testid="sync-title"');
      }
      // Failures from the address still count: five and it is refused.
      const tries = ['u1', 'u2', 'u3', 'u4', 'u5'].map((login) => ({ login, password: 'wrong-password' }));
      expect((await attempts(new TestBrowser(), tries)).map((a) => a.status)).toEqual([401, 401, 401, 401, 401]);
      expect((await attempts(new TestBrowser(), [ALICE]))[0]!.status).toBe(429);
    });
  });

  describe('OWASP ASVS V1.2 output encoding', () => {
    test('a client named <script>alert(1)</script> shows escaped on the sign-in and consent pages', async () => {
      const browser = new TestBrowser();
      const form = await openLoginForm(hub, browser, 'xss-rp');
      expect(form.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(form.html).not.toContain(XSS_NAME);

      const answer = await browser.post(form.action, { _csrf: form.csrf, ...ALICE });
      const sync = await answer.text();
      const consent = await browser.follow(continueUrlOf(sync, hub.url));
      expect(consent.body).toContain('/confirm"');
      expect(consent.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(consent.body).not.toContain(XSS_NAME);
    });

    test('a hostile state never appears unescaped in any page', async () => {
      const state = '"><script>alert(2)</script><img src=x onerror=alert(3)>';
      const raw = ['<script>alert(2)', '<img src=x'];
      const pages: string[] = [];
      const browser = new TestBrowser();

      // Through sign-in and consent to the client.
      const flow = await walk(browser, hub.url, authUrl(hub.url, codeRequest('xss-rp', REDIRECT, { state }).params), ALICE);
      pages.push(...flow.pages);
      expect(flow.callback.searchParams.get('state')).toBe(state);

      // Error pages for a bad redirect URI and an unknown client, with the same state.
      for (const overrides of [{ redirect_uri: 'http://evil.test/cb' }, { client_id: 'nope' }, { response_type: 'token' }]) {
        const response = await browser.get(authUrl(hub.url, codeRequest('xss-rp', REDIRECT, { state, ...overrides }).params));
        pages.push(await response.text());
      }
      // A hostile login_hint is shown only as an escaped value.
      const hinted = await openLoginForm(hub, new TestBrowser(), 'first-party', { login_hint: state });
      pages.push(hinted.html);
      expect(inputValue(hinted.html, 'login')).toBe(state);

      expect(pages.length).toBeGreaterThan(4);
      for (const page of pages) for (const fragment of raw) expect(page).not.toContain(fragment);
    });

    test.each([
      ['an unknown interaction', 'GET', '/interaction/not-a-real-uid'],
      ['a sign-in post to an unknown interaction', 'POST', '/interaction/not-a-real-uid/login'],
      ['bad percent-encoding', 'GET', '/interaction/%E0%A4%A'],
      ['an unknown client id', 'GET', '/auth?client_id=%3Cscript%3E&response_type=code'],
      ['a stale portal callback', 'GET', '/portal/callback?state=forged'],
      ['an unknown page', 'GET', '/no/such/page'],
      ['a bad next', 'GET', '/login?next[]=x&next=%00'],
    ])('%s: an error page without a stack trace', async (_name, method, path) => {
      const browser = new TestBrowser();
      const response =
        method === 'POST' ? await browser.post(`${hub.url}${path}`, { login: 'a', password: 'b' }) : await browser.get(`${hub.url}${path}`);
      const html = await response.text();
      expect(response.status).toBeGreaterThanOrEqual(300);
      expect(response.status).toBeLessThan(500);
      for (const leak of LEAKS) expect(html).not.toMatch(leak);
      expect(html).not.toContain('<script>');
    });

    test('an oversized form body is refused without a stack trace', async () => {
      const browser = new TestBrowser();
      const form = await openLoginForm(hub, browser);
      const answer = await browser.post(form.action, { _csrf: form.csrf, login: 'alice', password: 'x'.repeat(64 * 1024) });
      const html = await answer.text();
      expect(answer.status).toBe(413);
      for (const leak of LEAKS) expect(html).not.toMatch(leak);
    });
  });

  describe('security headers on portal pages (clickjacking, referrer, caching)', () => {
    function expectPortalHeaders(response: Response) {
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(cspDirective(csp, 'frame-ancestors')).toEqual(["'none'"]);
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(response.headers.get('cache-control')).toMatch(/no-store/);
    }

    test('sign-in, consent, sync, account and error pages all carry them', async () => {
      const browser = new TestBrowser();
      const loginStart = await browser.get(`${hub.url}/login`);
      await loginStart.arrayBuffer();
      expectPortalHeaders(loginStart);

      const start = await browser.get(authUrl(hub.url, codeRequest('headers-rp', REDIRECT).params));
      await start.arrayBuffer();
      const loginPage = await browser.get(new URL(start.headers.get('location')!, hub.url).toString());
      const loginHtml = await loginPage.text();
      expectPortalHeaders(loginPage);

      const action = new URL(attribute(loginHtml, /action="(\/interaction\/[^"]+\/login)"/), hub.url).toString();
      const syncPage = await browser.post(action, { _csrf: inputValue(loginHtml, '_csrf'), ...ALICE });
      const sync = await syncPage.text();
      expectPortalHeaders(syncPage);

      const resume = await browser.get(continueUrlOf(sync, hub.url));
      await resume.arrayBuffer();
      const consentPage = await browser.get(new URL(resume.headers.get('location')!, hub.url).toString());
      expect(await consentPage.text()).toContain('/confirm"');
      expectPortalHeaders(consentPage);

      const account = await browser.get(`${hub.url}/account`);
      expect(account.status).toBe(200);
      await account.arrayBuffer();
      expectPortalHeaders(account);

      // A fresh browser: the interaction cookie is path-scoped to its own uid, which TestBrowser ignores.
      const error = await new TestBrowser().get(`${hub.url}/interaction/unknown-uid`);
      await error.arrayBuffer();
      expect(error.status).toBe(400);
      expectPortalHeaders(error);

      const logout = await browser.get(`${hub.url}/session/end`);
      await logout.arrayBuffer();
      expectPortalHeaders(logout);
    });
  });

  describe('open-redirect-proof next (RFC 9700 §4.11)', () => {
    test('GET /login?next=/account signs in and ends on /account showing the user', async () => {
      const browser = new TestBrowser();
      const end = await portalVisit(hub, browser, `${hub.url}/login?next=/account`);
      expect(new URL(end.url).pathname).toBe('/account');
      expect(end.response.status).toBe(200);
      expect(end.body).toContain('data-testid="account-name">Alice Liddell<');
    });

    test.each(['//evil.test', 'https://evil.test', '/\\evil.test', 'javascript:alert(1)', '%2F%2Fevil.test', '/.//evil.test/x', '/x/..//evil.test', '/%2e%2e//evil.test'])('next=%s ends on /account, never off-site', async (next) => {
      const browser = new TestBrowser();
      const end = await portalVisit(hub, browser, `${hub.url}/login?next=${encodeURIComponent(next)}`);
      const landed = new URL(end.url);
      expect(landed.origin).toBe(hub.url);
      expect(landed.pathname).toBe('/account');
      for (const url of end.visited) expect(new URL(url).host).toBe(new URL(hub.url).host);

      // Already signed in: /login?next= redirects at once, still only on the hub.
      const again = await browser.get(`${hub.url}/login?next=${encodeURIComponent(next)}`);
      await again.arrayBuffer();
      expect(again.status).toBe(303);
      expect(new URL(again.headers.get('location')!, hub.url).origin).toBe(hub.url);
    });
  });

  describe('DESIGN flow 2: the sync page', () => {
    async function expectSyncPage(html: string, csp: string, act: 'login' | 'logout') {
      const beacons = beaconsOf(html);
      expect(beacons.map((b) => b.clientId).sort()).toEqual(SUBSITES.map((s) => s.clientId).sort());
      const jtis = new Set<string>();
      for (const beacon of beacons) {
        const subsite = SUBSITES.find((s) => s.clientId === beacon.clientId)!;
        expect(beacon.url.origin).toBe(subsite.origin);
        expect(beacon.url.pathname).toBe(act === 'login' ? '/sso/synclogin' : '/sso/synclogout');
        const time = beacon.url.searchParams.get('time');
        const code = beacon.url.searchParams.get('code');
        expect(time).toMatch(/^\d+$/);
        expect(code).toBeTruthy();

        expect(decodeProtectedHeader(code!)).toMatchObject({ alg: 'HS256', typ: 'sync+jwt' });
        const key = new TextEncoder().encode(syncKeys.get(beacon.clientId)!);
        const { payload } = await jwtVerify(code!, key, { audience: beacon.clientId, issuer: hub.url, typ: 'sync+jwt', algorithms: ['HS256'] });
        expect(payload.act).toBe(act);
        expect(payload.aud).toBe(beacon.clientId);
        expect(typeof payload.sid).toBe('string');
        expect(typeof payload.jti).toBe('string');
        jtis.add(payload.jti!);
        expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(60);
        expect(payload.exp!).toBeGreaterThan(Math.floor(Date.now() / 1000));
        expect(Math.abs(Number(time) - payload.iat!)).toBeLessThanOrEqual(1);

        // One subsite's key cannot verify (or forge) another subsite's code.
        for (const other of SUBSITES.filter((s) => s.clientId !== beacon.clientId)) {
          await expect(jwtVerify(code!, new TextEncoder().encode(syncKeys.get(other.clientId)!))).rejects.toThrow();
        }
      }
      expect(jtis.size).toBe(beacons.length);

      // Images run no code: img-src names the beacons' scheme, so it does not grow with the subsites.
      expect(cspDirective(csp, 'img-src')).toEqual(["'self'", 'http:']);
      expect(cspDirective(csp, 'script-src')).toEqual(["'self'"]);
      expect(cspDirective(csp, 'frame-ancestors')).toEqual(["'none'"]);
    }

    test('after sign-in: one signed synclogin beacon per subsite; after sign-out: synclogout', async () => {
      const browser = new TestBrowser();
      const form = await openLoginForm(hub, browser);
      const answer = await browser.post(form.action, { _csrf: form.csrf, ...ALICE });
      const html = await answer.text();
      expect(answer.status).toBe(200);
      expect(html).toContain('data-act="login"');
      await expectSyncPage(html, answer.headers.get('content-security-policy')!, 'login');
      // Finish the sign-in so the session exists, sign in to every subsite, then sign out.
      await browser.follow(continueUrlOf(html, hub.url));
      expect(await isSignedIn(browser, hub.url)).toBe(true);
      for (const subsite of SUBSITES) {
        const request = codeRequest(subsite.clientId, `${subsite.origin}/sso/callback`, { prompt: 'none' });
        expect((await walk(browser, hub.url, authUrl(hub.url, request.params))).callback.searchParams.get('code')).toBeTruthy();
      }

      const out = await signOut(browser, hub.url);
      expect(out.status).toBe(200);
      expect(out.html).toContain('data-act="logout"');
      await expectSyncPage(out.html, out.csp!, 'logout');
      expect(await isSignedIn(browser, hub.url)).toBe(false);
    });

    test('a portal sign-in renders the same sync page', async () => {
      const browser = new TestBrowser();
      const landed = await browser.follow(`${hub.url}/login`);
      const action = new URL(attribute(landed.body, /action="(\/interaction\/[^"]+\/login)"/), hub.url).toString();
      const answer = await browser.post(action, { _csrf: inputValue(landed.body, '_csrf'), ...ALICE });
      await expectSyncPage(await answer.text(), answer.headers.get('content-security-policy')!, 'login');
    });
  });

  describe('DESIGN store down: fail closed with 503, never hang', () => {
    const DEADLINE_MS = 5_000; // well above the store's 2 s command timeout

    /** A store for this hub alone, so breaking it leaves the others alone. */
    async function breakableStore(): Promise<{ store: Store; breakIt: () => Promise<void> }> {
      if (kind === 'redis') {
        const store = (await openTestStore('redis')) as RedisStore;
        return { store, breakIt: async () => store.client.destroy() };
      }
      // The embedded store cannot go down by itself: every call fails as Redis's would.
      let down = false;
      const memory = new MemoryStore();
      const store = new Proxy(memory, {
        get(target, property, receiver) {
          const value = Reflect.get(target, property, receiver) as unknown;
          if (typeof value !== 'function' || property === 'close' || property === 'kind') return value;
          return (...args: unknown[]) => {
            if (down) {
              if (property === 'ping') return Promise.resolve(false);
              return Promise.reject(new StoreUnavailableError(new Error('store is down')));
            }
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      });
      return {
        store,
        breakIt: async () => {
          down = true;
        },
      };
    }

    let downHub: RunningHub;
    let store: Store;
    let breakIt: () => Promise<void>;

    beforeAll(async () => {
      ({ store, breakIt } = await breakableStore());
      downHub = await startTestHub(kind, {}, store);
      await downHub.services.users.create({ username: 'alice', email: 'alice@example.test', password: ALICE.password });
      await downHub.services.clients.register({ clientId: 'first-party', name: 'First Party', redirectUris: [REDIRECT], trusted: true });
    });
    afterAll(async () => {
      await downHub.close();
      await store.close().catch(() => undefined);
      if (kind === 'redis') {
        // The hub could not clean up after itself with its Redis client gone: do it here.
        const cleaner = (await openTestStore('redis')) as RedisStore;
        await deleteByPrefix(cleaner.client, downHub.config.KEY_PREFIX);
        await cleaner.close();
      }
    });

    async function timed(browser: TestBrowser, url: string, form?: Record<string, string>) {
      const started = Date.now();
      const response = form
        ? await browser.request(url, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams(form).toString(),
            signal: AbortSignal.timeout(DEADLINE_MS),
          })
        : await browser.request(url, { signal: AbortSignal.timeout(DEADLINE_MS) });
      const html = await response.text();
      return { status: response.status, html, ms: Date.now() - started, retryAfter: response.headers.get('retry-after') };
    }

    function expectUnavailable(answer: { status: number; html: string }) {
      expect(answer.status).toBe(503);
      expect(answer.html).toContain('temporarily unavailable');
      for (const leak of LEAKS) expect(answer.html).not.toMatch(leak);
    }

    test('sign-in pages, the account page and the protocol answer 503, quickly, and nobody is signed in', async () => {
      const signedIn = new TestBrowser();
      await portalVisit(downHub, signedIn, `${downHub.url}/login`);
      expect(await isSignedIn(signedIn, downHub.url)).toBe(true);
      const pending = new TestBrowser();
      const form = await openLoginForm(downHub, pending);
      const fresh = new TestBrowser();

      await breakIt();
      // Let the client cache go stale so it, too, has to ask the store.
      await new Promise((resolve) => setTimeout(resolve, 1_100));

      const account = await timed(signedIn, `${downHub.url}/account`);
      expectUnavailable(account);
      expect(account.retryAfter).toBeTruthy();

      const loginPage = await timed(pending, form.url);
      expectUnavailable(loginPage);

      const login = await timed(pending, form.action, { _csrf: form.csrf, ...ALICE });
      expectUnavailable(login);
      expect(login.html).not.toContain('data-continue');

      const portalLogin = await timed(fresh, `${downHub.url}/login`);
      expectUnavailable(portalLogin); // its portal session is saved before the answer (issue 9 item 12)
      const authorize = await timed(fresh, authUrl(downHub.url, codeRequest('first-party', REDIRECT).params));
      expectUnavailable(authorize);

      // A silent check goes back to its site with the error instead (silent-check-outage.test.ts), quickly too.
      const silentRequest = codeRequest('first-party', REDIRECT, { prompt: 'none' });
      const silentStarted = Date.now();
      const silent = await signedIn.request(authUrl(downHub.url, silentRequest.params), { signal: AbortSignal.timeout(DEADLINE_MS) });
      await silent.arrayBuffer();
      expect(Date.now() - silentStarted).toBeLessThan(DEADLINE_MS);
      expect(silent.status).toBe(303);
      const silentAnswer = new URL(silent.headers.get('location')!);
      expect([silentAnswer.searchParams.get('error'), silentAnswer.searchParams.get('code')]).toEqual(['temporarily_unavailable', null]);

      // Not ready (a balancer stops sending traffic), and still alive (no restart loop).
      const ready = await fetch(`${downHub.url}/readyz`, { signal: AbortSignal.timeout(DEADLINE_MS) });
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { reasons: string[] }).reasons.join(' ')).toMatch(/store/);
      const alive = await fetch(`${downHub.url}/healthz`, { signal: AbortSignal.timeout(DEADLINE_MS) });
      expect(alive.status).toBe(200);
      await alive.arrayBuffer();

      for (const answer of [account, loginPage, login, portalLogin, authorize]) expect(answer.ms).toBeLessThan(DEADLINE_MS);
    });

    test('the token endpoint answers 503 JSON, not 500', async () => {
      const answer = await fetch(`${downHub.url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: 'grant_type=client_credentials&client_id=first-party&client_secret=' + 'x'.repeat(43),
        signal: AbortSignal.timeout(DEADLINE_MS),
      });
      const body = (await answer.json()) as Record<string, unknown>;
      expect(answer.status).toBe(503);
      expect(body.error).toBe('temporarily_unavailable');
    });
  });
});
