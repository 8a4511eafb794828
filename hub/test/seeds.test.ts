/**
 * The seeds' client systems, switched to the hub by changing a URL and a secret: each block
 * replays a seed's own request examples (docs/migrating.md has the settings) and checks the
 * response fields that seed reads. Every block runs against the embedded store and Redis.
 */
import { AuthorizationCode } from 'simple-oauth2';
import { ClientRegistry } from '../src/clients/client-registry.js';
import { TestBrowser } from '../src/testing/browser.js';
import { startTestHub, STORE_KINDS, type RunningHub } from '../src/testing/test-hub.js';
import { authUrl, basic, codeRequest, postForm, readJson, walk, type Credentials, type JsonAnswer } from './support.js';

const ALICE: Credentials = { login: 'alice', password: 'wonderland-123' };
// Seed 003's example password is A3ddj3w; the hub's password policy wants at least 8 characters.
const JOHNDOE: Credentials = { login: 'johndoe', password: 'A3ddj3w-8' };

// Seed 003: client s6BhdRkqt3 with redirect URI https://client.example.com/cb.
const YOUKU_ID = 's6BhdRkqt3';
const YOUKU_CB = 'https://client.example.com/cb';
// Seed 001: client 123 with redirect URI https://test.lightcode.com/wechart/callback.do.
const CAS_ID = '123';
const CAS_CB = 'https://test.lightcode.com/wechart/callback.do';
// Seed 002: the video cloud's server exchanges the code the third-party app received.
const VSAAS_ID = 'tutk-vsaas';
const VSAAS_CB = 'https://app.vendor-am.test/oauth/callback';
// Seed 000: the cloud product's callback.
const CME_ID = 'cme-product';
const CME_CB = 'https://cme.product.test/sso/callback';

