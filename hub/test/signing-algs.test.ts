/**
 * ID tokens signed with ES256 or EdDSA for clients that register `id_token_signed_response_alg`
 * (OIDC Dynamic Client Registration §2; OIDC Core §10.1), RS256 for every other client. The
 * algs are published in discovery, a key of each kind in the JWKS, and a relying party
 * verifies each token against that JWKS.
 */
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import * as oidc from 'openid-client';
import { ValidationError } from '../src/errors.js';
import type { SigningAlg } from '../src/secrets/secrets.js';
import { TestBrowser } from '../src/testing/browser.js';
import { authorize } from '../src/testing/flows.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';

const REDIRECT = 'http://rp.test/cb';
const ALICE = { login: 'alice', password: 'wonderland-123' };

describe('OIDC Core §10.1: ID token signature per client (RS256 default, ES256, EdDSA)', () => {
  let hub: RunningHub;
  const secrets = new Map<string, string>();

  beforeAll(async () => {
    hub = await startTestHub('redis');
    await hub.services.users.create({ username: 'alice', email: 'alice@example.test', password: ALICE.password });
    for (const [clientId, alg] of [['rp-rs', undefined], ['rp-es', 'ES256'], ['rp-ed', 'EdDSA']] as const) {
      const client = await hub.services.clients.register({
        clientId, redirectUris: [REDIRECT], trusted: true, grantTypes: ['authorization_code', 'refresh_token'], ...(alg ? { idTokenSignedResponseAlg: alg } : {}),
      });
      secrets.set(clientId, client.clientSecret!);
    }
  });
  afterAll(() => hub.close());

  test('discovery publishes the three algs and the JWKS a key of each kind', async () => {
    const metadata = (await (await fetch(`${hub.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(metadata.id_token_signing_alg_values_supported).toEqual(expect.arrayContaining(['RS256', 'ES256', 'EdDSA']));
    const jwks = (await (await fetch(metadata.jwks_uri as string)).json()) as JSONWebKeySet;
    expect(jwks.keys.map((key) => `${key.kty}/${key.crv ?? ''}/${key.alg}`).sort()).toEqual(['EC/P-256/ES256', 'OKP/Ed25519/EdDSA', 'RSA//RS256']);
    // Public halves only.
    for (const key of jwks.keys) for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(key).not.toHaveProperty(secret);
  });

  test.each([
    ['rp-rs', 'RS256'],
    ['rp-es', 'ES256'],
    ['rp-ed', 'EdDSA'],
  ] as [string, SigningAlg][])('%s gets %s ID tokens (code and refresh) that verify against the JWKS', async (clientId, alg) => {
    const config = await oidc.discovery(new URL(hub.url), clientId, { client_secret: secrets.get(clientId)!, id_token_signed_response_alg: alg }, undefined, {
      execute: [oidc.allowInsecureRequests],
    });
    const verifier = oidc.randomPKCECodeVerifier();
    const nonce = oidc.randomNonce();
    const authUrl = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT, scope: 'openid email', nonce, code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    const callback = await authorize(new TestBrowser(), hub.url, authUrl.toString(), ALICE);
    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedNonce: nonce });
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    const jwks = createLocalJWKSet((await (await fetch(`${hub.url}/jwks`)).json()) as JSONWebKeySet);
    for (const idToken of [tokens.id_token!, refreshed.id_token!]) {
      expect(decodeProtectedHeader(idToken).alg).toBe(alg);
      const { payload } = await jwtVerify(idToken, jwks, { issuer: hub.url, audience: clientId, algorithms: [alg] });
      expect(payload.email).toBe('alice@example.test');
    }
  });

  test('a client can switch back to the default; an alg the hub does not offer is refused with a clear error', async () => {
    expect((await hub.services.clients.update('rp-es', { idTokenSignedResponseAlg: '' })).idTokenSignedResponseAlg).toBeUndefined();
    await hub.services.clients.update('rp-es', { idTokenSignedResponseAlg: 'ES256' });
    for (const bad of ['HS256', 'none', 'PS256']) {
      await expect(hub.services.clients.update('rp-es', { idTokenSignedResponseAlg: bad as SigningAlg })).rejects.toThrow(ValidationError);
    }
    expect((await hub.services.clients.require('rp-es')).idTokenSignedResponseAlg).toBe('ES256');
  });
});
