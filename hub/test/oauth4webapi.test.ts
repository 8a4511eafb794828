/**
 * oauth4webapi (panva's strict OAuth 2.0 / OpenID Connect client, the engine under openid-client 6,
 * express-openid-connect and Auth.js) against the hub, every answer judged by the library's own
 * validation functions: what an outside review ran by hand (README, "Tested with …"), now in CI.
 * Over plain http every request needs `allowInsecureRequests`.
 */
import * as oauth from 'oauth4webapi';
import { attribute, inputValue, TestBrowser } from '../src/testing/browser.js';
import { authorize, walk } from '../src/testing/flows.js';
import { startTestHub, testStoreKinds, type RunningHub } from '../src/testing/test-hub.js';

const REDIRECT = 'http://rp.test/cb';
const ALICE = { login: 'alice', password: 'wonderland-123' };
const MAX_AGE = 300; // seconds: asked in the request, checked against the ID token's auth_time
const insecure = { [oauth.allowInsecureRequests]: true } as const;

type Alg = 'RS256' | 'ES256' | 'EdDSA';
const CLIENTS: Record<Alg, string> = { RS256: 'rp', ES256: 'rp-es', EdDSA: 'rp-ed' };

describe.each(testStoreKinds())('oauth4webapi (a strict RP library nobody here wrote) against the hub on %s', (kind) => {
  let hub: RunningHub;
  let as: oauth.AuthorizationServer;
  const secrets = new Map<string, string>();

  const clientOf = (alg: Alg): oauth.Client => ({ client_id: CLIENTS[alg], id_token_signed_response_alg: alg });

  /** A code request with PKCE S256, state, nonce and max_age, and the values to check its answer by. */
  async function codeRequest(client: oauth.Client, extra: Record<string, string> = {}) {
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const nonce = oauth.generateRandomNonce();
    const url = new URL(as.authorization_endpoint!);
    url.search = new URLSearchParams({
      client_id: client.client_id,
      redirect_uri: REDIRECT,
      response_type: 'code',
      scope: 'openid profile email',
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      max_age: String(MAX_AGE),
      ...extra,
    }).toString();
    return { url: url.toString(), verifier, state, nonce };
  }

  /** Signs alice in through the portal and redeems the code; every step validated by the library. */
  async function signIn(alg: Alg, auth: oauth.ClientAuth = oauth.ClientSecretBasic(secrets.get(CLIENTS[alg])!), dpop?: oauth.DPoPHandle) {
    const client = clientOf(alg);
    const request = await codeRequest(client);
    const callback = await authorize(new TestBrowser(), hub.url, request.url, ALICE);
    expect(callback.origin + callback.pathname).toBe(REDIRECT);
    // RFC 9207: discovery says the answer carries iss, so the library requires it and compares it.
    const params = oauth.validateAuthResponse(as, client, callback, request.state);
    const redeem = () => oauth.authorizationCodeGrantRequest(as, client, auth, params, REDIRECT, request.verifier, { ...insecure, ...(dpop ? { DPoP: dpop } : {}) });
    const tokens = await processWithNonceRetry(
      redeem,
      (response) => oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: request.nonce, maxAge: MAX_AGE, requireIdToken: true }),
    );
    return { client, auth, tokens, claims: oauth.getValidatedIdTokenClaims(tokens)! };
  }

  /** RFC 9449 §8: an answer asking for a DPoP nonce is tried once more (the handle has kept the nonce). */
  async function processWithNonceRetry<T>(send: () => Promise<Response>, process: (response: Response) => Promise<T>): Promise<T> {
    try {
      return await process(await send());
    } catch (error) {
      if (!oauth.isDPoPNonceError(error)) throw error;
      return process(await send());
    }
  }

  /** What the library throws for an answer, or fails the test if it accepts it. */
  async function refusal(answer: Promise<unknown>): Promise<unknown> {
    try {
      await answer;
    } catch (error) {
      return error;
    }
    throw new Error('the library accepted the answer');
  }

  beforeAll(async () => {
    hub = await startTestHub(kind);
    await hub.services.users.create({ username: 'alice', email: 'alice@example.test', name: 'Alice Liddell', password: ALICE.password });
    for (const alg of Object.keys(CLIENTS) as Alg[]) {
      const client = await hub.services.clients.register({
        clientId: CLIENTS[alg],
        name: `Relying Party ${alg}`,
        redirectUris: [REDIRECT],
        trusted: true,
        grantTypes: ['authorization_code', 'refresh_token'],
        ...(alg === 'RS256' ? {} : { idTokenSignedResponseAlg: alg }),
      });
      secrets.set(CLIENTS[alg], client.clientSecret!);
    }
    as = await oauth.processDiscoveryResponse(new URL(hub.url), await oauth.discoveryRequest(new URL(hub.url), { algorithm: 'oidc', ...insecure }));
  });
  afterAll(() => hub.close());

  describe('OpenID Connect Discovery 1.0 / RFC 8414', () => {
    test('processDiscoveryResponse accepts the metadata for the hub as issuer, and refuses it for another', async () => {
      const metadata = await oauth.processDiscoveryResponse(new URL(hub.url), await oauth.discoveryRequest(new URL(hub.url), { algorithm: 'oidc', ...insecure }));
      expect(metadata.issuer).toBe(hub.url);
      expect(metadata.authorization_response_iss_parameter_supported).toBe(true);
      expect(metadata.code_challenge_methods_supported).toEqual(['S256']);
      expect(metadata.id_token_signing_alg_values_supported).toEqual(expect.arrayContaining(['RS256', 'ES256', 'EdDSA']));
      const elsewhere = await refusal(oauth.processDiscoveryResponse(new URL('http://elsewhere.test'), await oauth.discoveryRequest(new URL(hub.url), { algorithm: 'oidc', ...insecure })));
      expect(elsewhere).toBeInstanceOf(oauth.OperationProcessingError);
    });
  });

  describe('RFC 6749 §4.1 + RFC 7636 (S256) + RFC 9207: code flow, ID token per signing alg', () => {
    test.each(['RS256', 'ES256', 'EdDSA'] as Alg[])('%s: the answer (state, iss), the token answer (ID token alg, nonce, auth_time within max_age), a refresh', async (alg) => {
      const { client, auth, tokens, claims } = await signIn(alg);
      expect(claims).toMatchObject({ iss: hub.url, aud: client.client_id, email: 'alice@example.test' });
      expect(typeof claims.auth_time).toBe('number');
      expect(tokens.token_type).toBe('bearer');
      // The refresh's ID token is checked against the same alg by the library.
      const refreshed = await oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, auth, tokens.refresh_token!, insecure));
      expect(oauth.getValidatedIdTokenClaims(refreshed)!.sub).toBe(claims.sub);
    });

    test('the ID token of a client registered with another alg is refused by the library (the check has teeth)', async () => {
      const { tokens } = await signIn('ES256');
      // Claiming rp-es expects RS256: its ES256 refresh answer must not pass.
      const wrong: oauth.Client = { client_id: CLIENTS.ES256, id_token_signed_response_alg: 'RS256' };
      const answer = await oauth.refreshTokenGrantRequest(as, wrong, oauth.ClientSecretBasic(secrets.get(CLIENTS.ES256)!), tokens.refresh_token!, insecure);
      expect(await refusal(oauth.processRefreshTokenResponse(as, wrong, answer))).toMatchObject({ code: oauth.INVALID_RESPONSE, message: expect.stringContaining('"alg"') });
    });

    test('a wrong PKCE verifier and a used code: invalid_grant', async () => {
      const client = clientOf('RS256');
      const auth = oauth.ClientSecretBasic(secrets.get('rp')!);
      const browser = new TestBrowser();
      const first = await codeRequest(client);
      const firstParams = oauth.validateAuthResponse(as, client, await authorize(browser, hub.url, first.url, ALICE), first.state);
      const wrongVerifier = await refusal(oauth.processAuthorizationCodeResponse(as, client, await oauth.authorizationCodeGrantRequest(as, client, auth, firstParams, REDIRECT, oauth.generateRandomCodeVerifier(), insecure)));
      expect(wrongVerifier).toMatchObject({ code: oauth.RESPONSE_BODY_ERROR, error: 'invalid_grant', status: 400 });
      // A second code in the same hub session (no sign-in page), redeemed, then redeemed again.
      const second = await codeRequest(client);
      const params = oauth.validateAuthResponse(as, client, await authorize(browser, hub.url, second.url), second.state);
      const redeem = async () => oauth.processAuthorizationCodeResponse(as, client, await oauth.authorizationCodeGrantRequest(as, client, auth, params, REDIRECT, second.verifier, insecure), { expectedNonce: second.nonce, maxAge: MAX_AGE, requireIdToken: true });
      expect((await redeem()).access_token).toBeTruthy();
      expect(await refusal(redeem())).toMatchObject({ code: oauth.RESPONSE_BODY_ERROR, error: 'invalid_grant', status: 400 });
    });
  });

  describe('RFC 9207: error answers carry iss, and validateAuthResponse reports the error itself', () => {
    test('login_required after prompt=none without a hub session', async () => {
      const client = clientOf('RS256');
      const request = await codeRequest(client, { prompt: 'none' });
      const { callback } = await walk(new TestBrowser(), hub.url, request.url);
      const error = await refusal(Promise.resolve().then(() => oauth.validateAuthResponse(as, client, callback, request.state)));
      // Without iss (or with another) the library throws an OperationProcessingError instead.
      expect(error).toBeInstanceOf(oauth.AuthorizationResponseError);
      expect((error as oauth.AuthorizationResponseError).error).toBe('login_required');
    });

    test('access_denied after Cancel on the sign-in page', async () => {
      const client = clientOf('RS256');
      const request = await codeRequest(client);
      const browser = new TestBrowser();
      const landed = await browser.follow(request.url);
      const abort = new URL(attribute(landed.body, /action="(\/interaction\/[^"]+\/abort)"/), hub.url).toString();
      const cancelled = await browser.post(abort, { _csrf: inputValue(landed.body, '_csrf') });
      const { callback } = await walk(browser, hub.url, new URL(cancelled.headers.get('location')!, hub.url).toString());
      const error = await refusal(Promise.resolve().then(() => oauth.validateAuthResponse(as, client, callback, request.state)));
      // As above: only an answer with the hub's iss gets this far.
      expect(error).toBeInstanceOf(oauth.AuthorizationResponseError);
      expect((error as oauth.AuthorizationResponseError).error).toBe('access_denied');
    });
  });

  describe('OIDC Core §5.3 userinfo, and RFC 9700 §4.14.2 refresh token rotation', () => {
    test('userinfo with the sub check; a refresh rotates; the used refresh token is invalid_grant and revokes the grant', async () => {
      const { client, tokens, claims } = await signIn('RS256');
      const info = await oauth.processUserInfoResponse(as, client, claims.sub, await oauth.userInfoRequest(as, client, tokens.access_token, insecure));
      expect(info).toMatchObject({ sub: claims.sub, email: 'alice@example.test', name: 'Alice Liddell', preferred_username: 'alice' });
      // Another subject than the ID token's is refused by the library.
      const otherSub = await refusal(oauth.processUserInfoResponse(as, client, 'someone-else', await oauth.userInfoRequest(as, client, tokens.access_token, insecure)));
      expect(otherSub).toBeInstanceOf(oauth.OperationProcessingError);

      const post = oauth.ClientSecretPost(secrets.get('rp')!);
      const refreshed = await oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, post, tokens.refresh_token!, insecure));
      expect(refreshed.refresh_token).toBeTruthy();
      expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
      expect(refreshed.access_token).not.toBe(tokens.access_token);

      const reused = await refusal(oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, post, tokens.refresh_token!, insecure)));
      expect(reused).toMatchObject({ code: oauth.RESPONSE_BODY_ERROR, error: 'invalid_grant', status: 400 });
      // The reuse revoked the grant: the newest refresh token is refused too.
      const newest = await refusal(oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, post, refreshed.refresh_token!, insecure)));
      expect(newest).toMatchObject({ code: oauth.RESPONSE_BODY_ERROR, error: 'invalid_grant' });
    });
  });

  describe('RFC 7662 introspection and RFC 7009 revocation', () => {
    test.each([
      ['client_secret_basic', (secret: string) => oauth.ClientSecretBasic(secret)],
      ['client_secret_post', (secret: string) => oauth.ClientSecretPost(secret)],
    ])('with %s: active, revoked, then inactive', async (_method, authFor) => {
      const auth = authFor(secrets.get('rp')!);
      const { client, tokens, claims } = await signIn('RS256', auth);
      const introspect = async (token: string) => oauth.processIntrospectionResponse(as, client, await oauth.introspectionRequest(as, client, auth, token, insecure));
      expect(await introspect(tokens.access_token)).toMatchObject({ active: true, client_id: 'rp', sub: claims.sub });
      expect(await introspect(tokens.refresh_token!)).toMatchObject({ active: true, client_id: 'rp' });
      await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, auth, tokens.access_token, insecure));
      await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, auth, tokens.refresh_token!, insecure));
      expect((await introspect(tokens.access_token)).active).toBe(false);
      expect((await introspect(tokens.refresh_token!)).active).toBe(false);
    });
  });

  describe('RFC 6749 §5.2 + RFC 9110 §11.6.1: a wrong client secret', () => {
    test.each([
      ['ClientSecretBasic', oauth.ClientSecretBasic('not-the-secret')],
      ['ClientSecretPost', oauth.ClientSecretPost('not-the-secret')],
    ])('with %s: the library reports invalid_client from the 401 challenge at the token, introspection and revocation endpoints', async (_method, wrong) => {
      const client = clientOf('RS256');
      const answers = {
        token: () => oauth.refreshTokenGrantRequest(as, client, wrong, 'some-refresh-token', insecure).then((response) => oauth.processRefreshTokenResponse(as, client, response)),
        introspection: () => oauth.introspectionRequest(as, client, wrong, 'some-token', insecure).then((response) => oauth.processIntrospectionResponse(as, client, response)),
        revocation: () => oauth.revocationRequest(as, client, wrong, 'some-token', insecure).then((response) => oauth.processRevocationResponse(response)),
      };
      for (const [endpoint, answer] of Object.entries(answers)) {
        const error = await refusal(answer());
        expect([endpoint, error]).toEqual([endpoint, expect.any(oauth.WWWAuthenticateChallengeError)]);
        const challenge = error as oauth.WWWAuthenticateChallengeError;
        expect([endpoint, challenge.status, challenge.cause[0]?.scheme, challenge.cause[0]?.parameters.error]).toEqual([endpoint, 401, 'basic', 'invalid_client']);
      }
    });
  });

  describe('RFC 9449 DPoP', () => {
    test('a DPoP-bound code exchange, userinfo with the proof (refused as Bearer), a refresh with the proof', async () => {
      expect(as.dpop_signing_alg_values_supported).toEqual(expect.arrayContaining(['ES256']));
      const client = clientOf('RS256');
      const dpop = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
      const { auth, tokens, claims } = await signIn('RS256', undefined, dpop);
      expect(tokens.token_type).toBe('dpop');

      const info = await processWithNonceRetry(
        () => oauth.userInfoRequest(as, client, tokens.access_token, { ...insecure, DPoP: dpop }),
        (response) => oauth.processUserInfoResponse(as, client, claims.sub, response),
      );
      expect(info.sub).toBe(claims.sub);
      // The same token without its proof (sent as Bearer) is refused with a challenge.
      const bare = await refusal(oauth.userInfoRequest(as, client, tokens.access_token, insecure).then((response) => oauth.processUserInfoResponse(as, client, claims.sub, response)));
      expect(bare).toBeInstanceOf(oauth.WWWAuthenticateChallengeError);
      expect((bare as oauth.WWWAuthenticateChallengeError).status).toBe(401);

      const refreshed = await processWithNonceRetry(
        () => oauth.refreshTokenGrantRequest(as, client, auth, tokens.refresh_token!, { ...insecure, DPoP: dpop }),
        (response) => oauth.processRefreshTokenResponse(as, client, response),
      );
      expect(refreshed.token_type).toBe('dpop');
      const again = await processWithNonceRetry(
        () => oauth.userInfoRequest(as, client, refreshed.access_token, { ...insecure, DPoP: dpop }),
        (response) => oauth.processUserInfoResponse(as, client, claims.sub, response),
      );
      expect(again.sub).toBe(claims.sub);
    });
  });
});