describe.each(STORE_KINDS)('seed client systems on %s', (kind) => {
  let hub: RunningHub;
  const secrets = new Map<string, string>();
  const endpoint = (path: string) => `${hub.url}${path}`;
  const auth = (clientId: string) => ({ authorization: basic(clientId, secrets.get(clientId)!) });

  async function getJson(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<JsonAnswer> {
    return readJson(await fetch(url, { method, headers: { accept: 'application/json', ...headers }, redirect: 'manual' }));
  }

  const introspect = (clientId: string, token: string) => postForm(endpoint('/token/introspection'), { token }, auth(clientId));

  beforeAll(async () => {
    hub = await startTestHub(kind, { HUB_ENABLE_PASSWORD_GRANT: 'true', LOGIN_MAX_ATTEMPTS_PER_IP: '1000', LOGIN_BACKOFF_BASE_SECONDS: '60' });
    const { users, clients } = hub.services;
    await users.create({ username: 'alice', email: 'alice@example.test', name: 'Alice', password: ALICE.password });
    await users.create({ username: 'johndoe', email: 'johndoe@example.test', name: 'John Doe', password: JOHNDOE.password });
    const register = async (input: Parameters<typeof clients.register>[0]) => {
      const client = await clients.register(input);
      if (client.clientSecret) secrets.set(client.clientId, client.clientSecret);
    };
    // Youku's first-party app: code for the web, password for its desktop client, implicit for its JS page.
    await register({
      clientId: YOUKU_ID,
      name: 'Youku',
      redirectUris: [YOUKU_CB],
      grantTypes: ['authorization_code', 'refresh_token', 'password', 'implicit'],
      trusted: true,
      requirePkce: false,
    });
    await register({ clientId: 'web-only', name: 'Web only', redirectUris: [YOUKU_CB], grantTypes: ['authorization_code', 'refresh_token'] });
    await register({
      clientId: CAS_ID,
      name: 'Lightcode (CAS client)',
      redirectUris: [CAS_CB],
      grantTypes: ['authorization_code', 'refresh_token', 'password', 'client_credentials'],
      tokenEndpointAuthMethod: 'client_secret_post',
      trusted: true,
      requirePkce: false,
      casCompat: true,
      allowSecretInQuery: true,
    });
    await register({
      clientId: 'cas-strict',
      name: 'CAS client, secrets in bodies only',
      redirectUris: [CAS_CB],
      tokenEndpointAuthMethod: 'client_secret_post',
      requirePkce: false,
      casCompat: true,
    });
    await register({ clientId: VSAAS_ID, name: 'TUTK VSaaS', redirectUris: [VSAAS_CB], requirePkce: false, trusted: true });
    await register({ clientId: CME_ID, name: 'CME', redirectUris: [CME_CB], requirePkce: false, trusted: true });
  });
  afterAll(() => hub.close());

  describe('seed 003 §2.2 / RFC 6749 §4.3 resource-owner password grant (legacy; RFC 9700 §2.4)', () => {
    /** Seed 003's request as written: Basic client auth and a form body with the charset. */
    const passwordRequest = (clientId: string, credentials: Credentials) =>
      postForm(endpoint('/token'), `grant_type=password&username=${encodeURIComponent(credentials.login)}&password=${encodeURIComponent(credentials.password)}`, {
        ...auth(clientId),
        'content-type': 'application/x-www-form-urlencoded;charset=UTF-8',
      });

    test('the seed request gets access and refresh tokens in the seed response shape, never cached', async () => {
      const answer = await passwordRequest(YOUKU_ID, JOHNDOE);
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
      expect(answer.headers.get('cache-control')).toMatch(/no-store/);
      expect(answer.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
      expect(typeof answer.body.access_token).toBe('string');
      expect(typeof answer.body.refresh_token).toBe('string');

      // The same engine's tokens: introspection, userinfo and refresh treat them like any other.
      const introspected = await introspect(YOUKU_ID, String(answer.body.access_token));
      expect(introspected.body).toMatchObject({ active: true, client_id: YOUKU_ID, sub: (await hub.services.users.findByLogin('johndoe'))!.id });
      const me = await getJson(endpoint('/me'), { authorization: `Bearer ${String(answer.body.access_token)}` });
      expect(me.status).toBe(200);
      expect(me.body.email).toBe('johndoe@example.test');
      const refreshed = await postForm(endpoint('/token'), { grant_type: 'refresh_token', refresh_token: String(answer.body.refresh_token) }, auth(YOUKU_ID));
      expect(refreshed.status).toBe(200);
      expect(refreshed.body.refresh_token).not.toBe(answer.body.refresh_token);
    });

    test('a client not registered for the password grant gets unauthorized_client', async () => {
      const answer = await passwordRequest('web-only', JOHNDOE);
      expect(answer.status).toBe(400);
      expect(answer.body.error).toBe('unauthorized_client');
    });

    test('wrong password, unknown user and disabled user get the same invalid_grant', async () => {
      const wrong = await passwordRequest(YOUKU_ID, { login: 'alice', password: 'not-her-password' });
      const unknown = await passwordRequest(YOUKU_ID, { login: 'nobody-here', password: 'whatever-123' });
      await hub.services.users.create({ username: 'dora', email: 'dora@example.test', password: 'explorer-123' });
      await hub.services.lifecycle.disable('dora');
      const disabled = await passwordRequest(YOUKU_ID, { login: 'dora', password: 'explorer-123' });
      for (const answer of [wrong, unknown, disabled]) {
        expect(answer.status).toBe(400);
        expect(answer.body).toEqual({ error: 'invalid_grant', error_description: 'invalid username or password' });
      }
    });

    test('it shares the portal lockout: after five failures the right password is refused here and on the sign-in page', async () => {
      const eve: Credentials = { login: 'eve', password: 'eve-password-1' };
      await hub.services.users.create({ username: 'eve', email: 'eve@example.test', password: eve.password });
      for (let attempt = 0; attempt < hub.config.LOGIN_MAX_FAILURES_PER_ACCOUNT; attempt += 1) {
        expect((await passwordRequest(YOUKU_ID, { login: 'eve', password: `wrong-${attempt}-xx` })).body.error).toBe('invalid_grant');
      }
      const locked = await passwordRequest(YOUKU_ID, eve);
      expect(locked.status).toBe(400);
      expect(locked.body.error).toBe('invalid_grant');
      expect(locked.body.error_description).toMatch(/too many/);
      expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);

      // The portal's form sees the same lock.
      const { params } = codeRequest('web-only', YOUKU_CB);
      await expect(walk(new TestBrowser(), hub.url, authUrl(hub.url, params), eve)).rejects.toThrow(/sign-in failed \(429\)/);

      const entries = await hub.services.audit.search({ event: 'login.throttled' });
      expect(entries.some((entry) => entry.actor === 'eve' && entry.client === YOUKU_ID)).toBe(true);
    });

    test('disabling the user revokes the tokens the password grant issued', async () => {
      await hub.services.users.create({ username: 'frank', email: 'frank@example.test', password: 'frank-password' });
      const answer = await passwordRequest(YOUKU_ID, { login: 'frank', password: 'frank-password' });
      expect(answer.status).toBe(200);
      await hub.services.lifecycle.disable('frank');
      expect((await introspect(YOUKU_ID, String(answer.body.access_token))).body).toEqual({ active: false });
      const refreshed = await postForm(endpoint('/token'), { grant_type: 'refresh_token', refresh_token: String(answer.body.refresh_token) }, auth(YOUKU_ID));
      expect(refreshed.body.error).toBe('invalid_grant');
    });

    test('the discovery document lists the grant only because this hub switched it on', async () => {
      const metadata = (await getJson(endpoint('/.well-known/openid-configuration'))).body;
      expect(metadata.grant_types_supported).toContain('password');
    });

    test('off by default: a hub without HUB_ENABLE_PASSWORD_GRANT answers unsupported_grant_type', async () => {
      const plain = await startTestHub(kind);
      try {
        const client = await plain.services.clients.register({ clientId: YOUKU_ID, redirectUris: [YOUKU_CB], grantTypes: ['password'], trusted: true });
        const answer = await postForm(`${plain.url}/token`, 'grant_type=password&username=johndoe&password=A3ddj3w-8', {
          authorization: basic(YOUKU_ID, client.clientSecret!),
        });
        expect(answer.status).toBe(400);
        expect(answer.body.error).toBe('unsupported_grant_type');
      } finally {
        await plain.close();
      }
    });

    test('only a trusted (first-party) client may be registered for it; query-string secrets need the CAS endpoints', () => {
      expect(() => ClientRegistry.build({ clientId: 'third-party', grantTypes: ['password'] })).toThrow(/trusted first-party/);
      expect(() => ClientRegistry.build({ clientId: 'odd', redirectUris: [CAS_CB], allowSecretInQuery: true })).toThrow(/CAS-style/);
    });
  });

  describe('seed 003 §2.1 / RFC 6749 §4.1 authorization code, as the seed sends it', () => {
    // The seed's scope "a b" is Youku's own; a client asks for the hub's scopes (docs/migrating.md).
    test('the seed authorization request, then its token request with Basic auth', async () => {
      const start = `${endpoint('/auth')}?response_type=code&client_id=${YOUKU_ID}&state=xyz&redirect_uri=https%3A%2F%2Fclient%2Eexample%2Ecom%2Fcb&scope=openid%20email`;
      const { callback } = await walk(new TestBrowser(), hub.url, start, ALICE);
      expect(callback.origin + callback.pathname).toBe(YOUKU_CB);
      expect(callback.searchParams.get('state')).toBe('xyz');
      const code = callback.searchParams.get('code')!;
      const answer = await postForm(endpoint('/token'), `grant_type=authorization_code&code=${code}&redirect_uri=https%3A%2F%2Fclient%2Eexample%2Ecom%2Fcb`, auth(YOUKU_ID));
      expect(answer.status).toBe(200);
      expect(answer.headers.get('cache-control')).toMatch(/no-store/);
      expect(answer.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
      expect(typeof answer.body.access_token).toBe('string');
      expect(typeof answer.body.refresh_token).toBe('string');
    });
  });

  describe('seed 003 §2.3 / RFC 9700 §2.1.2 implicit grant: OpenID Connect form only', () => {
    test('the seed request (response_type=token) is unsupported_response_type, pointing to code + PKCE', async () => {
      const response = await new TestBrowser().get(
        `${endpoint('/auth')}?response_type=token&client_id=${YOUKU_ID}&state=xyz&redirect_uri=https%3A%2F%2Fclient%2Eexample%2Ecom%2Fcb&scope=a%20b`,
      );
      await response.arrayBuffer();
      expect(response.status).toBe(303);
      const location = new URL(response.headers.get('location')!);
      expect(location.origin + location.pathname).toBe(YOUKU_CB);
      const fragment = new URLSearchParams(location.hash.slice(1));
      expect(fragment.get('error')).toBe('unsupported_response_type');
      expect(fragment.get('error_description')).toMatch(/response_type=code with PKCE/);
      expect(fragment.get('state')).toBe('xyz');
      expect(fragment.get('access_token')).toBeNull();
    });

    test('another unsupported response type keeps its own description, not the pointer meant for a bare token', async () => {
      // An outside review: every unsupported_response_type (bogus, code id_token) was told
      // "response_type=token … is not supported".
      const response = await new TestBrowser().get(`${endpoint('/auth')}?response_type=bogus&client_id=${YOUKU_ID}&state=xyz&redirect_uri=${encodeURIComponent(YOUKU_CB)}&scope=openid`);
      await response.arrayBuffer();
      const location = new URL(response.headers.get('location')!);
      const params = location.hash ? new URLSearchParams(location.hash.slice(1)) : location.searchParams;
      expect(params.get('error')).toBe('unsupported_response_type');
      expect(params.get('error_description')).not.toMatch(/response_type=token/);
    });

    test('a client registered for it gets id_token token with a nonce, in the fragment', async () => {
      const params = { response_type: 'id_token token', client_id: YOUKU_ID, state: 'xyz', redirect_uri: YOUKU_CB, scope: 'openid email', nonce: 'n-0S6_WzA2Mj' };
      const { callback } = await walk(new TestBrowser(), hub.url, authUrl(hub.url, params), ALICE);
      expect(callback.search).toBe('');
      const fragment = new URLSearchParams(callback.hash.slice(1));
      expect(fragment.get('state')).toBe('xyz');
      expect(fragment.get('token_type')).toBe('Bearer');
      expect(Number(fragment.get('expires_in'))).toBeGreaterThan(0);
      const idToken = fragment.get('id_token')!;
      const claims = JSON.parse(Buffer.from(idToken.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
      expect(claims.nonce).toBe('n-0S6_WzA2Mj');
      expect(claims.aud).toBe(YOUKU_ID);
      const me = await getJson(endpoint('/me'), { authorization: `Bearer ${fragment.get('access_token')!}` });
      expect(me.body.email).toBe('alice@example.test');
    });

    test('without a nonce it is refused', async () => {
      const params = { response_type: 'id_token token', client_id: YOUKU_ID, state: 'xyz', redirect_uri: YOUKU_CB, scope: 'openid' };
      const response = await new TestBrowser().get(authUrl(hub.url, params));
      await response.arrayBuffer();
      const fragment = new URLSearchParams(new URL(response.headers.get('location')!).hash.slice(1));
      expect(fragment.get('error')).toBe('invalid_request');
      expect(fragment.get('error_description')).toMatch(/nonce/);
    });

    test('a client not registered for it gets unauthorized_client', async () => {
      const params = { response_type: 'id_token token', client_id: 'web-only', state: 'xyz', redirect_uri: YOUKU_CB, scope: 'openid', nonce: 'n' };
      const response = await new TestBrowser().get(authUrl(hub.url, params));
      await response.arrayBuffer();
      const fragment = new URLSearchParams(new URL(response.headers.get('location')!).hash.slice(1));
      expect(fragment.get('error')).toBe('unauthorized_client');
      expect(fragment.get('access_token')).toBeNull();
    });
  });

  describe('seed 001 CAS 6.3 /oauth2.0/* endpoints', () => {
    test('a body the form parser refuses gets RFC 6749 JSON, not a page', async () => {
      const many = new URLSearchParams(Array.from({ length: 25 }, (_, k) => [`p${k}`, 'x'])).toString();
      const answer = await postForm(endpoint('/oauth2.0/accessToken'), many);
      expect(answer.status).toBe(400);
      expect(answer.headers.get('content-type')).toMatch(/application\/json/);
      expect(answer.body.error).toBe('invalid_request');
    });

    const casSecret = () => encodeURIComponent(secrets.get(CAS_ID)!);
    const casCb = encodeURIComponent(CAS_CB);

    /** Step 1 as the seed writes it; returns the code the callback received. */
    async function casCode(clientId = CAS_ID): Promise<string> {
      const start = `${endpoint('/oauth2.0/authorize')}?response_type=code&client_id=${clientId}&redirect_uri=${casCb}`;
      const { callback } = await walk(new TestBrowser(), hub.url, start, ALICE);
      expect(callback.origin + callback.pathname).toBe(CAS_CB);
      return callback.searchParams.get('code')!;
    }

    test('authorize → accessToken (GET, parameters in the query) → profile (POST ?access_token=): the seed walk-through', async () => {
      const code = await casCode();
      const token = await getJson(
        `${endpoint('/oauth2.0/accessToken')}?grant_type=authorization_code&code=${code}&client_id=${CAS_ID}&client_secret=${casSecret()}&redirect_uri=${casCb}`,
      );
      expect(token.status).toBe(200);
      expect(token.headers.get('cache-control')).toMatch(/no-store/);
      expect(typeof token.body.access_token).toBe('string');
      expect(token.body.expires_in).toBe(3600);
      expect(typeof token.body.scope).toBe('string');

      const accessToken = String(token.body.access_token);
      const profile = await getJson(`${endpoint('/oauth2.0/profile')}?access_token=${accessToken}`, {}, 'POST');
      expect(profile.status).toBe(200);
      const alice = (await hub.services.users.findByLogin('alice'))!;
      expect(profile.body).toEqual({
        id: alice.id,
        client_id: CAS_ID,
        attributes: expect.objectContaining({ email: 'alice@example.test', preferred_username: 'alice', name: 'Alice' }),
      });
      const byGet = await getJson(`${endpoint('/oauth2.0/profile')}?access_token=${accessToken}`);
      expect(byGet.body.id).toBe(alice.id);

      // The same tokens as the standard endpoints: introspection sees it, revocation ends it.
      expect((await introspect(CAS_ID, accessToken)).body.active).toBe(true);
      const revoked = await postForm(endpoint('/token/revocation'), { token: accessToken, client_id: CAS_ID, client_secret: secrets.get(CAS_ID)! });
      expect(revoked.status).toBe(200);
      const after = await getJson(`${endpoint('/oauth2.0/profile')}?access_token=${accessToken}`);
      expect(after.status).toBe(401);
      expect(after.body.error).toBe('invalid_token');
    });

    test('HEAD of accessToken with a live code: 405 with Allow, and the code is not spent (a GET then redeems it); before, express ran the GET route and the code was gone (a diff review)', async () => {
      const code = await casCode();
      const url = `${endpoint('/oauth2.0/accessToken')}?grant_type=authorization_code&code=${code}&client_id=${CAS_ID}&client_secret=${casSecret()}&redirect_uri=${casCb}`;
      const head = await fetch(url, { method: 'HEAD' });
      expect(head.status).toBe(405);
      expect(head.headers.get('allow')).toBe('GET, POST');
      expect(head.headers.get('cache-control')).toMatch(/no-store/);
      const token = await getJson(url);
      expect(token.status).toBe(200);
      expect(typeof token.body.access_token).toBe('string');
    });

    test('accessToken by POST: refresh_token, password and client_credentials as the client allows', async () => {
      const code = await casCode();
      const first = await postForm(endpoint('/oauth2.0/accessToken'), {
        grant_type: 'authorization_code', code, client_id: CAS_ID, client_secret: secrets.get(CAS_ID)!, redirect_uri: CAS_CB,
      });
      expect(first.status).toBe(200);
      const refreshed = await postForm(endpoint('/oauth2.0/accessToken'), {
        grant_type: 'refresh_token', refresh_token: String(first.body.refresh_token), client_id: CAS_ID, client_secret: secrets.get(CAS_ID)!,
      });
      expect(refreshed.status).toBe(200);
      expect(refreshed.body.access_token).not.toBe(first.body.access_token);

      const password = await getJson(
        `${endpoint('/oauth2.0/accessToken')}?grant_type=password&username=johndoe&password=${encodeURIComponent(JOHNDOE.password)}&client_id=${CAS_ID}&client_secret=${casSecret()}`,
      );
      expect(password.status).toBe(200);
      const profile = await getJson(endpoint('/oauth2.0/profile'), { authorization: `Bearer ${String(password.body.access_token)}` });
      expect((profile.body.attributes as Record<string, unknown>).email).toBe('johndoe@example.test');

      const service = await postForm(endpoint('/oauth2.0/accessToken'), { grant_type: 'client_credentials', client_id: CAS_ID, client_secret: secrets.get(CAS_ID)! }, { 'x-request-id': 'cas-request-00001' });
      expect(service.status).toBe(200);
      expect(service.body.token_type).toBe('Bearer');
      // The token's audit entry carries the id of the request the CAS client sent (not none: the
      // adapter's inner request to the token endpoint is a request of its own).
      await hub.services.audit.flush();
      const issued = await hub.services.audit.search({ event: 'token.issued', client: CAS_ID });
      expect(issued.map((entry) => entry.requestId)).toContain('cas-request-00001');

      const implicit = await postForm(endpoint('/oauth2.0/accessToken'), { grant_type: 'implicit', client_id: CAS_ID, client_secret: secrets.get(CAS_ID)! });
      expect(implicit.status).toBe(400);
      expect(implicit.body.error).toBe('unsupported_grant_type');
    });

    test('secrets in the query string only for a client marked for it; the same request by POST body works', async () => {
      const code = await casCode('cas-strict');
      const secret = secrets.get('cas-strict')!;
      const inQuery = await getJson(
        `${endpoint('/oauth2.0/accessToken')}?grant_type=authorization_code&code=${code}&client_id=cas-strict&client_secret=${encodeURIComponent(secret)}&redirect_uri=${casCb}`,
      );
      expect(inQuery.status).toBe(400);
      expect(inQuery.body.error).toBe('invalid_request');
      expect(inQuery.body.error_description).toMatch(/query string/);
      expect(JSON.stringify(inQuery.body)).not.toContain(secret);

      const inBody = await postForm(endpoint('/oauth2.0/accessToken'), { grant_type: 'authorization_code', code, client_id: 'cas-strict', client_secret: secret, redirect_uri: CAS_CB });
      expect(inBody.status).toBe(200);
      const token = String(inBody.body.access_token);
      const profileInQuery = await getJson(`${endpoint('/oauth2.0/profile')}?access_token=${token}`);
      expect(profileInQuery.status).toBe(400);
      expect(profileInQuery.body.error).toBe('invalid_request');
      const profileInBody = await postForm(endpoint('/oauth2.0/profile'), { access_token: token });
      expect(profileInBody.status).toBe(200);
      expect((profileInBody.body.attributes as Record<string, unknown>).email).toBe('alice@example.test');
    });

    test('a client that did not opt in: an error page at authorize, unauthorized_client at accessToken and profile', async () => {
      const response = await new TestBrowser().get(`${endpoint('/oauth2.0/authorize')}?response_type=code&client_id=web-only&redirect_uri=${encodeURIComponent(YOUKU_CB)}`);
      const html = await response.text();
      expect(response.status).toBe(400);
      expect(response.headers.get('location')).toBeNull();
      expect(html).toContain('CAS-style');

      const token = await postForm(endpoint('/oauth2.0/accessToken'), { grant_type: 'refresh_token', refresh_token: 'x' }, auth('web-only'));
      expect(token.status).toBe(400);
      expect(token.body.error).toBe('unauthorized_client');
      // An empty client_id beside the Basic header (the engine ignores it) names no other client: still refused (a review).
      for (const clientId of ['', ' ']) {
        const hidden = await postForm(endpoint('/oauth2.0/accessToken'), { grant_type: 'refresh_token', refresh_token: 'x', client_id: clientId }, auth('web-only'));
        expect([clientId, hidden.status, hidden.body.error]).toEqual([clientId, 400, 'unauthorized_client']);
      }
      // A repeated client_id is refused before any lookup.
      const twice = await postForm(endpoint('/oauth2.0/accessToken'), 'grant_type=refresh_token&refresh_token=x&client_id=a&client_id=b', auth('web-only'));
      expect([twice.status, twice.body.error]).toEqual([400, 'invalid_request']);
      // Nor does an opted-in client's id beside another client's Basic header.
      const mixed = await postForm(endpoint('/oauth2.0/accessToken'), { grant_type: 'refresh_token', refresh_token: 'x', client_id: 'cas-strict' }, auth('web-only'));
      expect(mixed.body.error).toBe('unauthorized_client');

      const password = await postForm(endpoint('/token'), { grant_type: 'password', username: 'johndoe', password: JOHNDOE.password }, auth(YOUKU_ID));
      const profile = await postForm(endpoint('/oauth2.0/profile'), { access_token: String(password.body.access_token) });
      expect(profile.status).toBe(400);
      expect(profile.body.error).toBe('unauthorized_client');
    });
  });

  describe('seed 002 server-to-server code exchange (RFC 6749 §4.1.3, §6; OIDC UserInfo)', () => {
    test('Basic auth and form bodies as the video cloud sends them: code, then refresh_token, then userinfo', async () => {
      // The third-party app signs its user in and receives the code...
      const start = authUrl(hub.url, { response_type: 'code', client_id: VSAAS_ID, redirect_uri: VSAAS_CB, scope: 'openid email', state: 'app-state' });
      const { callback } = await walk(new TestBrowser(), hub.url, start, ALICE);
      const code = callback.searchParams.get('code')!;

      // ...and the video cloud exchanges it server-to-server.
      const headers = { authorization: basic(VSAAS_ID, secrets.get(VSAAS_ID)!), 'content-type': 'application/x-www-form-urlencoded' };
      const token = await postForm(endpoint('/token'), `grant_type=authorization_code&code=${code}&redirect_uri=${encodeURIComponent(VSAAS_CB)}`, headers);
      expect(token.status).toBe(200);
      for (const field of ['access_token', 'refresh_token', 'token_type', 'scope']) expect(typeof token.body[field]).toBe('string');
      expect(typeof token.body.expires_in).toBe('number');
      expect(token.body.token_type).toBe('Bearer');

      const refreshed = await postForm(endpoint('/token'), `grant_type=refresh_token&refresh_token=${String(token.body.refresh_token)}`, headers);
      expect(refreshed.status).toBe(200);
      for (const field of ['access_token', 'refresh_token', 'token_type', 'scope']) expect(typeof refreshed.body[field]).toBe('string');
      expect(typeof refreshed.body.expires_in).toBe('number');

      const userinfo = await getJson(endpoint('/me'), { authorization: `Bearer ${String(refreshed.body.access_token)}` });
      expect(userinfo.status).toBe(200);
      expect(userinfo.body.email).toBe('alice@example.test');
    });

    test('a wrong client secret is 401, and a code exchange without redirect_uri says what is missing', async () => {
      const wrong = await postForm(endpoint('/token'), 'grant_type=authorization_code&code=theauthcode', { authorization: basic(VSAAS_ID, 'x'.repeat(43)) });
      expect(wrong.status).toBe(401);
      expect(wrong.body.error).toBe('invalid_client');

      const missing = await postForm(endpoint('/token'), 'grant_type=authorization_code&code=theauthcode', auth(VSAAS_ID));
      expect(missing.status).toBe(400);
      expect(missing.body.error).toBe('invalid_request');
      expect(missing.body.error_description).toMatch(/redirect_uri/);
    });
  });

  describe('seed 000 organisation sign-in with state (RFC 6749 §4.1, §10.12)', () => {
    /** The product's side, written as an integrator would with simple-oauth2: no sso-hub kit. */
    function product() {
      const oauth = new AuthorizationCode({
        client: { id: CME_ID, secret: secrets.get(CME_ID)! },
        auth: { tokenHost: hub.url, tokenPath: '/token', authorizePath: '/auth' },
      });
      const pending = new Set<string>();
      let exchanges = 0;
      return {
        get exchanges() {
          return exchanges;
        },
        start(): string {
          const state = Math.random().toString(36).slice(2);
          pending.add(state);
          return oauth.authorizeURL({ redirect_uri: CME_CB, scope: 'openid email profile', state });
        },
        /** The callback: the state must be one this product issued, and only once. */
        async callback(url: URL): Promise<{ email: string }> {
          const state = url.searchParams.get('state') ?? '';
          if (!pending.delete(state)) throw new Error('state mismatch');
          exchanges += 1;
          const token = await oauth.getToken({ code: url.searchParams.get('code')!, redirect_uri: CME_CB });
          const response = await fetch(`${hub.url}/me`, { headers: { authorization: `Bearer ${String(token.token.access_token)}` } });
          return (await response.json()) as { email: string };
        },
      };
    }

    test('the product signs the user in: code, token, user info', async () => {
      const cme = product();
      const { callback } = await walk(new TestBrowser(), hub.url, cme.start(), ALICE);
      expect(callback.origin + callback.pathname).toBe(CME_CB);
      expect((await cme.callback(callback)).email).toBe('alice@example.test');
    });

    test('a callback whose state does not match is rejected before any token request', async () => {
      const cme = product();
      const { callback } = await walk(new TestBrowser(), hub.url, cme.start(), ALICE);
      const forged = new URL(callback);
      forged.searchParams.set('state', 'attacker-state');
      await expect(cme.callback(forged)).rejects.toThrow('state mismatch');
      expect(cme.exchanges).toBe(0);
      // A replayed callback (its state already used) is refused too.
      await cme.callback(callback);
      await expect(cme.callback(callback)).rejects.toThrow('state mismatch');
      expect(cme.exchanges).toBe(1);
    });
  });
});
