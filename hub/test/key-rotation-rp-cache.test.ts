/**
 * A rotated signing key against a relying party's cached key set, with the library's own cache:
 * oauth4webapi, the engine of openid-client 6 (and so of express-openid-connect and Auth.js).
 * openid-client 6 checks an ID token's signature with `enableNonRepudiationChecks`
 * (oauth4webapi's `validateApplicationLevelSignature`); for a `kid` its cached set lacks, it
 * refetches `jwks_uri` only once that set is 60 s old (jose and the kit: 30 s). An outside review
 * measured it against a hub with the defaults of the time (activation after 60 s, checks every
 * 5 s): an RP that fetched `/jwks` 2.7 s after `keys rotate`, before the hub published the new
 * key, refused every sign-in for 3 s after the activation ("no applicable keys found").
 *
 * The timeline is the hub's: the rotation is written at 0; every process publishes the new key
 * within two store checks (config.ts's start check counts two); it signs at the activation delay.
 * Worst case: the RP fetched the set just before the last process published it.
 */
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import * as oauth from 'oauth4webapi';
import { loadConfig } from '../src/config.js';

const ISSUER = 'https://id.example.test';
const CLIENT: oauth.Client = { client_id: 'rp' };

async function signingKey(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } as JWK };
}

/** A token endpoint's answer with an ID token signed by `key` at the (faked) current time. */
async function tokenResponse(key: Awaited<ReturnType<typeof signingKey>>, nonce: string): Promise<Response> {
  const now = Math.floor(Date.now() / 1000);
  const idToken = await new SignJWT({ nonce })
    .setProtectedHeader({ alg: 'RS256', kid: key.kid })
    .setIssuer(ISSUER).setAudience(CLIENT.client_id).setSubject('alice')
    .setIssuedAt(now).setExpirationTime(now + 3600)
    .sign(key.privateKey);
  return new Response(JSON.stringify({ access_token: 'at', token_type: 'Bearer', expires_in: 3600, id_token: idToken }), {
    status: 200,
    headers: { 'content-type': 'application/json' },
  });
}

afterEach(() => {
  jest.useRealTimers();
});

const defaults = loadConfig({});
const smallestAccepted = String(2 * defaults.HUB_STORE_CHECK_MS + defaults.HUB_SUBSITE_JWKS_REFETCH_MS + 1);

describe('a rotated signing key and openid-client 6 / oauth4webapi, which refetch an unknown kid only after 60 s', () => {
  it.each([
    ['the default settings', {}],
    ['the shortest activation delay the hub accepts', { HUB_KEY_ACTIVATION_DELAY_MS: smallestAccepted }],
  ])('with %s, the first ID token the new key signs verifies at an RP that fetched the key set just before it was published', async (_label, env) => {
    const config = loadConfig(env);
    const oldKey = await signingKey('old');
    const newKey = await signingKey('new');
    let published: JWK[] = [oldKey.publicJwk];
    const fetches: number[] = [];
    const options = {
      [oauth.customFetch]: async (url: string) => {
        fetches.push(Date.now());
        if (url !== `${ISSUER}/jwks`) throw new Error(`unexpected fetch ${url}`);
        return new Response(JSON.stringify({ keys: published }), { status: 200, headers: { 'content-type': 'application/jwk-set+json' } });
      },
    };
    const as: oauth.AuthorizationServer = { issuer: ISSUER, jwks_uri: `${ISSUER}/jwks`, token_endpoint: `${ISSUER}/token` };
    const signIn = async (key: typeof oldKey) => {
      const response = await tokenResponse(key, 'n');
      await oauth.processAuthorizationCodeResponse(as, CLIENT, response, { expectedNonce: 'n', requireIdToken: true });
      await oauth.validateApplicationLevelSignature(as, response, options);
    };

    const rotatedAt = Date.UTC(2026, 0, 1, 12, 0, 0);
    // The RP's first sign-in after the rotation was written, before the last process published the key.
    jest.useFakeTimers({ now: rotatedAt + 2 * config.HUB_STORE_CHECK_MS - 1, doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] });
    await signIn(oldKey);
    expect(fetches).toHaveLength(1);
    published = [newKey.publicJwk, oldKey.publicJwk];

    // The activation: every process now signs with the new key.
    jest.setSystemTime(rotatedAt + config.HUB_KEY_ACTIVATION_DELAY_MS);
    await expect(signIn(newKey)).resolves.toBeUndefined();
    expect(fetches).toHaveLength(2);
  });
});
