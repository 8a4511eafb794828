import { decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import type { JWTPayload, JWTVerifyGetKey } from 'jose' with { 'resolution-mode': 'import' };
import { InvalidToken, KitError, TokenKeyNotKnownYet, TokenTimesRefused } from './errors.js';
import { HUB_SIGNING_ALGORITHMS } from './id-token.js';
import type { KitStore } from './store/store.js';
import type { KitKeys } from './store/keys.js';

/** The OIDC Back-Channel Logout 1.0 event in a logout token's `events` claim. */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** Everything needed to verify a token the hub signs for a server-to-server call. */
export interface HubTokenVerifier {
  issuers: readonly string[];
  clientId: string;
  clockSkewSeconds: number;
  jwks: JWTVerifyGetKey;
  store: KitStore;
  storeKeys: KitKeys;
}

const MAX_TOKEN_LENGTH = 8_192; // characters

/**
 * Verifies a hub-signed JWT (signature via the hub JWKS, asymmetric algorithms only): `typ`
 * one of `types`, `iss`, `aud`, `exp`, `iat` not in the future, and claims its `jti` once.
 * `check` runs the token-specific rules before the `jti` is spent. Throws {@link InvalidToken}.
 */
export async function verifyHubToken(
  token: unknown,
  types: readonly (string | undefined)[],
  verifier: HubTokenVerifier,
  check: (payload: JWTPayload) => void,
): Promise<JWTPayload> {
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
    throw new InvalidToken('token is missing or malformed');
  }
  let payload: JWTPayload;
  let typ: unknown;
  try {
    ({ payload, protectedHeader: { typ } } = await jwtVerify(token, verifier.jwks, {
      algorithms: HUB_SIGNING_ALGORITHMS,
      issuer: [...verifier.issuers],
      audience: verifier.clientId,
      requiredClaims: ['iat', 'exp', 'jti'],
      clockTolerance: verifier.clockSkewSeconds,
    }));
  } catch (error) {
    // Expired although the hub signs a fresh token for every attempt: this server's clock is ahead.
    // Only for a token of the kind asked for (jose checks the times after the signature, issuer
    // and audience, but never the typ): another kind of hub token for this site that expired (an
    // ID token, a logout token at the userdelete route) is refused as that, not as mistimed.
    if (error instanceof joseErrors.JWTExpired) {
      if (!types.includes(typeOf(decodeProtectedHeader(token).typ))) throw new InvalidToken('token rejected: unexpected typ', { cause: error });
      throw new TokenTimesRefused("token rejected: expired: are the hub's and this server's clocks in sync?", { cause: error });
    }
    // A key id the JWKS read less than 30 s ago lacks: the hub rotated its key just now. Before, a
    // back-channel logout or userdelete notice signed with the new key was refused 400/401, which
    // the hub's queue takes as final, and the user stayed signed in here (a kit-faults review).
    if (error instanceof joseErrors.JWKSNoMatchingKey) throw new TokenKeyNotKnownYet("token rejected: signed with a key not in the hub's JWKS as last read (the hub rotated its key? read again within 30 s)", { cause: error });
    // A JWKS that could not be fetched is the hub's trouble, not the token's: let it become a 503.
    if (error instanceof joseErrors.JOSEError && !(error instanceof joseErrors.JWKSTimeout)) throw new InvalidToken(`token rejected: ${error.code}`, { cause: error });
    throw error;
  }
  // Explicit typing keeps one kind of hub token from being replayed as another (RFC 8725 §3.11).
  if (!types.includes(typeOf(typ))) throw new InvalidToken('token rejected: unexpected typ');
  const now = Math.floor(Date.now() / 1000);
  if (typeof payload.iat !== 'number' || payload.iat > now + verifier.clockSkewSeconds) throw new TokenTimesRefused("token rejected: iat in the future: are the hub's and this server's clocks in sync?");
  if (typeof payload.jti !== 'string' || payload.jti.length === 0) throw new InvalidToken('token rejected: jti is required');
  check(payload);

  const ttl = Math.max(1, payload.exp! + verifier.clockSkewSeconds - now);
  if (!(await verifier.store.claimOnce(verifier.storeKeys.hubJti(payload.jti), ttl))) throw new InvalidToken('token rejected: already used');
  return payload;
}

