import type { RequestHandler } from 'express';
import type { KitContext } from '../context.js';
import { claimSyncRequest, verifySyncRequest } from './sync-verify.js';
import { signOutLocally } from '../sign-in.js';
import { sendSyncAnswer } from './sync-response.js';
import { ssoState } from '../session.js';

/**
 * `GET /sso/synclogin?time=T&code=C`: the hub signed someone in. After verifying the code,
 * set the long-lived `Request-Login` cookie and create no session: the real check with the
 * hub waits for the next page view (lazy verification), so a sign-in does not cost the hub
 * one token request per subsite.
 */
export function synclogin(ctx: KitContext): RequestHandler {
  return async (req, res) => {
    const claims = await verifySyncRequest(ctx, req, res, 'login');
    if (!claims) return;
    // A local session from another hub session is stale (someone else, or an older login):
    // end it so the lazy check can sign in whoever the hub has now.
    const local = ssoState(req);
    if (local && local.hubSid !== claims.sid) {
      await signOutLocally(ctx, req, res);
    }
    // Single use, spent after the work: a store failure above answers 503 and leaves the code
    // good for the browser's retry. A replay is refused here, before Request-Login is set.
    await claimSyncRequest(ctx, req, claims);
    if (!ssoState(req)) ctx.cookies.setRequestLogin(res);
    sendSyncAnswer(req, res);
  };
}
