import { TestBrowser } from '../src/testing/browser.js';
import { withdrawConsent } from '../src/oidc/revoke-grant.js';
import { startTestHub, STORE_KINDS, type RunningHub } from '../src/testing/test-hub.js';
import { authUrl, basic, codeRequest, postForm, signOut, walk } from './support.js';

const REDIRECT = 'http://rp.test/cb';
const BOB = { login: 'bob', password: 'bob-password-123' };

interface Device {
  browser: TestBrowser;
  accessToken: string;
  refreshToken: string;
}

/**
 * Issue 9 §6: a grant per sign-in session. Two browsers of the same user hold tokens of
 * their own grants: signing out, a reuse or a revocation on one leaves the other working;
 * the account-wide actions (end all sessions, forced logout, consent withdrawal) end both.
 */
describe.each(STORE_KINDS)('one grant per sign-in session: two devices of one user (%s)', (kind) => {
  let hub: RunningHub;
  let auth: string;
  let bobId: string;

  beforeAll(async () => {
    hub = await startTestHub(kind);
    bobId = (await hub.services.users.create({ username: 'bob', email: 'bob@example.test', password: BOB.password })).id;
    // A third-party client: asks for consent once, then remembers it.
    const client = await hub.services.clients.register({ clientId: 'rp', name: 'Third party', redirectUris: [REDIRECT] });
    auth = basic('rp', client.clientSecret!);
  });
  afterAll(() => hub.close());

  const token = (form: Record<string, string>) => postForm(`${hub.url}/token`, form, { authorization: auth });
  const userinfo = async (accessToken: string) => (await fetch(`${hub.url}/me`, { headers: { authorization: `Bearer ${accessToken}` } })).status;

  async function code(browser: TestBrowser): Promise<{ code: string; verifier: string; sawConsent: boolean }> {
    const request = codeRequest('rp', REDIRECT, { scope: 'openid profile' });
    const walked = await walk(browser, hub.url, authUrl(hub.url, request.params), BOB);
    return { code: walked.callback.searchParams.get('code')!, verifier: request.verifier, sawConsent: walked.sawConsent };
  }

  async function signIn(): Promise<Device & { sawConsent: boolean }> {
    const browser = new TestBrowser();
    const issued = await code(browser);
    const answer = await token({ grant_type: 'authorization_code', code: issued.code, code_verifier: issued.verifier, redirect_uri: REDIRECT });
    expect(answer.status).toBe(200);
    return { browser, accessToken: String(answer.body.access_token), refreshToken: String(answer.body.refresh_token), sawConsent: issued.sawConsent };
  }

  async function expectWorking(device: Device): Promise<void> {
    expect(await userinfo(device.accessToken)).toBe(200);
    const refreshed = await token({ grant_type: 'refresh_token', refresh_token: device.refreshToken });
    expect(refreshed.status).toBe(200);
    device.accessToken = String(refreshed.body.access_token);
    device.refreshToken = String(refreshed.body.refresh_token);
  }

  async function expectEnded(device: Device): Promise<void> {
    expect(await userinfo(device.accessToken)).toBe(401);
    expect((await token({ grant_type: 'refresh_token', refresh_token: device.refreshToken })).body.error).toBe('invalid_grant');
  }

  test('consent is asked once for the user, not once per device', async () => {
    const first = await signIn();
    const second = await signIn();
    expect(second.sawConsent).toBe(false);
    await expectWorking(first);
    await expectWorking(second);
  });

  test('signing out on one device leaves the other device signed in to the client', async () => {
    const phone = await signIn();
    const laptop = await signIn();
    expect((await signOut(phone.browser, hub.url)).status).toBe(200);
    await expectEnded(phone);
    await expectWorking(laptop);
  });

  test('a refresh token reused on one device revokes that device only (RFC 9700 §4.14.2)', async () => {
    const phone = await signIn();
    const laptop = await signIn();
    const stale = phone.refreshToken;
    await expectWorking(phone);
    expect((await token({ grant_type: 'refresh_token', refresh_token: stale })).body.error).toBe('invalid_grant');
    await expectEnded(phone);
    await expectWorking(laptop);
  });

  test('a code replayed on one device revokes that device only (RFC 6749 §4.1.2)', async () => {
    const laptop = await signIn();
    const phone = new TestBrowser();
    const issued = await code(phone);
    const form = { grant_type: 'authorization_code', code: issued.code, code_verifier: issued.verifier, redirect_uri: REDIRECT };
    const first = await token(form);
    expect(first.status).toBe(200);
    expect((await token(form)).body.error).toBe('invalid_grant');
    expect(await userinfo(String(first.body.access_token))).toBe(401);
    await expectWorking(laptop);
  });

  test('revoking a refresh token on one device (RFC 7009) leaves the other working', async () => {
    const phone = await signIn();
    const laptop = await signIn();
    const revoked = await postForm(`${hub.url}/token/revocation`, { token: phone.refreshToken, token_type_hint: 'refresh_token' }, { authorization: auth });
    expect(revoked.status).toBe(200);
    await expectEnded(phone);
    await expectWorking(laptop);
  });

  test('revoking an access token on one device (RFC 7009) ends that device\'s grant (its refresh token too, as RFC 7009 allows) and leaves the other working', async () => {
    // An outside review: the README said only that access token ended; oidc-provider revokes
    // every token of its grant, which is what the README now says, and this checks.
    const phone = await signIn();
    const laptop = await signIn();
    const revoked = await postForm(`${hub.url}/token/revocation`, { token: phone.accessToken, token_type_hint: 'access_token' }, { authorization: auth });
    expect(revoked.status).toBe(200);
    await expectEnded(phone);
    await expectWorking(laptop);
  });

  test("an admin's end all sessions ends every device", async () => {
    const phone = await signIn();
    const laptop = await signIn();
    await hub.services.lifecycle.endAllSessions(bobId);
    await expectEnded(phone);
    await expectEnded(laptop);
  });

  test('withdrawing consent ends every device, and the next sign-in asks again', async () => {
    const phone = await signIn();
    const laptop = await signIn();
    const { provider, consents, grants } = hub.services;
    await withdrawConsent(provider, consents, grants, bobId, 'rp');
    await expectEnded(phone);
    await expectEnded(laptop);
    expect((await signIn()).sawConsent).toBe(true);
  });

  test('a forced logout (password reset, disable) ends every device', async () => {
    const phone = await signIn();
    const laptop = await signIn();
    await hub.services.lifecycle.forceLogout(bobId, 'disabled');
    await expectEnded(phone);
    await expectEnded(laptop);
  });
});
