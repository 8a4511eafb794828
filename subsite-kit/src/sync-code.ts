import { decodeJwt, errors as joseErrors, jwtVerify } from 'jose';
import type { JWTPayload } from 'jose' with { 'resolution-mode': 'import' };
import { InvalidToken } from './errors.js';
import type { KitStore } from './store/store.js';
import type { KitKeys } from './store/keys.js';

/** What a sync code asks the subsite to do; `test` is the hub's integration check (verify, answer, change nothing). */
export type SyncAction = 'login' | 'logout' | 'test';

/** The verified claims of a sync code. */
export interface SyncClaims {
  act: SyncAction;
  /** The hub session the code was issued for. */
  sid: string;
  iat: number;
  exp: number;
  jti: string;
  /**
   * At `logout`: the hub session ended because another account is signing in in this browser (an
   * account switch). The new account's `login` code may have set `Request-Login` just before
   * (its sign-in's page comes first): that stays, so the next page view signs the new account in.
   */
  switch?: true;
  /**
   * At `logout` with `sid` `*`: the user (`sub`) whose sign-out this is. The hub sends it when its
   * session had already expired (RP-initiated logout with a valid `id_token_hint`): it knows the
   * user, not the hub session. Only a local session of that user ends. Absent (UCenter's sign-out):
   * whatever session this browser has.
   */
  sub?: string;
}

/** Everything {@link verifySyncCode} needs besides the code. */
export interface SyncCodeVerifier {
  /** The accepted `iss` values (the hub URL). */
  issuers: readonly string[];
  /** This subsite's client id, the required `aud`. */
  audience: string;
  /** Current key first, then the previous one during a rotation (UTF-8 bytes of the key strings). */
  keys: readonly Uint8Array[];
  clockSkewSeconds: number;
  store: KitStore;
  storeKeys: KitKeys;
  /** Current time in epoch seconds; replaceable in tests. */
  now?: () => number;
}

/** The design's bound on a sync code's lifetime: exp - iat ≤ 60 s. */
export const MAX_SYNC_CODE_LIFETIME_SECONDS = 60;
const MAX_CODE_LENGTH = 4_096; // characters; a sync code is a few hundred

/**
 * Verifies a sync code (compact JWS, HS256, `typ: sync+jwt`) for the endpoint of `act`:
 * signature with the current or previous key, `iss`, `aud`, `act`, `exp`, `iat` not in the
 * future beyond the skew, lifetime ≤ 60 s, `time` = `iat` when given, and finally claims the
 * `jti` so the code works once. Throws {@link InvalidToken} (400) on any failure.
 */
export async function verifySyncCode(
  code: unknown,
  time: unknown,
  act: SyncAction,
  verifier: SyncCodeVerifier,
): Promise<SyncClaims> {
  const claims = await checkSyncCode(code, time, act, verifier);
  await claimSyncCode(claims, verifier);
  return claims;
}

/** A code refused (400 invalid_token), with why. */
function invalid(why: string, cause?: unknown): InvalidToken {
  return new InvalidToken(`sync code rejected: ${why}`, { status: 400, cause });
}

/**
 * {@link verifySyncCode} without the single-use claim: the handlers do their (idempotent) work
 * first and claim the `jti` with {@link claimSyncCode} after it, so a store failure half-way
 * leaves the code unspent and the browser's retry of the same beacon completes the work.
 */
export async function checkSyncCode(
  code: unknown,
  time: unknown,
  act: SyncAction,
  verifier: SyncCodeVerifier,
): Promise<SyncClaims> {
  if (typeof code !== 'string' || code.length === 0 || code.length > MAX_CODE_LENGTH) throw invalid('missing or malformed');

  const now = verifier.now ?? (() => Math.floor(Date.now() / 1000));
  const payload = await verifyWithAnyKey(code, verifier, now()).catch((error: unknown) => {
    throw invalid(joseReason(error, code, verifier.audience), error);
  });

  const { iat, exp, jti, sid } = payload;
  if (typeof iat !== 'number' || typeof exp !== 'number') throw invalid('iat and exp are required');
  // A test code from the hub's integration check is good on either endpoint.
  const claimed: SyncAction = payload.act === 'test' ? 'test' : act;
  if (payload.act !== claimed) throw invalid(`act must be "${act}"`);
  if (typeof sid !== 'string' || sid.length === 0) throw invalid('sid is required');
  if (typeof jti !== 'string' || jti.length === 0) throw invalid('jti is required');
  if (exp <= iat || exp - iat > MAX_SYNC_CODE_LIFETIME_SECONDS) throw invalid(`lifetime must be at most ${MAX_SYNC_CODE_LIFETIME_SECONDS} s`);
  if (iat > now() + verifier.clockSkewSeconds) throw invalid("issued in the future: are the hub's and this server's clocks in sync?");
  if (time !== undefined && time !== String(iat)) throw invalid('time does not match iat');

  const sub = claimed === 'logout' && sid === '*' && payload.sub !== undefined ? payload.sub : undefined;
  if (sub !== undefined && (typeof sub !== 'string' || sub.length === 0)) throw invalid('sub must be a non-empty string');
  return { act: claimed, sid, iat, exp, jti, ...(claimed === 'logout' && payload.switch === true ? { switch: true as const } : {}), ...(sub !== undefined ? { sub } : {}) };
}

