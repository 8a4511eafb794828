import { decodeJwt } from 'jose';

/**
 * Whether a sign-in as `accountId` answers an authorization request with these parameters: no
 * `id_token_hint`, or one that names this account. OIDC Core §3.1.2.1: when the user the hint
 * names is not the one signed in by the request, the provider does not answer for another.
 * oidc-provider checks the hint when the request comes in (and asks for a sign-in when the
 * session is someone else's), but not again when the sign-in resumes it, so a sign-in as
 * anybody would be answered. The hint was verified then (signature, issuer, audience); the
 * parameters are the interaction's, kept in the store, so its subject is read without
 * verifying it again. Subjects are the account ids (the hub has no pairwise subjects).
 */
export function signInAnswersHint(params: Record<string, unknown>, accountId: string): boolean {
  const hint = params.id_token_hint;
  if (typeof hint !== 'string' || hint === '') return true;
  try {
    return decodeJwt(hint).sub === accountId;
  } catch {
    return false; // not readable now: no answer for anyone rather than for the wrong one
  }
}