/** A JWT header's `typ` as compared with the kinds asked for: lower case, without `application/`. */
function typeOf(typ: unknown): string | undefined {
  return typeof typ === 'string' ? typ.toLowerCase().replace(/^application\//, '') : undefined;
}

/** Rules for a userdelete token: `typ: userdelete+jwt` and a `sub`. @returns the `sub`. */
/** What a verified userdelete token says: whose sessions end, and (from hubs that say it) why and when it happened. */
export interface UserDeleteNotice {
  sub: string;
  /** `deleted`, `disabled` or `password-reset`; absent from older hubs. */
  reason?: string | undefined;
  /** When the account was deleted, disabled or reset (epoch seconds, the hub's clock); absent from older hubs. */
  at?: number | undefined;
  /** The event's id, the same in every attempt at one notice (a token's `jti` is new each time); absent from older hubs. */
  id?: string | undefined;
  /** When the hub signed this token (epoch seconds, the hub's clock): how far this site's clock is from the hub's. */
  iat: number;
}

/** The userdelete event's name in the token's `events` claim (its `reason` and `at`). */
const USERDELETE_EVENT = 'urn:sso-hub:event:userdelete';

export async function verifyUserDeleteToken(token: unknown, verifier: HubTokenVerifier): Promise<UserDeleteNotice> {
  const payload = await verifyHubToken(token, ['userdelete+jwt'], verifier, (claims) => {
    if (typeof claims.sub !== 'string' || claims.sub.length === 0) throw new InvalidToken('token rejected: sub is required');
  });
  const events = payload.events as Record<string, unknown> | undefined;
  const event = events && typeof events === 'object' ? (events[USERDELETE_EVENT] as Record<string, unknown> | undefined) : undefined;
  const reason = typeof event?.reason === 'string' ? event.reason : undefined;
  const at = typeof event?.at === 'number' && Number.isFinite(event.at) ? event.at : undefined;
  const id = typeof event?.id === 'string' && event.id.length > 0 && event.id.length <= 200 ? event.id : undefined;
  return { sub: payload.sub!, reason, at, id, iat: typeof payload.iat === 'number' ? payload.iat : Math.floor(Date.now() / 1000) };
}

/** The subject of a verified back-channel logout token. */
export interface LogoutTarget {
  sub?: string | undefined;
  sid?: string | undefined;
}

/** OIDC Back-Channel Logout 1.0 §2.6 rules for a logout token. @returns its `sub` and/or `sid`. */
export async function verifyLogoutToken(token: unknown, verifier: HubTokenVerifier): Promise<LogoutTarget> {
  const status = 400; // §2.8: a failed validation answers 400
  const reject = (why: string) => new InvalidToken(`logout token rejected: ${why}`, { status });
  let payload: JWTPayload;
  try {
    // typ is recommended as logout+jwt; tokens without one (or plain JWT) are still valid 1.0 tokens.
    payload = await verifyHubToken(token, ['logout+jwt', 'jwt', undefined], verifier, (claims) => {
      const events = claims.events;
      if (typeof events !== 'object' || events === null || Array.isArray(events)) throw reject('events is required');
      const event = (events as Record<string, unknown>)[BACKCHANNEL_LOGOUT_EVENT];
      if (typeof event !== 'object' || event === null || Array.isArray(event)) throw reject('events lacks the back-channel logout event');
      if (claims.nonce !== undefined) throw reject('nonce is forbidden');
      const hasSub = typeof claims.sub === 'string' && claims.sub.length > 0;
      const hasSid = typeof claims.sid === 'string' && claims.sid.length > 0;
      if (!hasSub && !hasSid) throw reject('sub or sid is required');
    });
  } catch (error) {
    // Refused only for now (clocks apart, a key not read yet): kept as such, so the route answers
    // 503 and the hub's queue retries (see routes/backchannel-logout.ts).
    if (error instanceof TokenTimesRefused || error instanceof TokenKeyNotKnownYet) throw error;
    if (error instanceof KitError && error.status !== status && error.status < 500) throw reject(error.message.replace(/^token rejected: /, ''));
    throw error;
  }
  return {
    sub: typeof payload.sub === 'string' && payload.sub ? payload.sub : undefined,
    sid: typeof payload.sid === 'string' && payload.sid ? payload.sid : undefined,
  };
}
