import type { RequestHandler } from 'express';
import type { KitContext } from '../context.js';
import { claimSyncRequest, verifySyncRequest } from './sync-verify.js';
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
    // A local session from another hub session may be stale (someone else signed in at the hub,
    // or the same user again): Request-Login makes the next page view ask the hub (a silent
    // re-check, lazyLogin), which keeps the session for the same user and replaces it for another.
    // It is not ended here: anyone can take a login code from their own sync page and plant it as
    // an <img> for others' browsers, and that must not sign them out nor lose their session's data.
    const local = ssoState(req);
    // Single use, spent after the work: a store failure answers 503 and leaves the code
    // good for the browser's retry. A replay is refused here, before Request-Login is set.
    await claimSyncRequest(ctx, req, claims);
    if (!local || local.hubSid !== claims.sid) ctx.cookies.setRequestLogin(res);
    sendSyncAnswer(req, res);
  };
}
