/**
 * Removing a client ends what it was given: registering the same id again (for another site,
 * with a new secret) must not bring back the removed client's tokens, grants or the users'
 * consents. Before, the old access token answered 200 at /me again, the old refresh token
 * worked with the new secret and `prompt=none` gave the new site a code with no consent page.
 */
import { TestBrowser } from '../src/testing/browser.js';
import { startTestHub, STORE_KINDS, type RunningHub } from '../src/testing/test-hub.js';
import { authUrl, basic, codeRequest, postForm, walk } from './support.js';

const OLD_SITE = 'http://app1.test/sso/callback';
const NEW_SITE = 'http://other.test/sso/callback';
const ALICE = { login: 'alice', password: 'alice-password-1' };

describe.each(STORE_KINDS)('clients and the hub sessions their tokens belong to (%s)', (kind) => {
  let hub: RunningHub;
  beforeAll(async () => {
    hub = await startTestHub(kind);
    await hub.services.users.create({ username: 'alice', email: 'alice@example.test', password: ALICE.password });
  });
  afterAll(() => hub.close());

  test('inherits no token, grant or consent of the removed one', async () => {
    const { clients, consents, users } = hub.services;
    const first = await clients.register({ clientId: 'tmpc', name: 'Temp', redirectUris: [OLD_SITE], grantTypes: ['authorization_code', 'refresh_token'] });
    const browser = new TestBrowser();
    const request = codeRequest('tmpc', OLD_SITE, { scope: 'openid profile offline_access', prompt: 'consent' });
    const { callback, sawConsent } = await walk(browser, hub.url, authUrl(hub.url, request.params), ALICE);
    expect(sawConsent).toBe(true);
    const tokens = await postForm(`${hub.url}/token`, { grant_type: 'authorization_code', code: callback!.searchParams.get('code')!, code_verifier: request.verifier, redirect_uri: OLD_SITE }, { authorization: basic('tmpc', first.clientSecret!) });
    expect(tokens.status).toBe(200);
    expect(tokens.body.refresh_token).toEqual(expect.any(String));
    const accessToken = tokens.body.access_token as string;
    const alice = (await users.findByLogin('alice'))!;
    expect((await consents.clientsOf(alice.id)).map((c) => c.clientId)).toContain('tmpc');

    await clients.remove('tmpc');
    // At once, in the same second: a registration is told apart by its generation, not by a clock.
    const second = await clients.register({ clientId: 'tmpc', name: 'Someone else', redirectUris: [NEW_SITE], grantTypes: ['authorization_code', 'refresh_token'] });

    const me = await fetch(`${hub.url}/me`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(me.status).toBe(401);
    const refreshed = await postForm(`${hub.url}/token`, { grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token as string }, { authorization: basic('tmpc', second.clientSecret!) });
    expect(refreshed.status).toBe(400);
    expect(refreshed.body.error).toBe('invalid_grant');
    const introspected = await postForm(`${hub.url}/token/introspection`, { token: accessToken }, { authorization: basic('tmpc', second.clientSecret!) });
    expect(introspected.body.active).toBe(false);

    // The user's consent was to the removed client: the new one is not in the sites she uses, and
    // a silent request gets no code (consent_required), not a code at the new site.
    expect((await consents.clientsOf(alice.id)).map((c) => c.clientId)).not.toContain('tmpc');
    expect(await consents.find(alice.id, 'tmpc')).toBeNull();
    const silent = codeRequest('tmpc', NEW_SITE, { prompt: 'none' });
    const answer = await browser.get(authUrl(hub.url, silent.params));
    await answer.arrayBuffer();
    const location = new URL(answer.headers.get('location')!, hub.url);
    expect(location.origin + location.pathname).toBe(NEW_SITE);
    expect(location.searchParams.get('code')).toBeNull();
    expect(location.searchParams.get('error')).toBe('consent_required');

    // Consenting again works, and the new tokens are good.
    const fresh = codeRequest('tmpc', NEW_SITE);
    const again = await walk(browser, hub.url, authUrl(hub.url, fresh.params), ALICE);
    expect(again.sawConsent).toBe(true);
    const newTokens = await postForm(`${hub.url}/token`, { grant_type: 'authorization_code', code: again.callback!.searchParams.get('code')!, code_verifier: fresh.verifier, redirect_uri: NEW_SITE }, { authorization: basic('tmpc', second.clientSecret!) });
    expect((await fetch(`${hub.url}/me`, { headers: { authorization: `Bearer ${newTokens.body.access_token as string}` } })).status).toBe(200);
  });

  test('every client gets `sid`, not only those registered for back-channel logout', async () => {
    // The kit ties a local session to its hub session by it, so that a sync code of another hub
    // session cannot end it. oidc-provider gives `sid` only to back-channel clients by default.
    const client = await hub.services.clients.register({ clientId: 'plainsite', trusted: true, redirectUris: [OLD_SITE], syncLoginUrl: 'http://app1.test/sso/synclogin', syncLogoutUrl: 'http://app1.test/sso/synclogout' });
    const request = codeRequest('plainsite', OLD_SITE);
    const { callback } = await walk(new TestBrowser(), hub.url, authUrl(hub.url, request.params), ALICE);
    const tokens = await postForm(`${hub.url}/token`, { grant_type: 'authorization_code', code: callback!.searchParams.get('code')!, code_verifier: request.verifier, redirect_uri: OLD_SITE }, { authorization: basic('plainsite', client.clientSecret!) });
    const claims = JSON.parse(Buffer.from(String(tokens.body.id_token).split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(claims.sid).toEqual(expect.any(String));
  });
});
