import { TestBrowser, inputValue } from '../src/testing/browser.js';
import { signInAtPortal } from '../src/testing/flows.js';
import { startTestHub, STORE_KINDS, type RunningHub } from '../src/testing/test-hub.js';
import { authUrl, basic, codeRequest, isSignedIn, postForm, signOut, walk } from './support.js';

const REDIRECT = 'http://rp.test/cb';

/** OpenID Connect RP-Initiated Logout 1.0 §2 with the DESIGN rule "logout only by POST or with a valid id_token_hint". */
describe.each(STORE_KINDS)('RP-Initiated Logout: id_token_hint (%s)', (kind) => {
  let hub: RunningHub;
  let auth: string;

  beforeAll(async () => {
    hub = await startTestHub(kind);
    for (const name of ['alice', 'bob']) {
      await hub.services.users.create({ username: name, email: `${name}@example.test`, password: `${name}-password-1` });
    }
    const client = await hub.services.clients.register({
      clientId: 'rp',
      trusted: true,
      redirectUris: [REDIRECT],
      postLogoutRedirectUris: ['http://rp.test/'],
      syncLoginUrl: 'http://rp.test/sso/synclogin',
      syncLogoutUrl: 'http://rp.test/sso/synclogout',
      // ID tokens carry `sid` for clients that take back-channel logout (OIDC Back-Channel Logout 1.0 §2.1).
      backchannelLogoutUri: 'http://rp.test/sso/backchannel-logout',
    });
    auth = basic('rp', client.clientSecret!);
  });
  afterAll(() => hub.close());

  async function signedIn(name: string): Promise<{ browser: TestBrowser; idToken: string }> {
    const browser = new TestBrowser();
    const request = codeRequest('rp', REDIRECT);
    const { callback } = await walk(browser, hub.url, authUrl(hub.url, request.params), { login: name, password: `${name}-password-1` });
    const tokens = await postForm(`${hub.url}/token`, { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, code_verifier: request.verifier, redirect_uri: REDIRECT }, { authorization: auth });
    return { browser, idToken: String(tokens.body.id_token) };
  }

  test("the signed-in user's own ID token signs out at once; someone else's asks first", async () => {
    const alice = await signedIn('alice');
    const bob = await signedIn('bob');
    const end = (hint: string) => `${hub.url}/session/end?id_token_hint=${hint}&post_logout_redirect_uri=${encodeURIComponent('http://rp.test/')}`;

    const foreign = await (await alice.browser.get(end(bob.idToken))).text();
    expect(foreign).toContain('name="xsrf"');
    expect(foreign).not.toContain('data-autosubmit');

    const own = await (await alice.browser.get(end(alice.idToken))).text();
    expect(own).toContain('data-autosubmit');
  });

  test('a sign-out naming a post-logout URI the client did not register still signs the user out, never going there', async () => {
    // An outside review: a site registered without a post-logout URI; its sign-out ended its own
    // session, then the hub refused the whole request (400), and the user stayed signed in at the hub.
    for (const name of ['bob', 'alice']) {
      const user = await signedIn(name);
      const query: Record<string, string> = name === 'bob'
        ? { client_id: 'rp', post_logout_redirect_uri: 'http://rp.test/not-registered', state: 'x' }
        : { id_token_hint: user.idToken, post_logout_redirect_uri: 'https://evil.example/' };
      const page = await user.browser.get(`${hub.url}/session/end?${new URLSearchParams(query).toString()}`);
      const html = await page.text();
      expect(page.status).toBe(200);
      const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)![1]!;
      const done = await user.browser.post(`${hub.url}/session/end/confirm`, { xsrf, logout: 'yes' });
      const syncPage = await done.text();
      expect(syncPage).not.toContain('not-registered');
      expect(syncPage).not.toContain('evil.example');
      expect((await user.browser.get(`${hub.url}/account`)).status).not.toBe(200);
    }
  });

  test('a native app\'s sign-out may name its post-logout URI on any loopback port (RFC 8252), as its sign-in may', async () => {
    // A review: the hub's own unregistered-target check matched exactly, so GET dropped the target on the app's ephemeral port.
    await hub.services.clients.register({ clientId: 'native-cli', redirectUris: ['http://127.0.0.1/callback'], postLogoutRedirectUris: ['http://127.0.0.1/signed-out'], tokenEndpointAuthMethod: 'none' });
    const browser = new TestBrowser();
    const request = codeRequest('native-cli', 'http://127.0.0.1:53150/callback');
    await walk(browser, hub.url, authUrl(hub.url, request.params), { login: 'alice', password: 'alice-password-1' });
    const target = 'http://127.0.0.1:53150/signed-out';
    const page = await browser.get(`${hub.url}/session/end?${new URLSearchParams({ client_id: 'native-cli', post_logout_redirect_uri: target, state: 'bye' }).toString()}`);
    const html = await page.text();
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)![1]!;
    const done = await browser.post(`${hub.url}/session/end/confirm`, { xsrf, logout: 'yes' });
    const answer = `${done.headers.get('location') ?? ''} ${await done.text()}`.replace(/&amp;/g, '&');
    expect(answer).toContain(`${target}?state=bye`);
  });

  test("a synclogout code carries the sid of the client's ID tokens, so the subsite can end that session without cookies", async () => {
    const alice = await signedIn('alice');
    const idTokenSid = JSON.parse(Buffer.from(alice.idToken.split('.')[1]!, 'base64url').toString()).sid as string;
    expect(idTokenSid).toBeTruthy();
    const end = await (await alice.browser.get(`${hub.url}/session/end?id_token_hint=${alice.idToken}`)).text();
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(end)![1]!;
    const syncPage = await (await alice.browser.post(`${hub.url}/session/end/confirm`, { xsrf, logout: 'yes' })).text();
    const beacon = /src="(http:\/\/rp\.test\/sso\/synclogout[^"]+)"/.exec(syncPage)![1]!.replace(/&amp;/g, '&');
    const code = new URL(beacon).searchParams.get('code')!;
    const claims = JSON.parse(Buffer.from(code.split('.')[1]!, 'base64url').toString());
    expect(claims).toMatchObject({ act: 'logout', aud: 'rp', sid: idTokenSid });
  });
});

