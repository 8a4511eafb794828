/**
 * Several tabs of one site reloaded together after a sign-in at the hub: each starts its own
 * silent check (`prompt=none`) with the same hub session, at once, and each gets a code. Every
 * code must then be exchanged: before, the concurrent requests each made the session a new grant
 * for the client and the session kept only the last one it saved, so all codes but one were
 * refused at the token endpoint (invalid_grant) and those tabs showed "Sign-in failed" (a kit
 * review in Chromium, 2 of 3 tabs).
 */
import { TestBrowser } from '../src/testing/browser.js';
import { startTestHub, STORE_KINDS, type RunningHub } from '../src/testing/test-hub.js';
import { authUrl, basic, codeRequest, postForm, walk } from './support.js';

const SITE = 'http://tabs.test/sso/callback';
const OTHER_SITE = 'http://elsewhere.test/sso/callback';
const ALICE = { login: 'alice', password: 'alice-password-1' };

describe.each(STORE_KINDS)('silent checks of one session and client at once (%s)', (kind) => {
  let hub: RunningHub;
  let secret: string;
  beforeAll(async () => {
    hub = await startTestHub(kind);
    await hub.services.users.create({ username: 'alice', email: 'alice@example.test', password: ALICE.password });
    secret = (await hub.services.clients.register({ clientId: 'tabs', name: 'Tabs', redirectUris: [SITE], grantTypes: ['authorization_code', 'refresh_token'], trusted: true })).clientSecret!;
    await hub.services.clients.register({ clientId: 'elsewhere', name: 'Elsewhere', redirectUris: [OTHER_SITE], grantTypes: ['authorization_code'], trusted: true });
  });
  afterAll(() => hub.close());

  test('every code is exchanged, and the tokens share one grant', async () => {
    const browser = new TestBrowser();
    // Signed in at the hub through another site: the session has no grant for "tabs" yet, so
    // each silent request of the first round finds none and makes one.
    const first = codeRequest('elsewhere', OTHER_SITE, { scope: 'openid profile' });
    const { callback } = await walk(browser, hub.url, authUrl(hub.url, first.params), ALICE);
    expect(callback.searchParams.get('code')).toBeTruthy();
    for (let round = 0; round < 2; round += 1) {
      const requests = Array.from({ length: 4 }, () => codeRequest('tabs', SITE, { scope: 'openid profile', prompt: 'none' }));
      const answers = await Promise.all(requests.map(async (request) => {
        const answer = await browser.get(authUrl(hub.url, request.params));
        await answer.arrayBuffer();
        return new URL(answer.headers.get('location')!, hub.url);
      }));
      const exchanged = await Promise.all(answers.map((location, i) => {
        expect(location.searchParams.get('error')).toBeNull();
        return postForm(`${hub.url}/token`, { grant_type: 'authorization_code', code: location.searchParams.get('code')!, code_verifier: requests[i]!.verifier, redirect_uri: SITE }, { authorization: basic('tabs', secret) });
      }));
      expect(exchanged.map((t) => t.status)).toEqual([200, 200, 200, 200]);
      for (const tokens of exchanged) {
        const me = await fetch(`${hub.url}/me`, { headers: { authorization: `Bearer ${tokens.body.access_token as string}` } });
        expect(me.status).toBe(200);
      }
      // One sign-in session, one grant for the site: the others made at once were removed.
      const alice = (await hub.services.users.findByLogin('alice'))!;
      expect(await hub.services.grants.list(alice.id, 'tabs')).toHaveLength(1);
    }
  });
});
