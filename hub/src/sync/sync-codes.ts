import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';

export type SyncAction = 'login' | 'logout';

/** The `typ` header of a sync code, so it cannot be mistaken for any other JWT. */
export const SYNC_CODE_TYPE = 'sync+jwt';

const encoder = new TextEncoder();

/**
 * A sync code: a compact JWS (HS256, the subsite's own sync key) that tells one subsite
 * a sign-in or sign-out happened. Audience-bound, at most 60 s long, single-use by `jti`.
 */
export function signSyncCode(input: {
  issuer: string;
  clientId: string;
  key: string;
  act: SyncAction;
  sid: string;
  iat: number;
  ttlSeconds: number;
}): Promise<string> {
  return new SignJWT({ act: input.act, sid: input.sid })
    .setProtectedHeader({ alg: 'HS256', typ: SYNC_CODE_TYPE })
    .setIssuer(input.issuer)
    .setAudience(input.clientId)
    .setIssuedAt(input.iat)
    .setExpirationTime(input.iat + Math.min(input.ttlSeconds, 60))
    .setJti(randomUUID())
    .sign(encoder.encode(input.key));
}
