import { TestBrowser } from '../src/testing/browser.js';
import { startTestHub, STORE_KINDS, type RunningHub } from '../src/testing/test-hub.js';
import { authUrl, basic, codeRequest, postForm, walk } from './support.js';

const REDIRECT = 'http://rp.test/cb';
const ALICE = { login: 'alice', password: 'wonderland-123' };
const TTL = 4; // HUB_SESSION_TTL and HUB_ACCESS_TOKEN_TTL, in seconds: a client without refresh keeps its grant 8 s
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A client that may not refresh has its grant kept HUB_SESSION_TTL + HUB_ACCESS_TOKEN_TTL from
 * when it was made (grant-ttl.ts), while the hub session slides with every use. A session used
 * past that (13 h by default) kept the first grant, and an access token issued late in the
 * grant's life was refused ('invalid token' at userinfo) once the grant ended, with most of its
 * own lifetime left. The grant is now kept its full life again when reused near its end.
 */
describe.each(STORE_KINDS)('an access token issued late in its grant\'s life (%s)', (kind) => {
  let hub: RunningHub;
  let auth: string;

  beforeAll(async () => {
    hub = await startTestHub(kind, { HUB_SESSION_TTL: String(TTL), HUB_ACCESS_TOKEN_TTL: String(TTL) });
    await hub.services.users.create({ username: 'alice', email: 'alice@example.test', password: ALICE.password });
    const registered = await hub.services.clients.register({ clientId: 'rp', trusted: true, redirectUris: [REDIRECT], grantTypes: ['authorization_code'] });
    auth = basic('rp', registered.clientSecret!);
  });
  afterAll(() => hub.close());

  test('works for its own lifetime while the session is kept in use', async () => {
    const browser = new TestBrowser();
    const signIn = async () => {
      const request = codeRequest('rp', REDIRECT, { scope: 'openid' });
      const { callback } = await walk(browser, hub.url, authUrl(hub.url, request.params), ALICE);
      return postForm(`${hub.url}/token`, { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, code_verifier: request.verifier, redirect_uri: REDIRECT }, { authorization: auth });
    };
    let tokens = await signIn();
    // Back at the site every 2 s: the session slides; the grant was made at the first sign-in.
    for (let i = 0; i < 3; i += 1) {
      await sleep(2_000);
      tokens = await signIn();
      expect(tokens.status).toBe(200);
    }
    expect(tokens.body.refresh_token).toBeUndefined();
    await sleep(2_500); // past the first grant's 8 s; the last token has about 1.5 s left
    const userinfo = await fetch(`${hub.url}/me`, { headers: { authorization: `Bearer ${String(tokens.body.access_token)}` } });
    expect(userinfo.status).toBe(200);
  }, 60_000);
});
