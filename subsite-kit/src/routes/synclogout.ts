import type { RequestHandler } from 'express';
import type { KitContext } from '../context.js';
import { signOutLocally } from '../sign-in.js';
import { sendSyncAnswer } from './sync-response.js';
import { verifySyncRequest } from './sync-verify.js';

/**
 * `GET /sso/synclogout?time=T&code=C`: the hub signed someone out. End this browser's local
 * session (if any) and every local session opened under that hub session, and clear
 * `Request-Login`. Idempotent: with nothing to end it still answers 200.
 */
export function synclogout(ctx: KitContext): RequestHandler {
  return async (req, res) => {
    const claims = await verifySyncRequest(ctx, req, res, 'logout');
    if (!claims) return;
    if (req.session?.sso) {
      await signOutLocally(ctx, req);
      res.clearCookie(ctx.options.cookies.session, { path: '/' });
    }
    // Covers the same user's sessions whose cookie this request did not carry.
    await ctx.index.endSessionsOfHubSid(claims.sid);
    ctx.cookies.clearSignInMarkers(req, res);
    sendSyncAnswer(req, res);
  };
}
