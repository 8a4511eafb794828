import * as oidc from 'openid-client';
import { TestBrowser } from '../src/testing/browser.js';
import { authorize } from '../src/testing/flows.js';
import { startTestHub, STORE_KINDS, type RunningHub } from '../src/testing/test-hub.js';

const REDIRECT = 'http://rp.test/cb';
const POST_LOGOUT = 'http://rp.test/bye';

describe.each(STORE_KINDS)('openid-client (a certified RP nobody here wrote) against the hub on %s', (kind) => {
  let hub: RunningHub;
  let secret: string;

  beforeAll(async () => {
    hub = await startTestHub(kind);
    await hub.services.users.create({ username: 'alice', email: 'alice@example.test', name: 'Alice Liddell', password: 'wonderland-123' });
    const client = await hub.services.clients.register({
      clientId: 'rp',
      name: 'Relying Party',
      redirectUris: [REDIRECT],
      postLogoutRedirectUris: [POST_LOGOUT],
      grantTypes: ['authorization_code', 'refresh_token'],
    });
    secret = client.clientSecret!;
  });
  afterAll(() => hub.close());

  test('pushed authorization requests (RFC 9126): the endpoint discovery names answers, and its request_uri signs in', async () => {
    // Before, discovery named {issuer}/request but the hub answered its HTML 404 page there.
    const config = await oidc.discovery(new URL(hub.url), 'rp', secret, undefined, { execute: [oidc.allowInsecureRequests] });
    expect(config.serverMetadata().pushed_authorization_request_endpoint).toBe(`${hub.url}/request`);
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const authUrl = await oidc.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: REDIRECT,
      scope: 'openid profile',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });
    expect(authUrl.searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:/);
    const callback = await authorize(new TestBrowser(), hub.url, authUrl.toString(), { login: 'alice', password: 'wonderland-123' });
    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
    expect(tokens.claims()!.sub).toBeTruthy();
    // Bad input there is an RFC 6749 error in JSON, not a page.
    const refused = await fetch(`${hub.url}/request`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`rp:${secret}`).toString('base64')}` }, body: 'response_type=code&scope=openid&redirect_uri=http%3A%2F%2Fevil.test%2Fcb' });
    expect(refused.status).toBe(400);
    expect(refused.headers.get('content-type')).toMatch(/application\/json/);
    expect(await refused.json()).toMatchObject({ error: expect.any(String) });
    const wrongMethod = await fetch(`${hub.url}/request`);
    expect(wrongMethod.status).toBe(405);
  });

  test('discovery, authorize + PKCE, token, userinfo, refresh, revoke, end-session', async () => {
    const config = await oidc.discovery(new URL(hub.url), 'rp', secret, undefined, { execute: [oidc.allowInsecureRequests] });
    expect(config.serverMetadata().issuer).toBe(hub.url);
    expect(config.serverMetadata().code_challenge_methods_supported).toEqual(['S256']);

    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const authUrl = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'openid profile email',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    const browser = new TestBrowser();
    const callback = await authorize(browser, hub.url, authUrl.toString(), { login: 'alice', password: 'wonderland-123' });
    expect(callback.origin + callback.pathname).toBe(REDIRECT);

    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
    const claims = tokens.claims()!;
    expect(claims.iss).toBe(hub.url);
    expect(claims.aud).toBe('rp');
    expect(tokens.refresh_token).toBeTruthy();

    const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    expect(info).toMatchObject({ sub: claims.sub, email: 'alice@example.test', name: 'Alice Liddell', preferred_username: 'alice' });

    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token); // rotated

    await oidc.tokenRevocation(config, refreshed.access_token);
    const introspected = await oidc.tokenIntrospection(config, refreshed.access_token);
    expect(introspected.active).toBe(false);

    const endSession = oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: POST_LOGOUT });
    const confirmPage = await browser.get(endSession.toString());
    const html = await confirmPage.text();
    expect(html).toContain('data-autosubmit');
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)![1]!;
    const done = await browser.post(`${hub.url}/session/end/confirm`, { xsrf, logout: 'yes' });
    expect(done.status).toBe(200);
    const sync = await done.text();
    expect(sync).toContain(`data-continue="${POST_LOGOUT}"`);

    // The hub session is gone: a silent request now answers login_required.
    const silent = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'openid',
      prompt: 'none',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });
    const answer = await browser.follow(silent.toString());
    const landed = new URL(answer.url);
    expect(landed.origin + landed.pathname).toBe(REDIRECT);
    expect(landed.searchParams.get('error')).toBe('login_required');
  });
});