describe.each(STORE_KINDS)('URLs in protocol pages come from the issuer, not the Host header (%s)', (kind) => {
  let hub: RunningHub;
  beforeAll(async () => {
    hub = await startTestHub(kind);
  });
  afterAll(() => hub.close());

  test('a forged Host cannot reach the sign-out form action or discovery', async () => {
    const page = await new TestBrowser().get(`${hub.url}/.well-known/openid-configuration`, { host: 'evil.example', 'x-forwarded-host': 'evil.example', accept: 'application/json' });
    const discovery = (await page.json()) as Record<string, string>;
    expect(discovery.authorization_endpoint).toBe(`${hub.url}/auth`);
    expect(JSON.stringify(discovery)).not.toContain('evil.example');
  });
});

describe.each(STORE_KINDS)('a sign-out question left open in a second tab (%s)', (kind) => {
  let hub: RunningHub;
  beforeAll(async () => {
    hub = await startTestHub(kind);
    await hub.services.users.create({ username: 'alice', email: 'alice@example.test', password: 'alice-password-1' });
    await hub.services.users.create({ username: 'bob', email: 'bob@example.test', password: 'bob-password-1', name: 'Bob Builder' });
  });
  afterAll(() => hub.close());

  /** What a browser says of a form on one of the hub's own pages. */
  const FROM_THE_HUB = { 'sec-fetch-site': 'same-origin' };

  /** Tab 2: the hub's sign-out question (/logout, then oidc-provider's form); returns its xsrf token. */
  async function openQuestion(browser: TestBrowser, headers: Record<string, string>): Promise<string> {
    const logout = await browser.get(`${hub.url}/logout`, headers);
    await logout.arrayBuffer();
    expect(logout.status).toBe(303);
    const page = await browser.get(new URL(logout.headers.get('location')!, hub.url).toString(), headers);
    const html = await page.text();
    expect(html).toContain('data-testid="confirm-logout"');
    return inputValue(html, 'xsrf');
  }

  // An outside review (Chromium): "Yes, sign me out" in tab 2 after tab 1 had signed out was a
  // 400 "could not find logout details — invalid_request"; in Chinese it blamed "the site you came from".
  test.each([
    ['en', 'You are signed out', 'could not find logout details'],
    ['zh-CN', '您已退出登录', '您来自的网站发出的请求无效'],
  ])('signed out in another tab meanwhile: "Yes" shows the signed-out page (%s)', async (language, heading, oldError) => {
    const headers = { 'accept-language': language };
    const browser = await signInAtPortal(hub, 'alice', 'alice-password-1');
    const xsrf = await openQuestion(browser, headers);
    await signOut(browser, hub.url); // tab 1
    expect(await isSignedIn(browser, hub.url)).toBe(false);
    const answer = await browser.post(`${hub.url}/session/end/confirm`, { xsrf, logout: 'yes' }, { ...headers, ...FROM_THE_HUB });
    const html = await answer.text();
    expect(answer.status).toBe(200);
    expect(answer.headers.get('cache-control')).toContain('no-store');
    expect(html).toContain('data-testid="signed-out"');
    expect(html).toContain(heading);
    expect(html).not.toContain(oldError);
    expect(html).not.toContain('invalid_request');
  });

  test('another user signed in meanwhile: the old question asks again, for that user, who stays signed in', async () => {
    const browser = await signInAtPortal(hub, 'alice', 'alice-password-1');
    const xsrf = await openQuestion(browser, {});
    await signOut(browser, hub.url); // tab 1: alice signs out, bob signs in
    await signInAtPortal(hub, 'bob', 'bob-password-1', browser);
    const answer = await browser.post(`${hub.url}/session/end/confirm`, { xsrf, logout: 'yes' }, FROM_THE_HUB);
    const html = await answer.text();
    // Not "you are signed out" (bob is not), and not the 400: the question again, for bob's session.
    expect(answer.status).toBe(303);
    expect(answer.headers.get('location')).toBe('/logout');
    expect(html).not.toContain('You are signed out');
    expect(html).not.toContain('invalid_request');
    expect(html).not.toContain('synclogout'); // no sign-out beacons for bob's subsites
    const account = await browser.get(`${hub.url}/account`);
    expect(account.status).toBe(200);
    expect(await account.text()).toContain('Bob Builder');
  });

  test('another site\'s form POSTed there (no hub cookie: SameSite=Lax) gets the error page, not "You are signed out", and the user stays signed in', async () => {
    const browser = await signInAtPortal(hub, 'alice', 'alice-password-1');
    const crossSite = await new TestBrowser().post(`${hub.url}/session/end/confirm`, { xsrf: 'x', logout: 'yes' }, { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site', 'sec-fetch-dest': 'document' });
    const html = await crossSite.text();
    expect(crossSite.status).toBe(400);
    expect(html).not.toContain('data-testid="signed-out"');
    // A browser without Fetch Metadata: its Origin decides.
    const noMetadata = await new TestBrowser().post(`${hub.url}/session/end/confirm`, { xsrf: 'x', logout: 'yes' }, { origin: 'https://evil.example' });
    expect(noMetadata.status).toBe(400);
    await noMetadata.arrayBuffer();
    const sameOrigin = await new TestBrowser().post(`${hub.url}/session/end/confirm`, { xsrf: 'x', logout: 'yes' }, { origin: new URL(hub.url).origin });
    expect(sameOrigin.status).toBe(200);
    expect(await sameOrigin.text()).toContain('data-testid="signed-out"');
    expect(await isSignedIn(browser, hub.url)).toBe(true);
  });

  test('a wrong xsrf token still gets the error page, and nobody is signed out', async () => {
    const browser = await signInAtPortal(hub, 'alice', 'alice-password-1');
    await openQuestion(browser, {});
    const answer = await browser.post(`${hub.url}/session/end/confirm`, { xsrf: 'not-the-token', logout: 'yes' });
    const html = await answer.text();
    expect(answer.status).toBe(400);
    expect(html).toContain('invalid_request');
    expect(html).not.toContain('data-testid="signed-out"');
    expect(await isSignedIn(browser, hub.url)).toBe(true);
  });
});
