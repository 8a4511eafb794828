import type { RequestHandler } from 'express';
import type { KitContext } from '../context.js';
import { signOutLocally } from '../sign-in.js';
import { sendSyncAnswer } from './sync-response.js';
import { claimSyncRequest, verifySyncRequest } from './sync-verify.js';
import { ssoState } from '../session.js';

/**
 * `GET /sso/synclogout?time=T&code=C`: the hub signed someone out. End every local session
 * opened under that hub session (the code's `sid`), this browser's among them, and clear
 * `Request-Login`; a code whose `sid` is `*` (a UCenter application's sign-out, which names no
 * hub session) ends this browser's; one that also names a user (`sub`: the hub's sign-out after its
 * session had expired, so it knew the user but no hub session) ends it only when this browser is
 * signed in here as that user. A code marked `switch` (an account switch) leaves `Request-Login`:
 * the next account's login code may have just set it. A local session of another hub session is left alone, markers and all: a
 * logout code is not a right to end whatever session the browser carries (anyone can take one
 * from their own sync page and plant it as an `<img>` in a post for others' browsers to
 * fetch). Idempotent: with nothing to end it still answers 200. The code is spent after the
 * work, so a retry after a store failure (503) completes it.
 */
/** The `sid` of a logout code that means "whatever session this browser has" (the hub sends it for UCenter's sign-out). */
const ANY_HUB_SESSION = '*';

export function synclogout(ctx: KitContext): RequestHandler {
  return async (req, res) => {
    const claims = await verifySyncRequest(ctx, req, res, 'logout');
    if (!claims) return;
    const local = ssoState(req);
    // `*`: a sign-out that names no hub session: this browser's (a UCenter application's
    // user/synlogout), or, with a `sub` (the hub's sign-out after its session expired), this
    // browser's only when it is signed in as that user: a planted code of one's own sign-out
    // signs out no one else.
    const othersSession = claims.sid === ANY_HUB_SESSION
      ? local !== undefined && claims.sub !== undefined && local.user.sub !== claims.sub
      : local?.hubSid !== undefined && local.hubSid !== claims.sid;
    if (local && !othersSession) {
      await signOutLocally(ctx, req, res);
    }
    // Covers the same user's sessions whose cookie this request did not carry.
    await ctx.index.endSessionsOfHubSid(claims.sid);
    // Single use, spent after the work: a store failure above answers 503 and leaves the code
    // good for the browser's retry (a replayed logout code only repeats a logout).
    await claimSyncRequest(ctx, req, claims);
    // An account switch (`switch`): the next account's login code may have set Request-Login a
    // moment ago (its page comes first). It stays, or the new account would find itself signed
    // out here until it signed in again; the old session's other markers go.
    if (!othersSession && claims.switch) {
      ctx.cookies.clearRemember(req, res);
      ctx.cookies.clearConsentRequired(req, res);
    } else if (!othersSession) ctx.cookies.clearSignInMarkers(req, res);
    sendSyncAnswer(req, res);
  };
}
