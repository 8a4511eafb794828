import { randomUUID } from 'node:crypto';
import { importJWK, SignJWT, type JWK } from 'jose';
import { DEFAULT_SIGNING_ALG, type Jwks, type SigningAlg } from '../secrets/secrets.js';
import type { DeliveryItem } from './delivery.js';

/** The OIDC Back-Channel Logout 1.0 event in a logout token's `events` claim. */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** The userdelete event; its `reason` says whether the account is gone (`deleted`) or may come back. */
export const USERDELETE_EVENT = 'urn:sso-hub:event:userdelete';

const TOKEN_TTL_SECONDS = 120; // two minutes: long enough for one request, short enough to be useless later

/** Whether `jwk` signs with `alg`: its own `alg`, or for a key without one, its type and curve. */
function signsWith(jwk: JWK, alg: SigningAlg): boolean {
  if (jwk.use === 'enc') return false;
  if (jwk.alg !== undefined) return jwk.alg === alg;
  switch (alg) {
    case 'RS256':
      return jwk.kty === 'RSA';
    case 'ES256':
      return jwk.kty === 'EC' && jwk.crv === 'P-256';
    case 'EdDSA':
      return jwk.kty === 'OKP' && (jwk.crv === 'Ed25519' || jwk.crv === 'Ed448');
  }
}

type SigningKey = Awaited<ReturnType<typeof importJWK>>;

/**
 * Signs the tokens of server-to-server deliveries with the hub's own signing keys (those
 * oidc-provider publishes at /jwks), so a subsite verifies them as it verifies ID tokens.
 * A logout token is signed with the client's ID token algorithm (its
 * `id_token_signed_response_alg`, RS256 by default), as oidc-provider itself signs them and
 * as Back-Channel Logout 1.0 §2.4 has it (the same keys as ID tokens): a relying party
 * registered for ES256 or EdDSA checks it with that algorithm alone (express-openid-connect
 * passes `algorithms: [idTokenSigningAlg]`) and refuses an RS256 one. The hub's userdelete
 * token is RS256. Every attempt gets a fresh token: a new `jti`, `iat` and `exp`,
 * because subsites spend a `jti` once and a retry must not look like a replay.
 */
export class DeliveryTokens {
  #imported = new Map<string, Promise<{ key: SigningKey; kid?: string; alg: string }>>();

  constructor(
    /** The hub's signing keys now, the signing key first (they change on a live rotation). */
    private readonly jwks: () => Jwks,
    private readonly issuer: string,
  ) {}

  /** The first key of `alg` (the one oidc-provider signs that alg with), else the first RS256 one, else the first. */
  #signingKey(wanted: SigningAlg) {
    const keys = this.jwks().keys as JWK[];
    const jwk = keys.find((key) => signsWith(key, wanted)) ?? keys.find((key) => signsWith(key, DEFAULT_SIGNING_ALG)) ?? keys[0]!;
    const alg = typeof jwk.alg === 'string' ? jwk.alg : signsWith(jwk, wanted) ? wanted : DEFAULT_SIGNING_ALG;
    const id = `${alg}:${String(jwk.kid ?? '')}`;
    let imported = this.#imported.get(id);
    if (!imported) {
      imported = (async () => ({ key: await importJWK(jwk, alg), alg, ...(typeof jwk.kid === 'string' ? { kid: jwk.kid } : {}) }))();
      // One imported key per kid; a rotation adds one, so the map stays as small as the key set.
      if (this.#imported.size > 8) this.#imported.clear();
      this.#imported.set(id, imported);
    }
    return imported;
  }

  /**
   * The token for one attempt at `item`: `userdelete+jwt` or a back-channel `logout+jwt`.
   * `idTokenAlg`: the client's ID token algorithm, which a logout token is signed with.
   */
  async sign(item: DeliveryItem, idTokenAlg: SigningAlg = DEFAULT_SIGNING_ALG, now = Math.floor(Date.now() / 1000)): Promise<string> {
    const { key, kid, alg } = await this.#signingKey(item.kind === 'backchannel-logout' ? idTokenAlg : DEFAULT_SIGNING_ALG);
    const claims =
      item.kind === 'backchannel-logout'
        ? { events: { [BACKCHANNEL_LOGOUT_EVENT]: {} }, ...(item.sid ? { sid: item.sid } : {}) }
        : // `at`: when it happened, so a subsite reached late ends the sessions of before, not later ones.
          // `id`: the notice's, the same in every attempt (the jti is new each time), so a subsite
          // runs its clean-up once however often a slow answer makes this queue retry.
          { events: { [USERDELETE_EVENT]: { ...(item.reason ? { reason: item.reason } : {}), at: Math.floor(item.createdAt / 1000), id: item.id } } };
    return new SignJWT(claims)
      .setProtectedHeader({ alg, typ: item.kind === 'backchannel-logout' ? 'logout+jwt' : 'userdelete+jwt', ...(kid ? { kid } : {}) })
      .setIssuer(this.issuer)
      .setAudience(item.clientId)
      .setSubject(item.sub)
      .setIssuedAt(now)
      .setExpirationTime(now + TOKEN_TTL_SECONDS)
      .setJti(randomUUID())
      .sign(key);
  }
}
