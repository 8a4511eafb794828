/**
 * The hub's OAuth 2.0 / OpenID Connect behaviour, checked on the wire against the specs it
 * claims (RFC 6749, RFC 7636, RFC 7009, RFC 7662, RFC 9700) and the hub's own rules on
 * consent and single sign-on. Every block runs against the embedded store and a real Redis.
 */
import { AuthorizationCode } from 'simple-oauth2';
import { TestBrowser, attribute, inputValue } from '../src/testing/browser.js';
import { startTestHub, testStoreKinds, type RunningHub } from '../src/testing/test-hub.js';
import { authUrl, basic, codeRequest, isSignedIn, postForm, signOut, walk, type Credentials, type JsonAnswer } from './support.js';

const REDIRECT = 'http://rp.test/cb';
const ALICE: Credentials = { login: 'alice', password: 'wonderland-123' };

interface Tokens {
  access_token: string;
  refresh_token: string;
  id_token: string;
}

// TEST_STORE_KINDS picks the stores (protocol-cluster.test.ts runs it on a cluster and Sentinel).
describe.each(testStoreKinds())('OAuth 2.0 / OIDC protocol on %s', (kind) => {
  let hub: RunningHub;
  const secrets = new Map<string, string>();

  const endpoint = (path: string) => `${hub.url}${path}`;
  const auth = (clientId: string) => ({ authorization: basic(clientId, secrets.get(clientId)!) });

  /** Exchanges a code at the token endpoint with Basic client authentication. */
  function exchange(clientId: string, code: string, verifier: string, redirectUri = REDIRECT): Promise<JsonAnswer> {
    return postForm(endpoint('/token'), { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier }, auth(clientId));
  }

  function refresh(clientId: string, refreshToken: string): Promise<JsonAnswer> {
    return postForm(endpoint('/token'), { grant_type: 'refresh_token', refresh_token: refreshToken }, auth(clientId));
  }

  function introspect(clientId: string, token: string): Promise<JsonAnswer> {
    return postForm(endpoint('/token/introspection'), { token }, auth(clientId));
  }

  async function userinfoStatus(accessToken: string): Promise<number> {
    const response = await fetch(endpoint('/me'), { headers: { authorization: `Bearer ${accessToken}` } });
    await response.arrayBuffer();
    return response.status;
  }

  /** Signs in a fresh browser and returns a code for `clientId` and its PKCE verifier. */
  async function codeFor(clientId: string, browser = new TestBrowser(), credentials = ALICE) {
    const request = codeRequest(clientId, REDIRECT);
    const { callback } = await walk(browser, hub.url, authUrl(hub.url, request.params), credentials);
    expect(callback.origin + callback.pathname).toBe(REDIRECT);
    expect(callback.searchParams.get('state')).toBe(request.params.state);
    const code = callback.searchParams.get('code');
    expect(code).toBeTruthy();
    return { code: code!, verifier: request.verifier, browser };
  }

  async function tokensFor(clientId: string): Promise<Tokens> {
    const { code, verifier } = await codeFor(clientId);
    const answer = await exchange(clientId, code, verifier);
    expect(answer.status).toBe(200);
    const tokens = answer.body as unknown as Tokens;
    expect(tokens.access_token).toBeTruthy();
    expect(tokens.refresh_token).toBeTruthy();
    return tokens;
  }

  async function expectRevoked(clientId: string, tokens: { access_token: string; refresh_token: string }) {
    expect((await introspect(clientId, tokens.access_token)).body).toEqual({ active: false });
    expect((await introspect(clientId, tokens.refresh_token)).body).toEqual({ active: false });
    expect(await userinfoStatus(tokens.access_token)).toBe(401);
    const again = await refresh(clientId, tokens.refresh_token);
    expect(again.status).toBe(400);
    expect(again.body.error).toBe('invalid_grant');
  }

  beforeAll(async () => {
    hub = await startTestHub(kind);
    const { users, clients } = hub.services;
    await users.create({ username: 'alice', email: 'alice@example.test', name: 'Alice', password: ALICE.password });
    const register = async (input: Parameters<typeof clients.register>[0]) => {
      const client = await clients.register(input);
      if (client.clientSecret) secrets.set(client.clientId, client.clientSecret);
    };
    await register({ clientId: 'rp', name: 'Relying Party', redirectUris: [REDIRECT], grantTypes: ['authorization_code', 'refresh_token'] });
    await register({ clientId: 'rp-other', name: 'Other RP', redirectUris: [REDIRECT], grantTypes: ['authorization_code', 'refresh_token'] });
    await register({
      clientId: 'rp-post',
      name: 'Posting RP',
      redirectUris: [REDIRECT],
      grantTypes: ['authorization_code', 'refresh_token'],
      tokenEndpointAuthMethod: 'client_secret_post',
    });
    await register({ clientId: 'first-party', name: 'First Party', redirectUris: [REDIRECT], trusted: true });
    await register({ clientId: 'legacy-rp', name: 'Legacy RP', redirectUris: [REDIRECT], requirePkce: false });
    await register({ clientId: 'public-rp', name: 'Public RP', redirectUris: [REDIRECT], tokenEndpointAuthMethod: 'none', requirePkce: false });
    await register({ clientId: 'service', name: 'Service', grantTypes: ['client_credentials'] });
    await register({ clientId: 'native-app', name: 'Native app', redirectUris: ['http://127.0.0.1/callback'], tokenEndpointAuthMethod: 'none' });
    await register({ clientId: 'loopback-web', name: 'Loopback web', redirectUris: ['http://127.0.0.1:8400/callback'] });
    await register({ clientId: 'service-2', name: 'Another service', grantTypes: ['client_credentials'] });
  });
  afterAll(() => hub.close());

  describe('RFC 6749 §3.1.2 / RFC 9700 §4.1 exact redirect URI matching', () => {
    const cases: [string, Record<string, string | undefined>][] = [
      ['a longer path', { redirect_uri: `${REDIRECT}/extra` }],
      ['an added query', { redirect_uri: `${REDIRECT}?x=1` }],
      ['a different host case', { redirect_uri: 'http://RP.test/cb' }],
      ['a fragment', { redirect_uri: `${REDIRECT}#f` }],
      ['no redirect_uri at all', { redirect_uri: undefined }],
      ['an unknown client', { client_id: 'nobody-registered-this' }],
    ];

    test.each(cases)('%s: an error page, never a redirect', async (_name, overrides) => {
      const { params } = codeRequest('rp', REDIRECT, overrides);
      const response = await new TestBrowser().get(authUrl(hub.url, params));
      const html = await response.text();
      expect(response.status).toBe(400);
      expect(response.headers.get('location')).toBeNull();
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      expect(html).toContain('data-testid="error-title"');
      // Nothing on the page leads there (the refused value may be shown as text, for the site's developer).
      expect(html).not.toMatch(/(?:href|action|src|content)="[^"]*rp\.test\/cb\?/i);
    });

    test('the registered URI itself is accepted (the cases above fail for the URI, not the request)', async () => {
      const { params } = codeRequest('rp', REDIRECT);
      const response = await new TestBrowser().get(authUrl(hub.url, params));
      await response.arrayBuffer();
      expect(response.status).toBe(303);
      expect(response.headers.get('location')).toMatch(/^\/interaction\//);
    });
  });

  describe('RFC 6749 §4.1.2 / §10.5 authorization code reuse', () => {
    test('a code works once; its second use is invalid_grant and revokes the tokens of the first', async () => {
      const { code, verifier } = await codeFor('rp');
      const first = await exchange('rp', code, verifier);
      expect(first.status).toBe(200);
      const tokens = first.body as unknown as Tokens;
      expect((await introspect('rp', tokens.access_token)).body.active).toBe(true);
      expect(await userinfoStatus(tokens.access_token)).toBe(200);

      const second = await exchange('rp', code, verifier);
      expect(second.status).toBe(400);
      expect(second.body.error).toBe('invalid_grant');
      await expectRevoked('rp', tokens);
    });

    test('a code is bound to its client: another client cannot redeem it', async () => {
      const { code, verifier } = await codeFor('rp');
      const stolen = await exchange('rp-other', code, verifier);
      expect(stolen.status).toBe(400);
      expect(stolen.body.error).toBe('invalid_grant');
    });
  });

  describe('RFC 8252 §7.3 / RFC 9700 §2.1 loopback redirect URIs of native apps', () => {
    test('a public client on the loopback interface may name any port; nothing else about the URI may differ', async () => {
      const redirect = 'http://127.0.0.1:53123/callback';
      const request = codeRequest('native-app', redirect);
      const { callback } = await walk(new TestBrowser(), hub.url, authUrl(hub.url, request.params), ALICE);
      expect(callback.origin + callback.pathname).toBe(redirect);
      const answer = await postForm(endpoint('/token'), { grant_type: 'authorization_code', client_id: 'native-app', code: callback.searchParams.get('code')!, redirect_uri: redirect, code_verifier: request.verifier });
      expect(answer.status).toBe(200);
      // Another path, or a confidential client's registered port: exact as ever (an error page).
      for (const [clientId, uri] of [['native-app', 'http://127.0.0.1:53123/other'], ['loopback-web', 'http://127.0.0.1:53123/callback']] as const) {
        const response = await new TestBrowser().get(authUrl(hub.url, codeRequest(clientId, uri).params));
        await response.arrayBuffer();
        expect(response.status).toBe(400);
      }
    });
  });

  describe('RFC 6749 §3.3 a request without a scope', () => {
    test('is processed with the default scope openid: tokens and an ID token (before: sign-in, then a bare access_denied)', async () => {
      const request = codeRequest('rp', REDIRECT, { scope: undefined });
      expect(authUrl(hub.url, request.params)).not.toContain('scope=');
      const { callback } = await walk(new TestBrowser(), hub.url, authUrl(hub.url, request.params), ALICE);
      expect(callback.searchParams.get('error')).toBeNull();
      const answer = await exchange('rp', callback.searchParams.get('code')!, request.verifier);
      expect(answer.status).toBe(200);
      expect(answer.body.scope).toBe('openid');
      expect(answer.body.id_token).toBeTruthy();
    });
  });

  describe('OIDC Core §3.1.2.1 prompt=select_account', () => {
    test('shows the sign-in page (where another account is chosen) and then answers with a code (before: invalid_request)', async () => {
      const { browser } = await codeFor('rp');
      for (const prompt of ['select_account', 'select_account consent']) {
        const request = codeRequest('rp', REDIRECT, { prompt });
        const { callback, sawLogin } = await walk(browser, hub.url, authUrl(hub.url, request.params), ALICE);
        expect(callback.searchParams.get('error')).toBeNull();
        expect(sawLogin).toBe(true);
        expect((await exchange('rp', callback.searchParams.get('code')!, request.verifier)).status).toBe(200);
      }
      // Still never with prompt=none.
      const silent = codeRequest('rp', REDIRECT, { prompt: 'none select_account' });
      const { callback } = await walk(browser, hub.url, authUrl(hub.url, silent.params));
      expect(callback.searchParams.get('error')).toBe('invalid_request');
    });

    test('in a pushed authorization request (RFC 9126) too', async () => {
      const { browser } = await codeFor('rp');
      const request = codeRequest('rp', REDIRECT, { prompt: 'select_account' });
      const pushed = await postForm(endpoint('/request'), request.params as Record<string, string>, auth('rp'));
      expect(pushed.status).toBe(201);
      const { callback, sawLogin } = await walk(browser, hub.url, authUrl(hub.url, { client_id: 'rp', request_uri: String(pushed.body.request_uri) }), ALICE);
      expect(callback.searchParams.get('error')).toBeNull();
      expect(sawLogin).toBe(true);
      expect((await exchange('rp', callback.searchParams.get('code')!, request.verifier)).status).toBe(200);
    });
  });

  describe('RFC 9126 pushed authorization requests', () => {
    test('a request_uri used once more is invalid_request_uri on the error page (RFC 9126 §4, RFC 9101 §6.2), not invalid_grant at the redirect URI, and revokes nothing', async () => {
      const { browser } = await codeFor('rp');
      const request = codeRequest('rp', REDIRECT);
      const pushed = await postForm(endpoint('/request'), request.params as Record<string, string>, auth('rp'));
      expect(pushed.status).toBe(201);
      const url = authUrl(hub.url, { client_id: 'rp', request_uri: String(pushed.body.request_uri) });
      const { callback } = await walk(browser, hub.url, url, ALICE);
      const tokens = await exchange('rp', callback.searchParams.get('code')!, request.verifier);
      expect(tokens.status).toBe(200);
      // As oidc-provider answers a request_uri it finds used: its page, no redirect (the redirect
      // URI is the used request's); before, invalid_grant at the redirect URI.
      const again = await browser.get(url);
      expect(again.status).toBe(400);
      expect(again.headers.get('location')).toBeNull();
      expect(await again.text()).toContain('invalid_request_uri');
      const userinfo = await fetch(endpoint('/me'), { headers: { authorization: `Bearer ${String(tokens.body.access_token)}` } });
      expect(userinfo.status).toBe(200);
    });
  });

  describe('RFC 7636 PKCE', () => {
    /** The error the hub sends back to the (valid) redirect URI for a bad authorization request. */
    async function authorizationError(overrides: Record<string, string | undefined>, clientId = 'rp') {
      const browser = new TestBrowser();
      const request = codeRequest(clientId, REDIRECT, overrides);
      const response = await browser.get(authUrl(hub.url, request.params));
      await response.arrayBuffer();
      expect(response.status).toBe(303);
      const location = new URL(response.headers.get('location')!);
      expect(location.origin + location.pathname).toBe(REDIRECT);
      expect(location.searchParams.get('code')).toBeNull();
      expect(location.searchParams.get('state')).toBe(request.params.state);
      return { error: location.searchParams.get('error'), description: location.searchParams.get('error_description') };
    }

    test('a confidential client registered with defaults must send a code_challenge', async () => {
      const answer = await authorizationError({ code_challenge: undefined, code_challenge_method: undefined });
      expect(answer.error).toBe('invalid_request');
      expect(answer.description).toMatch(/PKCE/i);
    });

    test('code_challenge_method=plain is refused', async () => {
      const answer = await authorizationError({ code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' });
      expect(answer.error).toBe('invalid_request');
    });

    test('a public client must send one too', async () => {
      const answer = await authorizationError({ code_challenge: undefined, code_challenge_method: undefined }, 'public-rp');
      expect(answer.error).toBe('invalid_request');
    });

    test('only a confidential client registered with requirePkce=false may leave it out', async () => {
      const { params } = codeRequest('legacy-rp', REDIRECT, { code_challenge: undefined, code_challenge_method: undefined });
      const { callback } = await walk(new TestBrowser(), hub.url, authUrl(hub.url, params), ALICE);
      const code = callback.searchParams.get('code');
      expect(code).toBeTruthy();
      const answer = await postForm(endpoint('/token'), { grant_type: 'authorization_code', code: code!, redirect_uri: REDIRECT }, auth('legacy-rp'));
      expect(answer.status).toBe(200);
      expect(answer.body.access_token).toBeTruthy();
    });

    test('the discovery document offers S256 only', async () => {
      const metadata = (await (await fetch(endpoint('/.well-known/openid-configuration'))).json()) as Record<string, unknown>;
      expect(metadata.code_challenge_methods_supported).toEqual(['S256']);
    });

    test('a wrong code_verifier at the token endpoint is invalid_grant, and a missing one too', async () => {
      const { code, verifier } = await codeFor('rp');
      const wrong = await exchange('rp', code, `${verifier.slice(0, -4)}AAAA`);
      expect(wrong.status).toBe(400);
      expect(wrong.body.error).toBe('invalid_grant');

      const { code: code2 } = await codeFor('rp');
      const missing = await postForm(endpoint('/token'), { grant_type: 'authorization_code', code: code2, redirect_uri: REDIRECT }, auth('rp'));
      expect(missing.status).toBe(400);
      expect(['invalid_grant', 'invalid_request']).toContain(missing.body.error);
    });
  });

  describe('RFC 9700 §4.14.2 refresh token rotation', () => {
    test('each refresh rotates; replaying a rotated token is invalid_grant and revokes the whole grant', async () => {
      const first = await tokensFor('rp');
      const rotated = await refresh('rp', first.refresh_token);
      expect(rotated.status).toBe(200);
      const second = rotated.body as unknown as Tokens;
      expect(second.refresh_token).toBeTruthy();
      expect(second.refresh_token).not.toBe(first.refresh_token);
      expect((await introspect('rp', second.access_token)).body.active).toBe(true);

      const replay = await refresh('rp', first.refresh_token);
      expect(replay.status).toBe(400);
      expect(replay.body.error).toBe('invalid_grant');

      // The newest pair, issued before the replay, stops working too.
      await expectRevoked('rp', second);
      expect(await userinfoStatus(first.access_token)).toBe(401);
    });
  });

  describe('RFC 6749 §2.3.1 / §5.2 client authentication', () => {
    test('a wrong secret with Basic auth is 401 invalid_client with WWW-Authenticate: Basic', async () => {
      const answer = await postForm(endpoint('/token'), { grant_type: 'refresh_token', refresh_token: 'whatever' }, { authorization: basic('rp', 'x'.repeat(43)) });
      expect(answer.status).toBe(401);
      expect(answer.headers.get('www-authenticate')).toMatch(/^Basic /);
      expect(answer.body.error).toBe('invalid_client');
      expect(answer.headers.get('cache-control')).toMatch(/no-store/);
      expect(answer.headers.get('pragma')).toBe('no-cache');
    });

    test('an unknown client with Basic auth is answered the same way', async () => {
      const answer = await postForm(endpoint('/token'), { grant_type: 'client_credentials' }, { authorization: basic('no-such-client', 'x'.repeat(43)) });
      expect(answer.status).toBe(401);
      expect(answer.headers.get('www-authenticate')).toMatch(/^Basic /);
      expect(answer.body.error).toBe('invalid_client');
    });

    test('client_secret_post works for a client registered with it', async () => {
      const { code, verifier } = await codeFor('rp-post');
      const answer = await postForm(endpoint('/token'), {
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
        client_id: 'rp-post',
        client_secret: secrets.get('rp-post')!,
      });
      expect(answer.status).toBe(200);
      expect(answer.body.access_token).toBeTruthy();
      expect(answer.body.token_type).toBe('Bearer');

      const wrong = await postForm(endpoint('/token'), {
        grant_type: 'refresh_token',
        refresh_token: String(answer.body.refresh_token),
        client_id: 'rp-post',
        client_secret: 'y'.repeat(43),
      });
      expect(wrong.status).toBe(401);
      expect(wrong.body.error).toBe('invalid_client');
    });
  });

  describe('RFC 6749 §3.1 parameters must not be included more than once', () => {
    test('client_id twice at the authorization endpoint is invalid_request (an error page, no redirect)', async () => {
      const { params } = codeRequest('rp', REDIRECT);
      const url = `${authUrl(hub.url, params)}&client_id=rp`;
      const response = await new TestBrowser().get(url);
      const html = await response.text();
      expect(response.status).toBe(400);
      expect(response.headers.get('location')).toBeNull();
      expect(html).toContain('invalid_request');
    });

    test('state twice (with a valid client and URI) is invalid_request too', async () => {
      const { params } = codeRequest('rp', REDIRECT);
      const response = await new TestBrowser().get(`${authUrl(hub.url, params)}&state=other`);
      const body = await response.text();
      const location = response.headers.get('location');
      // oidc-provider may report it at the redirect URI (client and URI are fine) or on a page.
      if (location) expect(new URL(location).searchParams.get('error')).toBe('invalid_request');
      else expect(body).toContain('invalid_request');
      expect(location ?? '').not.toContain('code=');
    });

    test('grant_type twice at the token endpoint is invalid_request', async () => {
      const answer = await postForm(endpoint('/token'), 'grant_type=client_credentials&grant_type=client_credentials', auth('service'));
      expect(answer.status).toBe(400);
      expect(answer.body.error).toBe('invalid_request');
    });
  });

  describe('RFC 6749 §5.2 unauthorized_client', () => {
    test('client_credentials from a client registered without it is unauthorized_client', async () => {
      const answer = await postForm(endpoint('/token'), { grant_type: 'client_credentials' }, auth('rp'));
      expect(answer.status).toBe(400);
      expect(answer.body.error).toBe('unauthorized_client');
    });

    test('no client authentication at all is invalid_client (401), on every endpoint that authenticates clients', async () => {
      for (const [path, body] of [['/token', { grant_type: 'client_credentials' }], ['/token/introspection', { token: 'x' }], ['/token/revocation', { token: 'x' }], ['/request', { response_type: 'code', scope: 'openid', redirect_uri: REDIRECT }]] as const) {
        const answer = await postForm(endpoint(path), { ...body });
        expect([path, answer.status, answer.body.error, answer.headers.get('www-authenticate')]).toEqual([path, 401, 'invalid_client', `Basic realm="${hub.url}", error="invalid_client", error_description="${answer.body.error_description}"`]);
      }
    });

    test('a failed client_secret_post names invalid_client in its WWW-Authenticate challenge, as a failed Basic header does', async () => {
      // oauth4webapi (and openid-client 6, express-openid-connect and Auth.js on top of it) report a
      // 401 that carries WWW-Authenticate by its challenge alone and never read the body: the
      // challenge the hub added for a failed client_secret_post had only a realm, so the client's
      // code saw no invalid_client where a failed Basic header showed one.
      const viaBasic = await postForm(endpoint('/token'), { grant_type: 'client_credentials' }, { authorization: basic('service', 'w'.repeat(43)) });
      const viaPost = await postForm(endpoint('/token'), { grant_type: 'client_credentials', client_id: 'service', client_secret: 'w'.repeat(43) });
      for (const answer of [viaBasic, viaPost]) {
        expect([answer.status, answer.body.error]).toEqual([401, 'invalid_client']);
        expect(answer.headers.get('www-authenticate')).toBe(`Basic realm="${hub.url}", error="invalid_client", error_description="${answer.body.error_description}"`);
      }
    });

    test("errors stay JSON when the client's Accept prefers HTML (Java's HttpURLConnection default: a review)", async () => {
      const accept = { accept: 'text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2' };
      const cases: [string, Record<string, string>, Record<string, string>, number, string][] = [
        ['/token', { grant_type: 'client_credentials' }, {}, 401, 'invalid_client'],
        ['/token', { grant_type: 'client_credentials' }, auth('rp'), 400, 'unauthorized_client'],
        ['/token', { grant_type: 'refresh_token', refresh_token: 'whatever' }, { authorization: basic('rp', 'x'.repeat(43)) }, 401, 'invalid_client'],
        ['/token', { grant_type: 'refresh_token', refresh_token: 'whatever' }, auth('rp'), 400, 'invalid_grant'],
        ['/token/introspection', { token: 'x' }, {}, 401, 'invalid_client'],
        ['/token/revocation', { token: 'x' }, {}, 401, 'invalid_client'],
        ['/request', { response_type: 'code', scope: 'openid', redirect_uri: REDIRECT }, {}, 401, 'invalid_client'],
        // oidc-provider's router takes one trailing slash, in any letter case (a review).
        ['/token/', { grant_type: 'client_credentials' }, {}, 401, 'invalid_client'],
        ['/Token/Introspection/', { token: 'x' }, {}, 401, 'invalid_client'],
      ];
      for (const [path, body, headers, status, error] of cases) {
        const answer = await postForm(endpoint(path), body, { ...headers, ...accept });
        expect([path, answer.status, answer.headers.get('content-type'), answer.body.error]).toEqual([path, status, 'application/json; charset=utf-8', error]);
      }
      for (const path of ['/me', '/me/']) {
        const userinfo = await fetch(endpoint(path), { headers: { authorization: 'Bearer not-a-token', ...accept } });
        expect([path, userinfo.status, userinfo.headers.get('content-type'), ((await userinfo.json()) as { error?: string }).error]).toEqual([path, 401, 'application/json; charset=utf-8', 'invalid_token']);
      }
    });

    test('authorization_code from a client registered with client_credentials only is refused', async () => {
      const answer = await postForm(endpoint('/token'), { grant_type: 'authorization_code', code: 'x', redirect_uri: REDIRECT, code_verifier: 'y'.repeat(43) }, auth('service'));
      expect(answer.status).toBe(400);
      expect(answer.body.error).toBe('unauthorized_client');
    });
  });

  describe('RFC 6749 §4.4 client credentials, RFC 7662 introspection, RFC 7009 revocation', () => {
    test('a client registered for client_credentials gets a token that it alone can introspect, until it revokes it', async () => {
      const issued = await postForm(endpoint('/token'), { grant_type: 'client_credentials' }, auth('service'));
      expect(issued.status).toBe(200);
      expect(issued.headers.get('cache-control')).toMatch(/no-store/);
      // RFC 6749 §5.1: and Pragma: no-cache (an outside review found it missing on successful answers).
      expect(issued.headers.get('pragma')).toBe('no-cache');
      const token = String(issued.body.access_token);
      expect(issued.body.token_type).toBe('Bearer');
      expect(issued.body.refresh_token).toBeUndefined();

      const own = await introspect('service', token);
      expect(own.status).toBe(200);
      expect(own.body).toMatchObject({ active: true, client_id: 'service' });

      // Another client learns nothing about a token that is not its own.
      const other = await introspect('service-2', token);
      expect(other.status).toBe(200);
      expect(other.body).toEqual({ active: false });
      const otherRp = await introspect('rp', token);
      expect(otherRp.body).toEqual({ active: false });

      // Nor can it revoke it.
      const foreignRevoke = await postForm(endpoint('/token/revocation'), { token }, auth('service-2'));
      expect(foreignRevoke.status).not.toBe(500);
      expect((await introspect('service', token)).body.active).toBe(true);

      const revoked = await postForm(endpoint('/token/revocation'), { token, token_type_hint: 'access_token' }, auth('service'));
      expect(revoked.status).toBe(200);
      expect((await introspect('service', token)).body).toEqual({ active: false });
    });

    test('revoking a refresh token ends it (RFC 7009 §2.1) and an unknown token revokes fine', async () => {
      const tokens = await tokensFor('rp');
      const revoked = await postForm(endpoint('/token/revocation'), { token: tokens.refresh_token }, auth('rp'));
      expect(revoked.status).toBe(200);
      expect((await introspect('rp', tokens.refresh_token)).body).toEqual({ active: false });
      const after = await refresh('rp', tokens.refresh_token);
      expect(after.body.error).toBe('invalid_grant');

      const unknown = await postForm(endpoint('/token/revocation'), { token: 'not-a-token-we-issued' }, auth('rp'));
      expect(unknown.status).toBe(200);
    });

    test("a revocation answers JSON ({}), which clients that read every answer as JSON take (simple-oauth2's revoke threw on oidc-provider's empty text/plain 200)", async () => {
      const tokens = await tokensFor('rp');
      const oauth = new AuthorizationCode({
        client: { id: 'rp', secret: secrets.get('rp')! },
        auth: { tokenHost: hub.url, tokenPath: '/token', revokePath: '/token/revocation' },
      });
      const token = oauth.createToken({ ...tokens });
      await expect(token.revokeAll()).resolves.toBeUndefined();
      expect((await introspect('rp', tokens.refresh_token)).body).toEqual({ active: false });
      const answer = await fetch(endpoint('/token/revocation'), { method: 'POST', headers: { ...auth('rp'), 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=unknown' });
      expect([answer.status, answer.headers.get('content-type'), await answer.text()]).toEqual([200, 'application/json; charset=utf-8', '{}']);
    });

    test('introspecting a JWT-shaped string (an ID token, a forged JWS) answers {"active": false}, not 400 unsupported_token_type (RFC 7662 §2.2)', async () => {
      const tokens = await tokensFor('rp');
      for (const token of [String(tokens.id_token), 'eyJhbGciOiJub25lIn0.eyJ9.x']) {
        const answer = await postForm(endpoint('/token/introspection'), { token }, auth('rp'));
        expect([answer.status, answer.body]).toEqual([200, { active: false }]);
      }
    });

    test('introspection and revocation need client authentication', async () => {
      const tokens = await tokensFor('rp');
      const anonymous = await postForm(endpoint('/token/introspection'), { token: tokens.access_token });
      expect(anonymous.status).toBe(401);
      expect(anonymous.body.error).toBe('invalid_client');
      const badSecret = await postForm(endpoint('/token/introspection'), { token: tokens.access_token }, { authorization: basic('rp', 'z'.repeat(43)) });
      expect(badSecret.status).toBe(401);
      expect(badSecret.body.error).toBe('invalid_client');
    });
  });

  describe('OpenID Connect Discovery 1.0 and the JWKS', () => {
    test('the discovery document names the issuer and every endpoint the hub serves', async () => {
      const response = await fetch(endpoint('/.well-known/openid-configuration'));
      expect(response.status).toBe(200);
      const metadata = (await response.json()) as Record<string, unknown>;
      // Only the client authentication a client can be registered with (an outside review: it
      // listed client_secret_jwt and private_key_jwt).
      expect(metadata.token_endpoint_auth_methods_supported).toEqual(['client_secret_basic', 'client_secret_post', 'none']);
      expect(metadata.issuer).toBe(hub.url);
      for (const name of [
        'authorization_endpoint',
        'token_endpoint',
        'userinfo_endpoint',
        'jwks_uri',
        'introspection_endpoint',
        'revocation_endpoint',
        'end_session_endpoint',
      ]) {
        expect(typeof metadata[name]).toBe('string');
        expect(String(metadata[name]).startsWith(`${hub.url}/`)).toBe(true);
      }
      expect(metadata.response_types_supported).toEqual(expect.arrayContaining(['code']));
      expect(metadata.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'refresh_token', 'client_credentials']));
      expect(metadata.grant_types_supported).not.toContain('password');
      expect(metadata.backchannel_logout_supported).toBe(true);
    });

    test('the JWKS holds public signing keys only', async () => {
      const metadata = (await (await fetch(endpoint('/.well-known/openid-configuration'))).json()) as { jwks_uri: string };
      const response = await fetch(metadata.jwks_uri);
      expect(response.status).toBe(200);
      const jwks = (await response.json()) as { keys: Record<string, unknown>[] };
      expect(jwks.keys.length).toBeGreaterThan(0);
      for (const key of jwks.keys) {
        expect(typeof key.kty).toBe('string');
        expect(typeof key.kid).toBe('string');
        for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) expect(key).not.toHaveProperty(secret);
      }
    });
  });

  describe('consent, remembered across sessions (OIDC Core §3.1.2.4)', () => {
    const CAROL: Credentials = { login: 'carol', password: 'carol-password-1' };

    beforeAll(async () => {
      await hub.services.users.create({ username: 'carol', email: 'carol@example.test', password: CAROL.password });
      const client = await hub.services.clients.register({ clientId: 'consent-rp', name: 'Consent RP', redirectUris: [REDIRECT] });
      secrets.set('consent-rp', client.clientSecret!);
    });

    const request = (clientId: string, scope = 'openid profile') => authUrl(hub.url, codeRequest(clientId, REDIRECT, { scope }).params);

    test('asked the first time; not again after signing out and in; asked again after withdrawing it on /account', async () => {
      const browser = new TestBrowser();
      const first = await walk(browser, hub.url, request('consent-rp'), CAROL);
      expect(first.sawLogin).toBe(true);
      expect(first.sawConsent).toBe(true);
      expect(first.callback.searchParams.get('code')).toBeTruthy();

      const signedOut = await signOut(browser, hub.url);
      expect(signedOut.status).toBe(200);
      expect(await isSignedIn(browser, hub.url)).toBe(false);

      const second = await walk(browser, hub.url, request('consent-rp'), CAROL);
      expect(second.sawLogin).toBe(true);
      expect(second.sawConsent).toBe(false);
      expect(second.callback.searchParams.get('code')).toBeTruthy();

      // A new browser (a new session altogether) does not ask either.
      const elsewhere = await walk(new TestBrowser(), hub.url, request('consent-rp'), CAROL);
      expect(elsewhere.sawLogin).toBe(true);
      expect(elsewhere.sawConsent).toBe(false);

      // Asking for more than was allowed asks again, for the new scope only.
      const more = await walk(browser, hub.url, request('consent-rp', 'openid profile email'), CAROL);
      expect(more.sawConsent).toBe(true);
      const consentPage = more.pages.find((page) => page.includes('/confirm"'))!;
      expect(consentPage).toContain('See your e-mail address');
      expect(consentPage).not.toContain('See your name and username');

      // Withdraw on the account page (a POST with the page's CSRF token).
      const account = await browser.get(`${hub.url}/account`);
      const html = await account.text();
      expect(account.status).toBe(200);
      expect(html).toContain('Consent RP');
      const action = attribute(html, /action="(\/account\/consents\/consent-rp\/revoke)"/);
      const withoutToken = await browser.post(`${hub.url}${action}`, {});
      await withoutToken.arrayBuffer();
      expect(withoutToken.status).toBe(403);
      const withdrawn = await browser.post(`${hub.url}${action}`, { _csrf: inputValue(html, '_csrf') });
      await withdrawn.arrayBuffer();
      expect(withdrawn.status).toBe(303);
      const after = await browser.get(`${hub.url}/account`);
      expect(await after.text()).not.toContain('/account/consents/consent-rp/revoke');

      const third = await walk(browser, hub.url, request('consent-rp'), CAROL);
      expect(third.sawLogin).toBe(false);
      expect(third.sawConsent).toBe(true);
    });

    test('withdrawing consent also revokes the tokens issued under it', async () => {
      const browser = new TestBrowser();
      const { params, verifier } = codeRequest('consent-rp', REDIRECT);
      const { callback } = await walk(browser, hub.url, authUrl(hub.url, params), CAROL);
      const answer = await exchange('consent-rp', callback.searchParams.get('code')!, verifier);
      expect(answer.status).toBe(200);
      const tokens = answer.body as unknown as Tokens;
      expect(await userinfoStatus(tokens.access_token)).toBe(200);

      const html = await (await browser.get(`${hub.url}/account`)).text();
      const withdrawn = await browser.post(`${hub.url}/account/consents/consent-rp/revoke`, { _csrf: inputValue(html, '_csrf') });
      await withdrawn.arrayBuffer();
      expect(withdrawn.status).toBe(303);
      await expectRevoked('consent-rp', tokens);
    });

    test('withdrawing consent tells the site to end the user\'s sessions there (back-channel logout; a review: they stayed signed in)', async () => {
      const client = await hub.services.clients.register({ clientId: 'consent-bcl', name: 'Consent BCL', redirectUris: [REDIRECT], backchannelLogoutUri: 'http://127.0.0.1:9/sso/backchannel-logout' });
      secrets.set('consent-bcl', client.clientSecret!);
      const browser = new TestBrowser();
      const { params } = codeRequest('consent-bcl', REDIRECT);
      const { callback } = await walk(browser, hub.url, authUrl(hub.url, params), CAROL);
      expect(callback.searchParams.get('code')).toBeTruthy();
      const carol = (await hub.services.users.findByLogin(CAROL.login))!;
      const sids = (await hub.services.lifecycle.sessionsOf(carol.id)).flatMap((s) => s.clients).filter((c) => c.clientId === 'consent-bcl').map((c) => c.sid);
      expect(sids).toHaveLength(1);
      const html = await (await browser.get(`${hub.url}/account`)).text();
      expect(/data-testid="signed-in-to">(.*?)<\/ul>/.exec(html)?.[1]).toContain('Consent BCL');
      const withdrawn = await browser.post(`${hub.url}/account/consents/consent-bcl/revoke`, { _csrf: inputValue(html, '_csrf') });
      await withdrawn.arrayBuffer();
      expect(withdrawn.status).toBe(303);
      // Nor is it listed as a site this browser is signed in to.
      expect(/data-testid="signed-in-to">(.*?)<\/ul>/.exec(await (await browser.get(`${hub.url}/account`)).text())?.[1] ?? '').not.toContain('Consent BCL');
      const queued = [...(await hub.services.deliveries.list('pending')), ...(await hub.services.deliveries.list('delivered')), ...(await hub.services.deliveries.list('failed'))]
        .filter((item) => item.clientId === 'consent-bcl' && item.sub === carol.id);
      // One for the user (no sid: every session there), one for the sid this session gave it (an RP that requires sid ignores the first).
      expect(queued.map((item) => ({ kind: item.kind, sid: item.sid })).sort((a, b) => (a.sid ?? '').localeCompare(b.sid ?? ''))).toEqual([
        { kind: 'backchannel-logout', sid: undefined },
        { kind: 'backchannel-logout', sid: sids[0] },
      ]);
    });

    test('a trusted (first-party) client never asks', async () => {
      const browser = new TestBrowser();
      const first = await walk(browser, hub.url, request('first-party'), CAROL);
      expect(first.sawLogin).toBe(true);
      expect(first.sawConsent).toBe(false);
      expect(first.callback.searchParams.get('code')).toBeTruthy();
      await signOut(browser, hub.url);
      const again = await walk(browser, hub.url, request('first-party', 'openid profile email'), CAROL);
      expect(again.sawConsent).toBe(false);
    });
  });

  describe('single sign-on', () => {
    test('a user signed in for one client is not asked for a password for the next', async () => {
      const browser = new TestBrowser();
      const first = await walk(browser, hub.url, authUrl(hub.url, codeRequest('rp', REDIRECT).params), ALICE);
      expect(first.sawLogin).toBe(true);
      const second = await walk(browser, hub.url, authUrl(hub.url, codeRequest('first-party', REDIRECT).params));
      expect(second.sawLogin).toBe(false);
      expect(second.sawConsent).toBe(false);
      expect(second.callback.searchParams.get('code')).toBeTruthy();

      // prompt=none answers at once with a code too (the kit's silent check).
      const silent = await walk(browser, hub.url, authUrl(hub.url, codeRequest('first-party', REDIRECT, { prompt: 'none' }).params));
      expect(silent.callback.searchParams.get('code')).toBeTruthy();
      expect(silent.pages).toHaveLength(0);
    });

    test('prompt=login asks for the password again', async () => {
      const browser = new TestBrowser();
      await walk(browser, hub.url, authUrl(hub.url, codeRequest('first-party', REDIRECT).params), ALICE);
      const again = await walk(browser, hub.url, authUrl(hub.url, codeRequest('first-party', REDIRECT, { prompt: 'login' }).params), ALICE);
      expect(again.sawLogin).toBe(true);
    });
  });

  describe('disabled users', () => {
    test('a disabled user cannot sign in, with the same answer as a wrong password', async () => {
      const dave = await hub.services.users.create({ username: 'dave', email: 'dave@example.test', password: 'dave-password-1' });
      await hub.services.users.update(dave.id, { disabled: true });
      const browser = new TestBrowser();
      const start = await browser.get(authUrl(hub.url, codeRequest('first-party', REDIRECT).params));
      await start.arrayBuffer();
      const interaction = new URL(start.headers.get('location')!, hub.url).toString();
      const page = await browser.get(interaction);
      const html = await page.text();
      const action = attribute(html, /action="(\/interaction\/[^"]+\/login)"/);
      const answer = await browser.post(`${hub.url}${action}`, { _csrf: inputValue(html, '_csrf'), login: 'dave', password: 'dave-password-1' });
      const body = await answer.text();
      expect(answer.status).toBe(401);
      expect(body).toContain('The username or password is incorrect.');
      expect(body).not.toContain('data-continue');
      expect(await isSignedIn(browser, hub.url)).toBe(false);
    });

    test('disabling a signed-in user ends what the hub will vouch for', async () => {
      const erin = await hub.services.users.create({ username: 'erin', email: 'erin@example.test', password: 'erin-password-1' });
      const browser = new TestBrowser();
      await walk(browser, hub.url, authUrl(hub.url, codeRequest('first-party', REDIRECT).params), { login: 'erin', password: 'erin-password-1' });
      expect(await isSignedIn(browser, hub.url)).toBe(true);
      await hub.services.users.update(erin.id, { disabled: true });
      expect(await isSignedIn(browser, hub.url)).toBe(false);
      const silent = await walk(browser, hub.url, authUrl(hub.url, codeRequest('first-party', REDIRECT, { prompt: 'none' }).params));
      expect(silent.callback.searchParams.get('code')).toBeNull();
      expect(silent.callback.searchParams.get('error')).toBe('login_required');
    });
  });
});
