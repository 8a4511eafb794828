import { createHmac, randomUUID } from 'node:crypto';

/** `test`: the integration check's code (hub/src/sync/integration-check.ts); subsites verify it and change nothing. */
export type SyncAction = 'login' | 'logout' | 'test';

/** The `typ` header of a sync code, so it cannot be mistaken for any other JWT. */
export const SYNC_CODE_TYPE = 'sync+jwt';

/** The protected header is the same for every code: encoded once. */
const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: SYNC_CODE_TYPE })).toString('base64url');

/**
 * A sync code: a compact JWS (RFC 7515, HS256 with the subsite's own sync key) that tells one
 * subsite a sign-in or sign-out happened. Audience-bound, at most 60 s long, single-use by
 * `jti`. Signed with node:crypto directly: a sign-in signs one per subsite, and jose's
 * general-purpose signer costs ~10× more per code (measured in bench/, scenario 5).
 */
export function signSyncCode(input: {
  issuer: string;
  clientId: string;
  key: string;
  act: SyncAction;
  sid: string;
  iat: number;
  ttlSeconds: number;
}): string {
  const claims = {
    act: input.act,
    sid: input.sid,
    iss: input.issuer,
    aud: input.clientId,
    iat: input.iat,
    exp: input.iat + Math.min(input.ttlSeconds, 60),
    jti: randomUUID(),
  };
  const signingInput = `${HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  const signature = createHmac('sha256', input.key).update(signingInput).digest('base64url');
  return `${signingInput}.${signature}`;
}