/**
 * Claims a checked sync code's `jti` (single use), last, so a rejected code or a failed
 * handler never burns it. Throws {@link InvalidToken} (400) when the code was used already.
 */
export async function claimSyncCode(claims: SyncClaims, verifier: SyncCodeVerifier): Promise<void> {
  const now = verifier.now ?? (() => Math.floor(Date.now() / 1000));
  const ttl = Math.max(1, claims.exp + verifier.clockSkewSeconds - now());
  if (!(await verifier.store.claimOnce(verifier.storeKeys.syncJti(claims.jti), ttl))) {
    throw invalid('already used');
  }
}

/**
 * Refuses a checked code that was spent already (400 "already used"), before the handler's
 * work: a replayed code does nothing. The handler claims it after its work
 * ({@link claimSyncCode}); two requests racing between the two may both do the (idempotent)
 * work, and only one is answered 200.
 */
export async function refuseSpentSyncCode(claims: SyncClaims, verifier: SyncCodeVerifier): Promise<void> {
  if (await verifier.store.isClaimed(verifier.storeKeys.syncJti(claims.jti))) throw invalid('already used');
}

/** Why jose refused a code, in words an operator can act on, with jose's code for the hub's check. */
function joseReason(error: unknown, code: string, audience: string): string {
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
    // The hub signs each client's codes with that client's key: a code for another client id
    // (its aud, unverified, read only to word this line) is another registration's, sent to this
    // URL because two clients at the hub share it, or this site's clientId is not its own. The
    // value itself stays out of the line (anyone can send a code, and the log is rate-limited by reason).
    if (!audienceIs(code, audience)) {
      return `signature does not match the sync key, and the code is for another client id (its aud is not "${audience}"): the hub sends another client's codes to this URL: is clientId this site's id at the hub, and is this URL the sync URL of no other client there? (${error.code})`;
    }
    return `signature does not match the sync key: is syncKey the key the hub shows for this client? (${error.code})`;
  }
  if (error instanceof joseErrors.JWTExpired) return `expired: are the hub's and this server's clocks in sync? (${error.code})`;
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `${error.message}: check hubUrl (iss) and clientId (aud) (${error.code})`;
  if (error instanceof joseErrors.JOSEError) return `${error.message} (${error.code})`;
  return 'malformed';
}

/** Whether a code's unverified `aud` names this client (true when it cannot be read: the usual line then). */
function audienceIs(code: string, audience: string): boolean {
  try {
    const { aud } = decodeJwt(code);
    return aud === undefined || aud === audience || (Array.isArray(aud) && aud.includes(audience));
  } catch {
    return true;
  }
}

async function verifyWithAnyKey(code: string, verifier: SyncCodeVerifier, now: number): Promise<JWTPayload> {
  let lastError: unknown;
  for (const key of verifier.keys) {
    try {
      const { payload, protectedHeader } = await jwtVerify(code, key, {
        algorithms: ['HS256'],
        typ: 'sync+jwt',
        issuer: [...verifier.issuers],
        audience: verifier.audience,
        requiredClaims: ['iat', 'exp', 'jti', 'sid', 'act'],
        clockTolerance: verifier.clockSkewSeconds,
        currentDate: new Date(now * 1000),
      });
      // The hub's codes, as docs/subsite-protocol.md §3.1 writes them: one audience, no key id.
      if (typeof payload.aud !== 'string') throw new joseErrors.JWTClaimValidationFailed('"aud" must be one string', payload, 'aud', 'check_failed');
      if (protectedHeader.kid !== undefined) throw new joseErrors.JWSInvalid('a sync code has no "kid"');
      return payload;
    } catch (error) {
      lastError = error;
      // Only a signature mismatch may mean "signed with the previous key"; anything else is final.
      if (!(error instanceof joseErrors.JWSSignatureVerificationFailed)) throw error;
    }
  }
  throw lastError;
}
