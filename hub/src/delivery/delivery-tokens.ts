import { randomUUID } from 'node:crypto';
import { importJWK, SignJWT, type JWK } from 'jose';
import type { Jwks } from '../secrets/secrets.js';
import type { DeliveryItem } from './delivery.js';

/** The OIDC Back-Channel Logout 1.0 event in a logout token's `events` claim. */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

const TOKEN_TTL_SECONDS = 120; // two minutes: long enough for one request, short enough to be useless later
const DEFAULT_ALG = 'RS256';

type SigningKey = Awaited<ReturnType<typeof importJWK>>;

/**
 * Signs the tokens of server-to-server deliveries with the hub's own signing key (the
 * first of the JWKS oidc-provider publishes at /jwks), so a subsite verifies them as it
 * verifies ID tokens. Every attempt gets a fresh token: a new `jti`, `iat` and `exp`,
 * because subsites spend a `jti` once and a retry must not look like a replay.
 */
export class DeliveryTokens {
  #imported = new Map<string, Promise<{ key: SigningKey; kid?: string; alg: string }>>();

  constructor(
    /** The hub's signing keys now, the signing key first (they change on a live rotation). */
    private readonly jwks: () => Jwks,
    private readonly issuer: string,
  ) {}

  #signingKey() {
    const jwk = (this.jwks().keys.find((key) => key.kty === 'RSA' && (key.alg === undefined || key.alg === DEFAULT_ALG)) ?? this.jwks().keys[0]) as JWK;
    const id = String(jwk.kid ?? '');
    let imported = this.#imported.get(id);
    if (!imported) {
      imported = (async () => {
        const alg = typeof jwk.alg === 'string' ? jwk.alg : DEFAULT_ALG;
        return { key: await importJWK(jwk, alg), alg, ...(typeof jwk.kid === 'string' ? { kid: jwk.kid } : {}) };
      })();
      // One imported key per kid; a rotation adds one, so the map stays as small as the key set.
      if (this.#imported.size > 8) this.#imported.clear();
      this.#imported.set(id, imported);
    }
    return imported;
  }

  /** The token for one attempt at `item`: `userdelete+jwt` or a back-channel `logout+jwt`. */
  async sign(item: DeliveryItem, now = Math.floor(Date.now() / 1000)): Promise<string> {
    const { key, kid, alg } = await this.#signingKey();
    const claims =
      item.kind === 'backchannel-logout'
        ? { events: { [BACKCHANNEL_LOGOUT_EVENT]: {} }, ...(item.sid ? { sid: item.sid } : {}) }
        : { events: { 'urn:sso-hub:event:userdelete': {} } };
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
