/**
 * The hub as an OpenID Provider, checked the way the OpenID Foundation's conformance suite checks
 * one: one test per module of its "Basic OP" and "Config OP" certification plans
 * (oidcc-basic-certification-test-plan, oidcc-config-certification-test-plan), of the
 * refresh-token and form_post response-mode modules, and of the RP-initiated and back-channel
 * logout plans (the hub names both in discovery). Each test is named after its module and
 * asserts what that module checks, not only that an answer came. Where the hub departs from a
 * module on purpose (README, "Security" and "Clients written for other OAuth2 servers"), the
 * test checks that the departure is the documented one and answers with the spec's error code.
 * A real Redis; the relying party is this file, with jose for the JWT checks.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify, SignJWT, type JSONWebKeySet, type JWTPayload } from 'jose';
import { attribute, inputValue, TestBrowser } from '../src/testing/browser.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { continueUrlOf, signInAt, signInAtPortal } from '../src/testing/flows.js';
import { authUrl, basic, codeRequest, postForm, readJson, walk, type Credentials, type JsonAnswer } from './support.js';

const REDIRECT = 'http://rp.test/cb';
const POST_LOGOUT = 'http://rp.test/logged-out';
/** The hub lets only an https client use the implicit grant (its tokens travel in the URL). */
const IMPLICIT_REDIRECT = 'https://rp.test/cb';
const ALICE: Credentials = { login: 'alice', password: 'wonderland-123' };
const CAROL_PASSWORD = 'carol-password-1';
const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const nowSeconds = () => Math.floor(Date.now() / 1000);

/**
 * RFC 6749 §4.1.2.1 / §5.2: `error` and `error_description` hold only %x20-21 / %x23-5B / %x5D-7E
 * (printable ASCII without `"` and `\`); the suite checks every error it is sent.
 */
function expectErrorText(error: string | null | unknown, description: string | null | unknown): void {
  expect(error).toMatch(/^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/);
  if (description !== null && description !== undefined) expect(description).toMatch(/^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/);
}

