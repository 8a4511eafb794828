import { randomUUID } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';
import { CLIENT_ID, HUB_URL, SYNC_KEY } from './stub-hub.js';

export interface SyncCodeSpec {
  act?: string;
  sid?: string;
  iss?: string;
  aud?: string | string[];
  iat?: number;
  exp?: number;
  jti?: string;
  typ?: string;
  key?: string;
  /** A `kid` in the header (the hub's codes have none). */
  kid?: string;
  /** `"switch": true`: a logout code of an account switch. */
  switch?: boolean;
  /** `sub`: the user a `*` logout code is for (the hub's sign-out after its session expired). */
  sub?: string | number;
  omit?: (keyof JWTPayload | 'act' | 'sid')[];
}

/** Signs a sync code as the hub would, with any field overridable for negative tests. */
export async function makeSyncCode(spec: SyncCodeSpec = {}): Promise<{ code: string; time: string; jti: string }> {
  const iat = spec.iat ?? Math.floor(Date.now() / 1000);
  const claims: JWTPayload = {
    iss: spec.iss ?? HUB_URL,
    aud: spec.aud ?? CLIENT_ID,
    act: spec.act ?? 'login',
    sid: spec.sid ?? 'hub-sid-1',
    iat,
    exp: spec.exp ?? iat + 60,
    jti: spec.jti ?? randomUUID(),
    ...(spec.switch !== undefined ? { switch: spec.switch } : {}),
    ...(spec.sub !== undefined ? { sub: spec.sub as string } : {}),
  };
  for (const name of spec.omit ?? []) delete claims[name];
  const code = await new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: spec.typ ?? 'sync+jwt', ...(spec.kid !== undefined ? { kid: spec.kid } : {}) })
    .sign(new TextEncoder().encode(spec.key ?? SYNC_KEY));
  return { code, time: String(iat), jti: String(claims.jti) };
}

/** `/sso/synclogin?time=…&code=…` (or synclogout) for a code. */
export function syncPath(kind: 'synclogin' | 'synclogout', code: { code: string; time: string }): string {
  return `/sso/${kind}?time=${code.time}&code=${encodeURIComponent(code.code)}`;
}
