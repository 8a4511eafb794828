import { decodeJwt } from 'jose';
import type { SsoSessionState } from './session.js';

/**
 * Whether a signed-in session was made for this site's client. Sites on one host that share a
 * cookie name, a `sessionSecret` and a session store (one `.env` copied between them) load each
 * other's sessions: without this, a sign-in at one was a sign-in at all of them, with its tokens
 * and without the hub ever asking for the others' consent. A session records its client at
 * sign-in; one signed in before it did goes by its ID token's audience.
 */
export function sessionIsFor(state: SsoSessionState, clientId: string): boolean {
  if (state.clientId !== undefined) return state.clientId === clientId;
  try {
    const { aud } = decodeJwt(state.idToken);
    return aud === clientId || (Array.isArray(aud) && aud.includes(clientId));
  } catch {
    return false;
  }
}
