import { createHmac, createSecretKey, randomUUID, type KeyObject } from 'node:crypto';

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
  return syncCodeSigner(input)(input.clientId, input.key, input.sid);
}

/**
 * A sync key as an HMAC key object, for a signer that signs with it many times (a sign-in's
 * page signs one code per subsite with each subsite's key). The same HMAC as the key string
 * itself (`createHmac` reads a string key as its UTF-8 bytes), without copying the string into
 * a new buffer on every code: measured alone, about a tenth of a code's cost.
 */
export function syncHmacKey(key: string): KeyObject {
  return createSecretKey(Buffer.from(key, 'utf8'));
}

/**
 * Signs one code of a page: for the subsite `clientId` (its audience), with its key (the key
 * string, or {@link syncHmacKey} of it), for the hub session `sid` (the page's usual one when
 * absent). `audience`: `JSON.stringify(clientId)` where the caller keeps it with the subsite.
 */
export type SyncCodeSigner = (clientId: string, key: string | KeyObject, sid?: string, audience?: string) => string;

/**
 * The codes of one sync page: what all of them share (action, issuer, times, the usual `sid`)
 * is serialised once, and each code adds its audience, its `jti` and its signature. The claims
 * come out as `JSON.stringify({ act, sid, iss, aud, iat, exp, jti })` would write them (then
 * `switch` and `sub` where given).
 */
export function syncCodeSigner(input: { issuer: string; act: SyncAction; sid: string; iat: number; ttlSeconds: number; switching?: boolean; sub?: string }): SyncCodeSigner {
  const exp = input.iat + Math.min(input.ttlSeconds, 60);
  // `"switch":true` on the logout codes of an account switch (docs/subsite-protocol.md §3.3);
  // `"sub"` on those of a sign-out whose hub session had expired (the user, where no session is known).
  let end = input.switching && input.act === 'logout' ? '","switch":true' : '"';
  if (input.sub !== undefined && input.act === 'logout') end += `,"sub":${JSON.stringify(input.sub)}`;
  end += '}';
  const act = `{"act":${JSON.stringify(input.act)},"sid":`;
  const usualSid = JSON.stringify(input.sid);
  const iss = `,"iss":${JSON.stringify(input.issuer)},"aud":`;
  const times = `,"iat":${JSON.stringify(input.iat)},"exp":${JSON.stringify(exp)},"jti":"`;
  return (clientId, key, sid, audience = JSON.stringify(clientId)) => {
    const claims = `${act}${sid === undefined || sid === input.sid ? usualSid : JSON.stringify(sid)}${iss}${audience}${times}${randomUUID()}${end}`;
    const signingInput = `${HEADER}.${Buffer.from(claims).toString('base64url')}`;
    const signature = createHmac('sha256', key).update(signingInput).digest('base64url');
    return `${signingInput}.${signature}`;
  };
}