/** OIDC Core §3.1.3.6 / §3.2.2.9: the left half of the SHA-256 of the ASCII value, base64url. */
function halfHash(value: string): string {
  const digest = createHash('sha256').update(value, 'ascii').digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

describe('OpenID Foundation conformance modules (Basic OP, Config OP, refresh, form_post, logout) on Redis', () => {
  let hub: RunningHub;
  let receiver: Server;
  const logoutTokens: string[] = [];
  const secrets = new Map<string, string>();
  let metadata: Record<string, unknown>;

  const endpoint = (path: string) => `${hub.url}${path}`;
  const auth = (clientId: string) => ({ authorization: basic(clientId, secrets.get(clientId)!) });

  async function jwks() {
    return createLocalJWKSet((await (await fetch(String(metadata.jwks_uri))).json()) as JSONWebKeySet);
  }

  /** What an RP checks of every ID token (OIDC Core §3.1.3.7), then its claims. */
  async function validIdToken(idToken: string, clientId: string, nonce?: string): Promise<JWTPayload> {
    const header = decodeProtectedHeader(idToken);
    expect(header.alg).toBe('RS256'); // the default id_token_signed_response_alg
    const keySet = (await (await fetch(String(metadata.jwks_uri))).json()) as JSONWebKeySet;
    // Key rotation (Config OP): the kid names a key the JWKS publishes.
    expect(keySet.keys.map((key) => key.kid)).toContain(header.kid);
    const { payload } = await jwtVerify(idToken, createLocalJWKSet(keySet), { issuer: hub.url, audience: clientId, algorithms: ['RS256'] });
    expect(typeof payload.sub).toBe('string');
    expect(payload.exp).toBeGreaterThan(nowSeconds());
    expect(Math.abs(payload.iat! - nowSeconds())).toBeLessThanOrEqual(5);
    if (Array.isArray(payload.aud) && payload.aud.length > 1) expect(payload.azp).toBe(clientId);
    if (payload.azp !== undefined) expect(payload.azp).toBe(clientId);
    if (nonce === undefined) expect(payload.nonce).toBeUndefined();
    else expect(payload.nonce).toBe(nonce);
    return payload;
  }

  function exchange(clientId: string, code: string, verifier: string | undefined, redirectUri = REDIRECT): Promise<JsonAnswer> {
    const form: Record<string, string> = { grant_type: 'authorization_code', code, redirect_uri: redirectUri };
    if (verifier !== undefined) form.code_verifier = verifier;
    return postForm(endpoint('/token'), form, auth(clientId));
  }

  /** The authorization response at the client's redirect URI: RFC 9207's iss and the state come back with it. */
  function expectAuthorizationResponse(callback: URL, state: string | undefined, where: 'query' | 'fragment' = 'query', redirect = REDIRECT): URLSearchParams {
    expect(callback.origin + callback.pathname).toBe(redirect);
    const params = where === 'query' ? callback.searchParams : new URLSearchParams(callback.hash.slice(1));
    expect(params.get('iss')).toBe(hub.url);
    if (state === undefined) expect(params.has('state')).toBe(false);
    else expect(params.get('state')).toBe(state);
    return params;
  }

  /** Runs a code flow to its tokens: the walk (sign-in and consent when shown), then the exchange. */
  async function codeFlow(overrides: Record<string, string | undefined> = {}, browser = new TestBrowser(), clientId = 'rp') {
    const request = codeRequest(clientId, REDIRECT, overrides);
    const result = await walk(browser, hub.url, authUrl(hub.url, request.params), ALICE);
    const params = expectAuthorizationResponse(result.callback, request.params.state);
    expect(params.get('error')).toBeNull();
    const code = params.get('code')!;
    expect(code).toBeTruthy();
    const answer = await exchange(clientId, code, request.verifier);
    expect(answer.status).toBe(200);
    expect(answer.body.token_type).toBe('Bearer');
    expect(answer.body.expires_in).toBeGreaterThan(0);
    expect(answer.headers.get('cache-control')).toMatch(/no-store/);
    const idToken = String(answer.body.id_token);
    const claims = await validIdToken(idToken, clientId, request.params.nonce);
    return { ...result, browser, request, code, tokens: answer.body as Record<string, string>, idToken, claims };
  }

  /** An authorization request that fails at the (valid) redirect URI: its error, with state and iss. */
  async function authorizationError(params: Record<string, string | undefined>, browser = new TestBrowser(), where: 'query' | 'fragment' = 'query') {
    const { callback, pages } = await walk(browser, hub.url, authUrl(hub.url, params));
    expect(pages).toHaveLength(0);
    const answer = expectAuthorizationResponse(callback, params.state, where, params.redirect_uri);
    expect(answer.has('code')).toBe(false);
    expect(answer.has('access_token')).toBe(false);
    // Nothing but the error response's own parameters (RFC 6749 §4.1.2.1, RFC 9207).
    for (const name of answer.keys()) expect(['error', 'error_description', 'error_uri', 'state', 'iss']).toContain(name);
    expectErrorText(answer.get('error'), answer.get('error_description'));
    return { error: answer.get('error'), description: answer.get('error_description') };
  }

  /** An authorization request the hub must refuse on its own page: no redirect at all. */
  async function errorPage(url: string): Promise<string> {
    const response = await new TestBrowser().get(url);
    const html = await response.text();
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(html).toContain('data-testid="error-title"');
    return html;
  }

  async function userinfo(init: { method?: string; headers?: Record<string, string>; body?: string }): Promise<JsonAnswer> {
    return readJson(await fetch(endpoint('/me'), init));
  }

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        if (req.headers['content-type']?.startsWith('application/x-www-form-urlencoded')) {
          const token = new URLSearchParams(body).get('logout_token');
          if (token) logoutTokens.push(token);
        }
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/backchannel-logout`;

    hub = await startTestHub('redis', { DELIVERY_POLL_MS: '50', SIGNIN_STARTS_PER_IP: '5000' });
    await hub.services.users.create({ username: 'alice', email: 'alice@example.test', name: 'Alice Liddell', password: ALICE.password });
    const register = async (input: Parameters<typeof hub.services.clients.register>[0]) => {
      const client = await hub.services.clients.register(input);
      if (client.clientSecret) secrets.set(client.clientId, client.clientSecret);
    };
    // The conformance suite's client: a third party (consent asked once), client_secret_basic.
    await register({
      clientId: 'rp',
      name: 'Conformance RP',
      redirectUris: [REDIRECT],
      postLogoutRedirectUris: [POST_LOGOUT],
      grantTypes: ['authorization_code', 'refresh_token'],
      backchannelLogoutUri: receiverUrl,
    });
    await register({ clientId: 'rp-post', name: 'Posting RP', redirectUris: [REDIRECT], grantTypes: ['authorization_code', 'refresh_token'], tokenEndpointAuthMethod: 'client_secret_post', trusted: true });
        await hub.services.users.create({ username: 'erin', email: 'erin@example.test', password: 'erin-password-1' });
    await hub.services.users.create({ username: 'carol', email: 'carol@example.test', password: CAROL_PASSWORD });
    await register({ clientId: 'rp-other', name: 'Other RP', redirectUris: [REDIRECT], grantTypes: ['authorization_code', 'refresh_token'], trusted: true });
    await register({ clientId: 'rp-implicit', name: 'Implicit RP', redirectUris: [IMPLICIT_REDIRECT], grantTypes: ['authorization_code', 'implicit'], trusted: true });
    metadata = (await (await fetch(endpoint('/.well-known/openid-configuration'))).json()) as Record<string, unknown>;
    hub.deliveryWorker.start(); // as main.ts does: back-channel logout tokens go out through the queue
  });
  afterAll(async () => {
    await hub?.close();
    await new Promise<void>((resolve) => receiver?.close(() => resolve()));
  });

  describe('Config OP: discovery and keys', () => {
    it('oidcc-discovery-endpoint-verification', async () => {
      const response = await fetch(endpoint('/.well-known/openid-configuration'));
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      // OIDC Discovery §4.3: the issuer is exactly the URL discovery was fetched from.
      expect(metadata.issuer).toBe(hub.url);
      for (const name of ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri', 'end_session_endpoint']) {
        expect(String(metadata[name]).startsWith(`${hub.url}/`)).toBe(true);
      }
      expect(metadata.scopes_supported).toEqual(expect.arrayContaining(['openid']));
      expect(metadata.response_types_supported).toEqual(expect.arrayContaining(['code']));
      expect(metadata.subject_types_supported).toEqual(['public']);
      expect(metadata.id_token_signing_alg_values_supported).toEqual(expect.arrayContaining(['RS256']));
      expect(metadata.id_token_signing_alg_values_supported).not.toContain('none');
      expect(metadata.claims_supported).toEqual(expect.arrayContaining(['sub', 'iss', 'auth_time', 'name', 'email', 'email_verified']));
      expect(metadata.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(['client_secret_basic', 'client_secret_post']));
      expect(metadata.response_modes_supported).toEqual(expect.arrayContaining(['query', 'fragment', 'form_post']));
      expect(metadata.authorization_response_iss_parameter_supported).toBe(true);
      // What the hub does not offer is not claimed (so the suite's modules for them do not apply).
      expect(metadata.request_parameter_supported ?? false).toBe(false);
      expect(metadata.claims_parameter_supported).toBe(false);
      expect(metadata.userinfo_signing_alg_values_supported).toBeUndefined();
      expect(metadata.frontchannel_logout_supported).toBeUndefined();
      expect(metadata.check_session_iframe).toBeUndefined();
    });

    it('oidcc-discovery-jwks (jwks_uri reachable, public signing keys with unique kids)', async () => {
      const response = await fetch(String(metadata.jwks_uri));
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^application\/(jwk-set\+)?json/);
      const { keys } = (await response.json()) as JSONWebKeySet;
      const kids = keys.map((key) => key.kid);
      expect(new Set(kids).size).toBe(kids.length);
      for (const key of keys) {
        expect(typeof key.kid).toBe('string');
        expect(key.use ?? 'sig').toBe('sig');
        for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) expect(key).not.toHaveProperty(secret);
      }
      // Every advertised ID token alg has a key of its kind (signing-algs.test.ts signs and verifies each).
      for (const alg of metadata.id_token_signing_alg_values_supported as string[]) expect(keys.some((key) => key.alg === alg)).toBe(true);
    });

    it('oidcc-idtoken-rs256: the ID token is RS256 and its kid names a key of the JWKS (rotation: key-rotation.test.ts)', async () => {
      const flow = await codeFlow();
      const keySet = (await (await fetch(String(metadata.jwks_uri))).json()) as JSONWebKeySet;
      const { alg, kid } = decodeProtectedHeader(flow.idToken);
      expect(keySet.keys.find((key) => key.kid === kid)?.alg).toBe(alg);
    });
  });

  describe('Basic OP: the code flow', () => {
    it('oidcc-server', async () => {
      const flow = await codeFlow();
      expect(flow.sawLogin).toBe(true);
      expect(flow.tokens.access_token).toBeTruthy();
      // at_hash is optional in an ID token from the token endpoint; when present it must match.
      if (flow.claims.at_hash !== undefined) expect(flow.claims.at_hash).toBe(halfHash(flow.tokens.access_token!));
      expect(flow.claims.c_hash).toBeUndefined();
      // auth_time is required only with max_age (below) or when asked for; when present it is not in the future.
      if (flow.claims.auth_time !== undefined) expect(flow.claims.auth_time).toBeLessThanOrEqual(nowSeconds());
    });

    it('oidcc-response-type-missing', async () => {
      const { params } = codeRequest('rp', REDIRECT, { response_type: undefined });
      const { error } = await authorizationError(params);
      expect(error).toBe('invalid_request');
    });

    it('oidcc-userinfo-get', async () => {
      const flow = await codeFlow();
      const answer = await userinfo({ headers: { authorization: `Bearer ${flow.tokens.access_token}` } });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
      // OIDC Core §5.3.2: the sub of userinfo is the ID token's.
      expect(answer.body.sub).toBe(flow.claims.sub);
    });

    it('oidcc-userinfo-post-header', async () => {
      const flow = await codeFlow();
      const answer = await userinfo({ method: 'POST', headers: { authorization: `Bearer ${flow.tokens.access_token}` } });
      expect(answer.status).toBe(200);
      expect(answer.body.sub).toBe(flow.claims.sub);
    });

    it('oidcc-userinfo-post-body', async () => {
      const flow = await codeFlow();
      const answer = await userinfo({
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ access_token: flow.tokens.access_token! }).toString(),
      });
      expect(answer.status).toBe(200);
      expect(answer.body.sub).toBe(flow.claims.sub);
    });

    it('userinfo errors (RFC 6750 §3): 401 with WWW-Authenticate: Bearer', async () => {
      const none = await userinfo({});
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer /);
      const bad = await userinfo({ headers: { authorization: 'Bearer not-a-token' } });
      expect(bad.status).toBe(401);
      expect(bad.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
      expect(bad.body.error).toBe('invalid_token');
    });

    it('oidcc-ensure-request-without-nonce-succeeds-for-code-flow', async () => {
      const flow = await codeFlow({ nonce: undefined });
      expect(flow.claims.nonce).toBeUndefined();
    });

    it.each([
      ['oidcc-scope-profile', 'openid profile', ['name', 'preferred_username', 'updated_at'], ['email']],
      ['oidcc-scope-email', 'openid email', ['email', 'email_verified'], ['name']],
      ['oidcc-scope-address', 'openid address', [], ['address']],
      ['oidcc-scope-phone', 'openid phone', [], ['phone_number']],
      ['oidcc-scope-all', 'openid profile email address phone', ['name', 'email', 'email_verified'], ['address', 'phone_number']],
    ])('%s', async (_module, scope, present, absent) => {
      const flow = await codeFlow({ scope });
      // The granted scope names no scope the hub does not offer (address and phone are not in scopes_supported).
      const granted = String(flow.tokens.scope).split(' ');
      for (const name of granted) expect(metadata.scopes_supported).toContain(name);
      const answer = await userinfo({ headers: { authorization: `Bearer ${flow.tokens.access_token}` } });
      expect(answer.status).toBe(200);
      for (const claim of present) expect(answer.body).toHaveProperty(claim);
      for (const claim of absent) expect(answer.body).not.toHaveProperty(claim);
      // OIDC Core §5.1: the standard claims' types.
      if ('updated_at' in answer.body) expect(Number.isInteger(answer.body.updated_at)).toBe(true);
      if ('email_verified' in answer.body) expect(typeof answer.body.email_verified).toBe('boolean');
      if ('name' in answer.body) expect(answer.body.name).toBe('Alice Liddell');
    });

    it('updated_at (OIDC Core §5.1) is when the claims last changed, not when the account was made', async () => {
      const dora = await hub.services.users.create({ username: 'dora', email: 'dora@example.test', name: 'Dora', password: 'dora-password-1' });
      const request = codeRequest('rp-post', REDIRECT, { scope: 'openid profile email' });
      const { callback } = await walk(new TestBrowser(), hub.url, authUrl(hub.url, request.params), { login: 'dora', password: 'dora-password-1' });
      const tokens = await postForm(endpoint('/token'), { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: request.verifier, client_id: 'rp-post', client_secret: secrets.get('rp-post')! });
      const read = async () => (await userinfo({ headers: { authorization: `Bearer ${String(tokens.body.access_token)}` } })).body;
      const before = await read();
      expect(before.updated_at).toBe(dora.createdAt);
      await sleep(1100);
      // A relying party that refreshes its copy of the profile when updated_at moves sees each change.
      await hub.services.users.update(dora.id, { name: 'Dora Explorer' });
      const renamed = await read();
      expect(renamed.name).toBe('Dora Explorer');
      expect(renamed.updated_at).toBeGreaterThan(before.updated_at as number);
      await sleep(1100);
      await hub.services.users.changeEmail(dora.id, 'dora@elsewhere.test', { verified: true });
      const moved = await read();
      expect(moved.email).toBe('dora@elsewhere.test');
      expect(moved.updated_at).toBeGreaterThan(renamed.updated_at as number);
      // A change of no claim (the password's sign-in generation) leaves it.
      await hub.services.users.update(dora.id, { signInGeneration: 'another' });
      expect((await hub.services.users.findById(dora.id))?.updatedAt ?? moved.updated_at).toBe(moved.updated_at);
    });

    it('oidcc-ensure-other-scope-order-succeeds', async () => {
      const flow = await codeFlow({ scope: 'email openid' });
      expect(String(flow.tokens.scope).split(' ').sort()).toEqual(['email', 'openid']);
    });

    it.each([['oidcc-display-page', 'page'], ['oidcc-display-popup', 'popup']])('%s', async (_module, display) => {
      const flow = await codeFlow({ display });
      expect(flow.sawLogin).toBe(true);
    });

    it('oidcc-prompt-login', async () => {
      const first = await codeFlow({ max_age: '3600' });
      await sleep(1100);
      const second = await codeFlow({ prompt: 'login', max_age: '3600' }, first.browser);
      expect(second.sawLogin).toBe(true);
      expect(second.claims.sub).toBe(first.claims.sub);
      // A new authentication: a later auth_time (asked for with max_age, so that both tokens carry it).
      expect(second.claims.auth_time).toBeGreaterThan(first.claims.auth_time as number);
    });

    it('oidcc-prompt-none-not-logged-in', async () => {
      const { params } = codeRequest('rp', REDIRECT, { prompt: 'none' });
      const { error } = await authorizationError(params);
      expect(error).toBe('login_required');
    });

    it('oidcc-prompt-none-logged-in', async () => {
      const first = await codeFlow();
      const second = await codeFlow({ prompt: 'none' }, first.browser);
      expect(second.pages).toHaveLength(0);
      expect(second.claims.sub).toBe(first.claims.sub);
    });

    it('prompt=none where consent is still needed: consent_required (OIDC Core §3.1.2.6)', async () => {
      // Signed in at the portal, never asked about the third-party client rp.
      const browser = await signInAtPortal(hub, 'carol', CAROL_PASSWORD);
      const { error } = await authorizationError(codeRequest('rp', REDIRECT, { prompt: 'none' }).params, browser);
      expect(error).toBe('consent_required');
    });

    it('oidcc-max-age-1', async () => {
      const first = await codeFlow({ max_age: '3600' });
      await sleep(2100);
      const second = await codeFlow({ max_age: '1' }, first.browser);
      // OIDC Core §3.1.2.1: the authentication is too old, so the user signs in again.
      expect(second.sawLogin).toBe(true);
      expect(typeof second.claims.auth_time).toBe('number');
      expect(second.claims.auth_time).toBeGreaterThan(first.claims.auth_time as number);
      // And without a page allowed: login_required, never a code for the old authentication.
      await sleep(2100);
      const { error } = await authorizationError(codeRequest('rp', REDIRECT, { max_age: '1', prompt: 'none' }).params, first.browser);
      expect(error).toBe('login_required');
    }, 20_000);

    it('oidcc-max-age-10000', async () => {
      const signedInAt = nowSeconds();
      const first = await codeFlow();
      const second = await codeFlow({ max_age: '10000' }, first.browser);
      expect(second.sawLogin).toBe(false);
      // OIDC Core §2: auth_time is REQUIRED when max_age was requested: the first sign-in's.
      expect(typeof second.claims.auth_time).toBe('number');
      expect(second.claims.auth_time).toBeGreaterThanOrEqual(signedInAt);
      expect(second.claims.auth_time).toBeLessThanOrEqual(nowSeconds());
    });

    it('oidcc-ensure-request-with-unknown-parameter-succeeds', async () => {
      const flow = await codeFlow({ extra: 'foobar', unknown_parameter_x: '1' });
      expect(flow.claims.sub).toBeTruthy();
    });

    it('oidcc-id-token-hint', async () => {
      const first = await codeFlow();
      const second = await codeFlow({ prompt: 'none', id_token_hint: first.idToken }, first.browser);
      expect(second.pages).toHaveLength(0);
      expect(second.claims.sub).toBe(first.claims.sub);
    });

    it.each([
      ['oidcc-login-hint', { login_hint: 'alice@example.test' }],
      ['oidcc-ui-locales', { ui_locales: 'zh-CN en' }],
      ['oidcc-claims-locales', { claims_locales: 'de se' }],
      ['oidcc-ensure-request-with-acr-values-succeeds', { acr_values: '1 2' }],
    ] as [string, Record<string, string>][])('%s', async (_module, extra) => {
      const flow = await codeFlow(extra);
      expect(flow.claims.sub).toBeTruthy();
    });

    it('oidcc-codereuse', async () => {
      const flow = await codeFlow();
      const again = await exchange('rp', flow.code, flow.request.verifier);
      expect(again.status).toBe(400);
      expect(again.body.error).toBe('invalid_grant');
      // RFC 6749 §4.1.2: the tokens issued for the code SHOULD be revoked (the suite warns otherwise).
      expect((await userinfo({ headers: { authorization: `Bearer ${flow.tokens.access_token}` } })).status).toBe(401);
    });

    it('oidcc-codereuse-30seconds', async () => {
      const flow = await codeFlow();
      await sleep(30_000);
      const again = await exchange('rp', flow.code, flow.request.verifier);
      expect(again.status).toBe(400);
      expect(again.body.error).toBe('invalid_grant');
      expect((await userinfo({ headers: { authorization: `Bearer ${flow.tokens.access_token}` } })).status).toBe(401);
    }, 60_000);

    it('oidcc-ensure-registered-redirect-uri', async () => {
      await errorPage(authUrl(hub.url, codeRequest('rp', 'http://rp.test/not-registered').params));
    });

    it('oidcc-ensure-redirect-uri-in-authorization-request', async () => {
      // Exact matching means the parameter is never implied, even for a client with one URI (README, Security).
      await errorPage(authUrl(hub.url, codeRequest('rp', REDIRECT, { redirect_uri: undefined }).params));
    });

    it('oidcc-ensure-request-object-with-redirect-uri and oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported', async () => {
      // Request objects are not supported (discovery says so): an unsigned one is refused with request_not_supported.
      const { params } = codeRequest('rp', REDIRECT);
      const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
      const payload = Buffer.from(JSON.stringify({ ...params, iss: 'rp', aud: hub.url })).toString('base64url');
      const { error } = await authorizationError({ ...params, request: `${header}.${payload}.` });
      expect(error).toBe('request_not_supported');
    });

    it('oidcc-claims-essential', async () => {
      // The claims parameter is not supported (claims_parameter_supported: false): it is ignored, the request succeeds.
      const claims = JSON.stringify({ userinfo: { name: { essential: true } } });
      const flow = await codeFlow({ scope: 'openid', claims });
      const answer = await userinfo({ headers: { authorization: `Bearer ${flow.tokens.access_token}` } });
      expect(answer.status).toBe(200);
      expect(answer.body.sub).toBe(flow.claims.sub);
    });

    it('oidcc-ensure-request-with-valid-pkce-succeeds', async () => {
      const flow = await codeFlow();
      expect(flow.request.params.code_challenge_method).toBe('S256');
      expect(flow.tokens.access_token).toBeTruthy();
    });

    it('oidcc-ensure-pkce-code-verifier-required', async () => {
      const request = codeRequest('rp', REDIRECT);
      const { callback } = await walk(new TestBrowser(), hub.url, authUrl(hub.url, request.params), ALICE);
      const missing = await exchange('rp', callback.searchParams.get('code')!, undefined);
      expect(missing.status).toBe(400);
      expect(missing.body.error).toBe('invalid_grant');
    });

    it('oidcc-ensure-pkce-invalid-code-verifier', async () => {
      const request = codeRequest('rp', REDIRECT);
      const { callback } = await walk(new TestBrowser(), hub.url, authUrl(hub.url, request.params), ALICE);
      const wrong = await exchange('rp', callback.searchParams.get('code')!, `${request.verifier.slice(0, -4)}AAAA`);
      expect(wrong.status).toBe(400);
      expect(wrong.body.error).toBe('invalid_grant');
    });

    it('PKCE required (deliberate: RFC 9700 §2.1.1): a request without a code_challenge is invalid_request at the redirect URI', async () => {
      const { params } = codeRequest('rp', REDIRECT, { code_challenge: undefined, code_challenge_method: undefined });
      const { error } = await authorizationError(params);
      expect(error).toBe('invalid_request');
    });

    it('oidcc-ensure-post-request-succeeds', async () => {
      // OIDC Core §3.1.2.1: the authorization endpoint takes POST. A signed-in browser's form POST
      // (cross-site in real life: the hub's Lax session cookie rides only on the GET it becomes).
      const browser = new TestBrowser();
      const first = await codeFlow({}, browser);
      const request = codeRequest('rp', REDIRECT, { prompt: 'none' });
      const posted = await browser.post(endpoint('/auth'), request.params as Record<string, string>);
      expect(posted.status).toBe(303);
      const location = new URL(posted.headers.get('location')!, hub.url);
      expect(location.pathname).toBe('/auth');
      // Only the handle of the form kept at the hub: nothing the RP posted is in the URL (post-as-get.test.ts).
      expect([...location.searchParams.keys()]).toEqual(['hub-posted-form']);
      const { callback, pages } = await walk(browser, hub.url, location.toString());
      expect(pages).toHaveLength(0); // silent: the session was found
      const code = expectAuthorizationResponse(callback, request.params.state).get('code')!;
      const answer = await exchange('rp', code, request.verifier);
      expect(answer.status).toBe(200);
      expect((await validIdToken(String(answer.body.id_token), 'rp', request.params.nonce)).sub).toBe(first.claims.sub);
      // A parameter given twice (once in the URL, once in the form) is refused as at a GET.
      const twice = await browser.post(`${endpoint('/auth')}?state=one`, { ...(codeRequest('rp', REDIRECT).params as Record<string, string>), state: 'two' });
      const again = await browser.get(new URL(twice.headers.get('location')!, hub.url).toString());
      const refused = new URL(again.headers.get('location')!);
      expect(refused.origin + refused.pathname).toBe(REDIRECT);
      expect(refused.searchParams.get('error')).toBe('invalid_request');
      expect(refused.searchParams.has('code')).toBe(false);
    });

    it('oidcc-ensure-client-secret-basic', async () => {
      // codeFlow authenticates with Basic (RFC 6749 §2.3.1: id and secret form-encoded first).
      const flow = await codeFlow();
      expect(flow.tokens.access_token).toBeTruthy();
      // And only the right secret: 401 invalid_client with WWW-Authenticate: Basic otherwise.
      const wrong = await postForm(endpoint('/token'), { grant_type: 'refresh_token', refresh_token: flow.tokens.refresh_token! }, { authorization: basic('rp', 'w'.repeat(43)) });
      expect([wrong.status, wrong.body.error]).toEqual([401, 'invalid_client']);
      expect(wrong.headers.get('www-authenticate')).toMatch(/^Basic /);
    });

    it('oidcc-ensure-client-secret-post', async () => {
      const request = codeRequest('rp-post', REDIRECT);
      const { callback } = await walk(new TestBrowser(), hub.url, authUrl(hub.url, request.params), ALICE);
      const answer = await postForm(endpoint('/token'), {
        grant_type: 'authorization_code',
        code: callback.searchParams.get('code')!,
        redirect_uri: REDIRECT,
        code_verifier: request.verifier,
        client_id: 'rp-post',
        client_secret: secrets.get('rp-post')!,
      });
      expect(answer.status).toBe(200);
      await validIdToken(String(answer.body.id_token), 'rp-post', request.params.nonce);
    });

    it('token endpoint errors (RFC 6749 §5.2): JSON, 400 or 401 with WWW-Authenticate, no-store', async () => {
      const bad = await postForm(endpoint('/token'), { grant_type: 'authorization_code', code: 'nope', redirect_uri: REDIRECT, code_verifier: 'x'.repeat(43) }, auth('rp'));
      expect(bad.status).toBe(400);
      expect(bad.headers.get('content-type')).toMatch(/^application\/json/);
      expect(bad.headers.get('cache-control')).toMatch(/no-store/);
      expect(bad.body.error).toBe('invalid_grant');
      const unsupported = await postForm(endpoint('/token'), { grant_type: 'urn:example:nothing' }, auth('rp'));
      expect(unsupported.status).toBe(400);
      expect(unsupported.body.error).toBe('unsupported_grant_type');
      const wrongSecret = await postForm(endpoint('/token'), { grant_type: 'refresh_token', refresh_token: 'x' }, { authorization: basic('rp', 'y'.repeat(43)) });
      expect(wrongSecret.status).toBe(401);
      expect(wrongSecret.headers.get('www-authenticate')).toMatch(/^Basic /);
      expect(wrongSecret.body.error).toBe('invalid_client');
      for (const answer of [bad, unsupported, wrongSecret]) expectErrorText(answer.body.error, answer.body.error_description);
      // A failed client_secret_post (or an unknown client_id in the body) is a 401 too, and a 401
      // names how to authenticate (RFC 9110 §11.6.1): at every endpoint that authenticates clients.
      for (const path of ['/token', '/token/introspection', '/token/revocation', '/request']) {
        for (const client of [{ client_id: 'rp-post', client_secret: 'wrong' }, { client_id: 'nobody', client_secret: 'x' }]) {
          const failed = await postForm(endpoint(path), { grant_type: 'refresh_token', refresh_token: 'x', token: 'x', response_type: 'code', redirect_uri: REDIRECT, ...client });
          expect([path, failed.status, failed.body.error]).toEqual([path, 401, 'invalid_client']);
          expect(failed.headers.get('www-authenticate')).toMatch(/^Basic realm="/);
        }
      }
    });

    it('authorization errors (RFC 6749 §4.1.2.1, RFC 9207): at the redirect URI with state and iss', async () => {
      const unknownType = await authorizationError(codeRequest('rp', REDIRECT, { response_type: 'bogus' }).params);
      expect(unknownType.error).toBe('unsupported_response_type');
      const badScope = await authorizationError(codeRequest('rp', REDIRECT, { scope: 'openid "quoted"' }).params);
      expect(badScope.error).toBe('invalid_scope');
      // Implicit (deliberate, README): a bare token is unsupported_response_type; id_token token only for a client registered for it.
      const bareToken = await authorizationError(codeRequest('rp', REDIRECT, { response_type: 'token' }).params, undefined, 'fragment');
      expect(bareToken.error).toBe('unsupported_response_type');
      const notRegistered = await authorizationError(codeRequest('rp', REDIRECT, { response_type: 'id_token token' }).params, undefined, 'fragment');
      expect(notRegistered.error).toBe('unauthorized_client');
    });
  });

  describe('more of what the modules check on the way', () => {
    it('a code redeemed with another redirect_uri than its request named: invalid_grant (RFC 6749 §4.1.3)', async () => {
      const request = codeRequest('rp', REDIRECT);
      const { callback } = await walk(new TestBrowser(), hub.url, authUrl(hub.url, request.params), ALICE);
      const answer = await exchange('rp', callback.searchParams.get('code')!, request.verifier, 'http://rp.test/other');
      expect([answer.status, answer.body.error]).toEqual([400, 'invalid_grant']);
    });

    it('response_mode=fragment for a code: code, state and iss in the fragment', async () => {
      const browser = new TestBrowser();
      await codeFlow({}, browser);
      const request = codeRequest('rp', REDIRECT, { response_mode: 'fragment' });
      const { callback } = await walk(browser, hub.url, authUrl(hub.url, request.params));
      expect(callback.search).toBe('');
      const fragment = expectAuthorizationResponse(callback, request.params.state, 'fragment');
      expect((await exchange('rp', fragment.get('code')!, request.verifier)).status).toBe(200);
    });

    it("prompt=none with another user's id_token_hint: login_required, no code (OIDC Core §3.1.2.1)", async () => {
      const request = codeRequest('rp', REDIRECT);
      const { callback } = await walk(new TestBrowser(), hub.url, authUrl(hub.url, request.params), { login: 'carol', password: CAROL_PASSWORD });
      const carolToken = String((await exchange('rp', callback.searchParams.get('code')!, request.verifier)).body.id_token);
      const alice = await codeFlow();
      const { error } = await authorizationError(codeRequest('rp', REDIRECT, { prompt: 'none', id_token_hint: carolToken }).params, alice.browser);
      expect(error).toBe('login_required');
    });

    it("an id_token_hint naming another user: a sign-in as someone else gets no code, the form says so; a sign-in as the user named gets theirs (OIDC Core §3.1.2.1)", async () => {
      const first = codeRequest('rp', REDIRECT);
      const carolFlow = await walk(new TestBrowser(), hub.url, authUrl(hub.url, first.params), { login: 'carol', password: CAROL_PASSWORD });
      const carolToken = String((await exchange('rp', carolFlow.callback.searchParams.get('code')!, first.verifier)).body.id_token);
      const alice = await codeFlow(); // this browser is signed in as alice
      const request = codeRequest('rp', REDIRECT, { id_token_hint: carolToken });
      const start = await alice.browser.get(authUrl(hub.url, request.params));
      const interactionUrl = new URL(start.headers.get('location')!, hub.url).toString();
      expect(interactionUrl).toMatch(/\/interaction\//);
      // The right password of the wrong account: the form again, no code for alice.
      const wrong = await signInAt(alice.browser, hub.url, interactionUrl, ALICE.login, ALICE.password);
      expect(wrong.response.status).toBe(403);
      expect(wrong.body).toContain('This site asked for a different account.');
      expect(wrong.body).toMatch(/action="\/interaction\/[^"]+\/login"/);
      // The account the hint names: its code.
      const right = await signInAt(alice.browser, hub.url, interactionUrl, 'carol', CAROL_PASSWORD);
      expect(right.response.status).toBe(200);
      // Another account than the session's: oidc-provider ends alice's session first (a form the
      // browser posts by itself), then answers the request.
      const switching = await alice.browser.get(continueUrlOf(right.body, hub.url));
      const form = await switching.text();
      expect(form).toContain('/session/end/confirm');
      const fields = Object.fromEntries([...form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
      const ended = await alice.browser.post(`${hub.url}/session/end/confirm`, fields);
      expect(ended.status).toBe(200); // the sign-out's sync page, which goes on to the request
      const { callback } = await walk(alice.browser, hub.url, continueUrlOf(await ended.text(), hub.url));
      const params = expectAuthorizationResponse(callback, request.params.state);
      const answer = await exchange('rp', params.get('code')!, request.verifier);
      expect(decodeJwt(String(answer.body.id_token)).sub).toBe(decodeJwt(carolToken).sub);
    });

    it('DPoP (RFC 9449; discovery advertises dpop_signing_alg_values_supported): a bound token works only with its proof', async () => {
      const { privateKey, publicKey } = await generateKeyPair('ES256');
      const jwk = await exportJWK(publicKey);
      const proof = (htm: string, htu: string, accessToken?: string) =>
        new SignJWT({ htm, htu, ...(accessToken ? { ath: createHash('sha256').update(accessToken).digest('base64url') } : {}) })
          .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk })
          .setIssuedAt()
          .setJti(randomUUID())
          .sign(privateKey);
      const request = codeRequest('rp', REDIRECT);
      const browser = new TestBrowser();
      await codeFlow({}, browser);
      const { callback } = await walk(browser, hub.url, authUrl(hub.url, request.params));
      const tokenUrl = String(metadata.token_endpoint);
      const answer = await postForm(tokenUrl, { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: request.verifier }, { ...auth('rp'), dpop: await proof('POST', tokenUrl) });
      expect(answer.status).toBe(200);
      expect(answer.body.token_type).toBe('DPoP');
      const accessToken = String(answer.body.access_token);
      const userinfoUrl = String(metadata.userinfo_endpoint);
      const bound = await userinfo({ headers: { authorization: `DPoP ${accessToken}`, dpop: await proof('GET', userinfoUrl, accessToken) } });
      expect(bound.status).toBe(200);
      // Without its proof (as a Bearer token): refused.
      const bearer = await userinfo({ headers: { authorization: `Bearer ${accessToken}` } });
      expect(bearer.status).toBe(401);
      // RFC 9449 §5: a confidential client's refresh token is bound by its client authentication,
      // not to the key: a refresh with a proof gets a DPoP token again, one without a Bearer token.
      const proven = await postForm(tokenUrl, { grant_type: 'refresh_token', refresh_token: String(answer.body.refresh_token) }, { ...auth('rp'), dpop: await proof('POST', tokenUrl) });
      expect([proven.status, proven.body.token_type]).toEqual([200, 'DPoP']);
    });

    it('prompt=consent asks again, even with the consent remembered (OIDC Core §3.1.2.1)', async () => {
      const first = await codeFlow();
      const again = await codeFlow({}, first.browser);
      expect(again.sawConsent).toBe(false);
      const asked = await codeFlow({ prompt: 'consent' }, first.browser);
      expect(asked.sawLogin).toBe(false);
      expect(asked.sawConsent).toBe(true);
    });

    it('access_denied from the sign-in page (Cancel) and from the consent page (Deny): with state and iss', async () => {
      const cancelRequest = codeRequest('rp', REDIRECT);
      const browser = new TestBrowser();
      const landed = await browser.follow(authUrl(hub.url, cancelRequest.params));
      const abort = new URL(attribute(landed.body, /action="(\/interaction\/[^"]+\/abort)"/), hub.url).toString();
      const cancelled = await browser.post(abort, { _csrf: inputValue(landed.body, '_csrf') });
      const { callback: afterCancel } = await walk(browser, hub.url, new URL(cancelled.headers.get('location')!, hub.url).toString());
      const cancelAnswer = expectAuthorizationResponse(afterCancel, cancelRequest.params.state);
      expect(cancelAnswer.get('error')).toBe('access_denied');
      expectErrorText(cancelAnswer.get('error'), cancelAnswer.get('error_description'));

      // Erin has not allowed rp yet: signs in, then denies on the consent page.
      const denyRequest = codeRequest('rp', REDIRECT);
      const denier = new TestBrowser();
      const start = await denier.follow(authUrl(hub.url, denyRequest.params));
      const { response, body } = await signInAt(denier, hub.url, start.url, 'erin', 'erin-password-1');
      expect(response.status).toBe(200);
      const consent = await denier.follow(continueUrlOf(body, hub.url));
      const deny = attribute(consent.body, /action="(\/interaction\/[^"]+\/(?:abort|deny|cancel))"/);
      const denied = await denier.post(new URL(deny, hub.url).toString(), { _csrf: inputValue(consent.body, '_csrf') });
      const { callback: afterDeny } = await walk(denier, hub.url, new URL(denied.headers.get('location')!, hub.url).toString());
      const denyAnswer = expectAuthorizationResponse(afterDeny, denyRequest.params.state);
      expect(denyAnswer.get('error')).toBe('access_denied');
      expectErrorText(denyAnswer.get('error'), denyAnswer.get('error_description'));
    });

    it('tokens of an account disabled since: userinfo 401 invalid_token, refresh 400 invalid_grant (never a 500)', async () => {
      const fay = await hub.services.users.create({ username: 'fay', email: 'fay@example.test', password: 'fay-password-1' });
      const request = codeRequest('rp-other', REDIRECT);
      const { callback } = await walk(new TestBrowser(), hub.url, authUrl(hub.url, request.params), { login: 'fay', password: 'fay-password-1' });
      const tokens = await exchange('rp-other', callback.searchParams.get('code')!, request.verifier);
      expect(tokens.status).toBe(200);
      await hub.services.users.update(fay.id, { disabled: true });
      const info = await userinfo({ headers: { authorization: `Bearer ${String(tokens.body.access_token)}` } });
      expect([info.status, info.body.error]).toEqual([401, 'invalid_token']);
      expect(info.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
      const refreshed = await postForm(endpoint('/token'), { grant_type: 'refresh_token', refresh_token: String(tokens.body.refresh_token) }, auth('rp-other'));
      expect([refreshed.status, refreshed.body.error]).toEqual([400, 'invalid_grant']);
    });

    it('two client authentication methods in one request: refused (RFC 6749 §2.3)', async () => {
      const answer = await postForm(endpoint('/token'), { grant_type: 'refresh_token', refresh_token: 'x', client_id: 'rp', client_secret: secrets.get('rp')! }, auth('rp'));
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.status).toBeLessThan(500);
      expect(['invalid_request', 'invalid_client']).toContain(answer.body.error);
    });

    it('a token request that is not form-encoded: 400 invalid_request in JSON (RFC 6749 §3.2)', async () => {
      const answer = await readJson(await fetch(endpoint('/token'), { method: 'POST', headers: { 'content-type': 'application/json', ...auth('rp') }, body: JSON.stringify({ grant_type: 'client_credentials' }) }));
      expect([answer.status, answer.body.error]).toEqual([400, 'invalid_request']);
      expectErrorText(answer.body.error, answer.body.error_description);
    });

    it('request_uri that no pushed request issued: an error at the redirect URI, not a fetch', async () => {
      const { params } = codeRequest('rp', REDIRECT);
      const response = await new TestBrowser().get(authUrl(hub.url, { ...params, request_uri: 'https://attacker.example/request.jwt' }));
      const body = await response.text();
      expect(response.status).not.toBe(500);
      const location = response.headers.get('location');
      const error = location ? new URL(location).searchParams.get('error') : /invalid_request_uri|request_uri_not_supported|invalid_request/.exec(body)?.[0];
      expect(['invalid_request_uri', 'request_uri_not_supported', 'invalid_request']).toContain(error);
    });
  });

  describe('Basic OP: the implicit form the hub offers (id_token token, per client)', () => {
    it('oidcc-implicit (id_token token): at_hash, nonce required, tokens in the fragment', async () => {
      const nonce = 'n-implicit-1';
      const params = { client_id: 'rp-implicit', response_type: 'id_token token', redirect_uri: IMPLICIT_REDIRECT, scope: 'openid email', state: 's-implicit', nonce };
      const { callback } = await walk(new TestBrowser(), hub.url, authUrl(hub.url, params), ALICE);
      expect(callback.origin + callback.pathname).toBe(IMPLICIT_REDIRECT);
      const fragment = new URLSearchParams(callback.hash.slice(1));
      expect(fragment.get('state')).toBe('s-implicit');
      // RFC 9207 §2.4: a response with an ID token identifies its issuer by the token's iss (checked below).
      expect([null, hub.url]).toContain(fragment.get('iss'));
      expect(callback.search).toBe('');
      const idToken = fragment.get('id_token')!;
      const accessToken = fragment.get('access_token')!;
      const claims = await validIdToken(idToken, 'rp-implicit', nonce);
      // OIDC Core §3.2.2.10: at_hash is REQUIRED with response_type=id_token token.
      expect(claims.at_hash).toBe(halfHash(accessToken));
      expect(fragment.get('token_type')?.toLowerCase()).toBe('bearer');
      expect((await userinfo({ headers: { authorization: `Bearer ${accessToken}` } })).body.sub).toBe(claims.sub);

      const noNonce = await authorizationError({ ...params, nonce: undefined }, undefined, 'fragment');
      expect(noNonce.error).toBe('invalid_request');
      // OAuth 2.0 Multiple Response Type Encoding §5: tokens never travel in the query.
      const inQuery = await walk(new TestBrowser(), hub.url, authUrl(hub.url, { ...params, response_mode: 'query' }));
      expect(inQuery.callback.searchParams.has('access_token')).toBe(false);
      expect(new URLSearchParams(inQuery.callback.hash.slice(1)).get('error') ?? inQuery.callback.searchParams.get('error')).toBe('invalid_request');
    });
  });

  describe('response_mode=form_post (OAuth 2.0 Form Post Response Mode)', () => {
    /** The auto-submitting page: its form's action and fields, and whether its CSP lets its one script run. */
    async function formPostPage(response: Response) {
      const html = await response.text();
      // (oidc-provider sends an error's page as 400; a browser runs it all the same.)
      expect([200, 400]).toContain(response.status);
      expect(response.headers.get('location')).toBeNull();
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
      const fields = Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\/>/g)].map((m) => [m[1]!, m[2]!]));
      const script = /<script>([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
      const csp = response.headers.get('content-security-policy') ?? '';
      const scriptSrc = /(?:^|;)\s*script-src ([^;]*)/.exec(csp)?.[1] ?? '';
      const digest = `'sha256-${createHash('sha256').update(script).digest('base64')}'`;
      // The page submits itself with that script: the CSP must allow exactly it (or there is no CSP for scripts).
      expect(csp === '' || scriptSrc.split(/\s+/).includes(digest)).toBe(true);
      // And the form may post to the client (form-action does not fall back to default-src).
      expect(csp).not.toMatch(/form-action/);
      return { action, fields };
    }

    it('oidcc-response-mode-form-post', async () => {
      const browser = new TestBrowser();
      await codeFlow({}, browser);
      const request = codeRequest('rp', REDIRECT, { response_mode: 'form_post', prompt: 'none' });
      const { action, fields } = await formPostPage(await browser.get(authUrl(hub.url, request.params)));
      expect(action).toBe(REDIRECT);
      expect(fields.state).toBe(request.params.state);
      expect(fields.iss).toBe(hub.url);
      const answer = await exchange('rp', fields.code!, request.verifier);
      expect(answer.status).toBe(200);
    });

    it('oidcc-response-mode-form-post after a sign-in (the resume answers with the form)', async () => {
      const browser = new TestBrowser();
      const request = codeRequest('rp-other', REDIRECT, { response_mode: 'form_post' });
      const start = await browser.follow(authUrl(hub.url, request.params));
      const { response, body } = await signInAt(browser, hub.url, start.url, ALICE.login, ALICE.password);
      expect(response.status).toBe(200);
      let page = await browser.get(continueUrlOf(body, hub.url));
      for (let hop = 0; hop < 5 && page.status >= 300 && page.status < 400; hop += 1) {
        page = await browser.get(new URL(page.headers.get('location')!, hub.url).toString());
      }
      const { action, fields } = await formPostPage(page);
      expect(action).toBe(REDIRECT);
      expect(fields).toMatchObject({ state: request.params.state, iss: hub.url });
      expect((await exchange('rp-other', fields.code!, request.verifier)).status).toBe(200);
    });

    it('oidcc-response-mode-form-post-error', async () => {
      const request = codeRequest('rp', REDIRECT, { response_mode: 'form_post', prompt: 'none' });
      const { action, fields } = await formPostPage(await new TestBrowser().get(authUrl(hub.url, request.params)));
      expect(action).toBe(REDIRECT);
      expect(fields).toMatchObject({ error: 'login_required', state: request.params.state, iss: hub.url });
      expect(fields.code).toBeUndefined();
    });
  });

  describe('refresh tokens', () => {
    it('oidcc-refresh-token', async () => {
      const flow = await codeFlow({ max_age: '3600' });
      expect(typeof flow.claims.auth_time).toBe('number');
      expect(flow.tokens.refresh_token).toBeTruthy();
      const refreshed = await postForm(endpoint('/token'), { grant_type: 'refresh_token', refresh_token: flow.tokens.refresh_token! }, auth('rp'));
      expect(refreshed.status).toBe(200);
      expect(refreshed.body.access_token).not.toBe(flow.tokens.access_token);
      // Rotation (RFC 9700 §4.14.2).
      expect(refreshed.body.refresh_token).toBeTruthy();
      expect(refreshed.body.refresh_token).not.toBe(flow.tokens.refresh_token);
      // OIDC Core §12.2: same iss, sub, aud; auth_time of the original authentication.
      const claims = await validIdToken(String(refreshed.body.id_token), 'rp', decodeJwt(flow.idToken).nonce as string | undefined);
      expect(claims.sub).toBe(flow.claims.sub);
      expect(claims.auth_time).toBe(flow.claims.auth_time);
      const info = await userinfo({ headers: { authorization: `Bearer ${String(refreshed.body.access_token)}` } });
      expect(info.body.sub).toBe(flow.claims.sub);

      // Another client cannot use it.
      const stolen = await postForm(endpoint('/token'), { grant_type: 'refresh_token', refresh_token: String(refreshed.body.refresh_token) }, auth('rp-other'));
      expect(stolen.status).toBe(400);
      expect(stolen.body.error).toBe('invalid_grant');

      // The rotated-out token again: invalid_grant, and the grant (the newest pair too) is revoked.
      const reuse = await postForm(endpoint('/token'), { grant_type: 'refresh_token', refresh_token: flow.tokens.refresh_token! }, auth('rp'));
      expect(reuse.status).toBe(400);
      expect(reuse.body.error).toBe('invalid_grant');
      const newest = await postForm(endpoint('/token'), { grant_type: 'refresh_token', refresh_token: String(refreshed.body.refresh_token) }, auth('rp'));
      expect(newest.body.error).toBe('invalid_grant');
    });
  });

  describe('RP-Initiated Logout 1.0 and Back-Channel Logout 1.0', () => {
    /** The end-session request's page, and (when it needs one) the confirmation: the sync page's continue target. */
    async function endSession(browser: TestBrowser, query: Record<string, string>): Promise<{ page: string; target: string | undefined }> {
      const response = await browser.get(`${hub.url}/session/end?${new URLSearchParams(query).toString()}`);
      const page = await response.text();
      expect(response.status).toBe(200);
      const xsrf = /name="xsrf" value="([^"]+)"/.exec(page)?.[1];
      if (!xsrf) return { page, target: undefined };
      const done = await browser.post(`${hub.url}/session/end/confirm`, { xsrf, logout: 'yes' });
      const sync = await done.text();
      const target = /data-continue="([^"]+)"/.exec(sync)?.[1]?.replace(/&amp;/g, '&');
      return { page: sync, target };
    }

    async function signedOut(browser: TestBrowser): Promise<void> {
      const { error } = await authorizationError(codeRequest('rp', REDIRECT, { prompt: 'none' }).params, browser);
      expect(error).toBe('login_required');
    }

    it('oidcc-rp-initiated-logout', async () => {
      const flow = await codeFlow();
      const { target } = await endSession(flow.browser, { id_token_hint: flow.idToken, post_logout_redirect_uri: POST_LOGOUT, state: 'bye-1' });
      expect(target).toBe(`${POST_LOGOUT}?state=bye-1`);
      await signedOut(flow.browser);
    });

    it('oidcc-rp-initiated-logout-no-state', async () => {
      const flow = await codeFlow();
      const { target } = await endSession(flow.browser, { id_token_hint: flow.idToken, post_logout_redirect_uri: POST_LOGOUT });
      expect(target).toBe(POST_LOGOUT);
      await signedOut(flow.browser);
    });

    it('oidcc-rp-initiated-logout-no-id-token-hint (client_id instead)', async () => {
      const flow = await codeFlow();
      const { target } = await endSession(flow.browser, { client_id: 'rp', post_logout_redirect_uri: POST_LOGOUT, state: 'bye-2' });
      expect(target).toBe(`${POST_LOGOUT}?state=bye-2`);
      await signedOut(flow.browser);
    });

    it.each([
      ['oidcc-rp-initiated-logout-no-params', {}],
      ['oidcc-rp-initiated-logout-only-state', { state: 'bye-3' }],
      ['oidcc-rp-initiated-logout-no-post-logout-redirect-uri', { state: 'bye-4' }],
    ] as [string, Record<string, string>][])('%s: signs out, goes to no client', async (module, query) => {
      const flow = await codeFlow();
      const full = module.endsWith('no-post-logout-redirect-uri') ? { ...query, id_token_hint: flow.idToken } : query;
      const { target } = await endSession(flow.browser, full);
      expect(target === undefined || target.startsWith('/') || target.startsWith(hub.url)).toBe(true);
      await signedOut(flow.browser);
    });

    it.each([
      ['oidcc-rp-initiated-logout-bad-post-logout-redirect-uri', 'http://rp.test/not-registered'],
      ['oidcc-rp-initiated-logout-query-added-to-post-logout-redirect-uri', `${POST_LOGOUT}?extra=1`],
    ])('%s (deliberate: the target is dropped, never followed; the sign-out goes on)', async (_module, uri) => {
      const flow = await codeFlow();
      const { page, target } = await endSession(flow.browser, { id_token_hint: flow.idToken, post_logout_redirect_uri: uri, state: 'bye-5' });
      expect(page).not.toContain(uri);
      expect(target === undefined || target.startsWith('/') || target.startsWith(hub.url)).toBe(true);
      await signedOut(flow.browser);
    });

    it('oidcc-rp-initiated-logout-modified-id-token-hint', async () => {
      const flow = await codeFlow();
      const [h, p, s] = flow.idToken.split('.') as [string, string, string];
      const forged = `${h}.${p}.${s.slice(0, -6)}${s.slice(-6) === 'AAAAAA' ? 'BBBBBB' : 'AAAAAA'}`;
      const response = await flow.browser.get(`${hub.url}/session/end?${new URLSearchParams({ id_token_hint: forged, post_logout_redirect_uri: POST_LOGOUT, state: 'x' }).toString()}`);
      const html = await response.text();
      expect(response.status).toBe(400);
      expect(response.headers.get('location')).toBeNull();
      expect(html).toContain('invalid_request');
      // Nothing ended: the session still answers silently.
      const silent = await codeFlow({ prompt: 'none' }, flow.browser);
      expect(silent.claims.sub).toBe(flow.claims.sub);
    });

    it('end_session by POST (RP-Initiated Logout 1.0 §2): the form goes on as a GET carrying only its handle and ends the session', async () => {
      const flow = await codeFlow();
      const posted = await flow.browser.post(endpoint('/session/end'), { id_token_hint: flow.idToken, post_logout_redirect_uri: POST_LOGOUT, state: 'bye-post' });
      expect(posted.status).toBe(303);
      const location = new URL(posted.headers.get('location')!, hub.url);
      expect(location.pathname).toBe('/session/end');
      expect([...location.searchParams.keys()]).toEqual(['hub-posted-form']); // no id_token_hint in the URL
      const { target } = await endSession(flow.browser, Object.fromEntries(location.searchParams));
      expect(target).toBe(`${POST_LOGOUT}?state=bye-post`);
      await signedOut(flow.browser);
    });

    it('oidcc-backchannel-rp-initiated-logout', async () => {
      logoutTokens.length = 0;
      const flow = await codeFlow();
      expect(typeof flow.claims.sid).toBe('string');
      const { target } = await endSession(flow.browser, { id_token_hint: flow.idToken, post_logout_redirect_uri: POST_LOGOUT, state: 'bye-6' });
      expect(target).toBe(`${POST_LOGOUT}?state=bye-6`);
      // Only this session's tokens: the sign-outs of the tests before this one queued back-channel
      // deliveries of their own, which a busy machine may deliver while this test runs.
      const mine = () => logoutTokens.filter((t) => decodeJwt(t).sid === flow.claims.sid);
      for (let i = 0; i < 100 && mine().length === 0; i += 1) await sleep(50);
      await sleep(200); // a second delivery for this session, if there were one, would come now
      expect(mine()).toHaveLength(1);
      const token = mine()[0]!;
      // Back-Channel Logout 1.0 §2.4 / §2.6.
      expect(decodeProtectedHeader(token).typ).toBe('logout+jwt');
      const { payload } = await jwtVerify(token, await jwks(), { issuer: hub.url, audience: 'rp', algorithms: ['RS256'] });
      expect(payload.sub).toBe(flow.claims.sub);
      expect(payload.sid).toBe(flow.claims.sid);
      expect(payload.events).toEqual({ [BACKCHANNEL_EVENT]: {} });
      expect(typeof payload.jti).toBe('string');
      expect(Math.abs(payload.iat! - nowSeconds())).toBeLessThanOrEqual(10);
      expect(payload).not.toHaveProperty('nonce');
      await signedOut(flow.browser);
    });
  });
});
