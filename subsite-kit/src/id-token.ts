import { jwtVerify } from 'jose';
import type { JWTVerifyGetKey } from 'jose' with { 'resolution-mode': 'import' };
import type { SsoUser } from './session.js';

/** Signing algorithms the kit accepts from the hub: asymmetric only (never `none` or HMAC). */
export const HUB_SIGNING_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'];

/** The parts of a validated ID token the kit keeps. */
export interface IdTokenResult {
  user: SsoUser;
  /** The hub session id (`sid`), when the hub sends one. */
  hubSid?: string | undefined;
}

/** Protocol claims that say nothing about the user; left out of `user.claims`. */
const PROTOCOL_CLAIMS = new Set(['nonce', 'at_hash', 'c_hash', 's_hash']);

/** What {@link validateIdToken} checks the token against. */
export interface IdTokenExpectations {
  issuers: readonly string[];
  clientId: string;
  nonce: string;
  clockSkewSeconds: number;
  jwks: JWTVerifyGetKey;
}

/**
 * Validates an ID token from the token endpoint (OIDC Core 1.0 §3.1.3.7): signature against
 * the hub's JWKS, `iss`, `aud` (and `azp` when there are several audiences), `exp`, `iat`,
 * and the `nonce` this browser's request carried.
 */
export async function validateIdToken(idToken: string, expected: IdTokenExpectations): Promise<IdTokenResult> {
  const { payload } = await jwtVerify(idToken, expected.jwks, {
    algorithms: HUB_SIGNING_ALGORITHMS,
    issuer: [...expected.issuers],
    audience: expected.clientId,
    requiredClaims: ['sub', 'iat', 'exp', 'nonce'],
    clockTolerance: expected.clockSkewSeconds,
  });
  if (Array.isArray(payload.aud) && payload.aud.length > 1 && payload.azp !== expected.clientId) {
    throw new Error('ID token azp does not name this client');
  }
  // Binds the token to this browser's request: a token injected from elsewhere has another nonce.
  if (payload.nonce !== expected.nonce) throw new Error('ID token nonce mismatch');
  if (typeof payload.sub !== 'string' || payload.sub.length === 0) throw new Error('ID token has no sub');

  const claims = Object.freeze(Object.fromEntries(Object.entries(payload).filter(([name]) => !PROTOCOL_CLAIMS.has(name))));
  const user: SsoUser = { sub: payload.sub, claims };
  for (const claim of ['name', 'preferred_username', 'email'] as const) {
    const value = payload[claim];
    if (typeof value === 'string') user[claim] = value;
  }
  return { user, hubSid: typeof payload.sid === 'string' ? payload.sid : undefined };
}
