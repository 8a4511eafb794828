import { TestBrowser } from '../src/testing/browser.js';
import { startTestHub, STORE_KINDS, type RunningHub } from '../src/testing/test-hub.js';
import { authUrl, basic, codeRequest, postForm, walk } from './support.js';

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
