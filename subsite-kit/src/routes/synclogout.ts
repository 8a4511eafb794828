import type { RequestHandler } from 'express';
import type { KitContext } from '../context.js';
import { verifySyncCode } from '../sync-code.js';
import { signOutLocally } from '../sign-in.js';
import { sendSyncAnswer } from './sync-response.js';
import { syncVerifier } from './synclogin.js';

/**
 * `GET /sso/synclogout?time=T&code=C`: the hub signed someone out. End this browser's local
 * session (if any) and every local session opened under that hub session, and clear
 * `Request-Login`. Idempotent: with nothing to end it still answers 200.
 */
export function synclogout(ctx: KitContext): RequestHandler {
  return async (req, res) => {
    const claims = await verifySyncCode(req.query.code, req.query.time, 'logout', syncVerifier(ctx));
    if (req.session?.sso) {
      await signOutLocally(ctx, req);
      res.clearCookie(ctx.options.cookies.session, { path: '/' });
    }
    // Covers the same user's sessions whose cookie this request did not carry.
    await ctx.index.endSessionsOfHubSid(claims.sid);
    ctx.cookies.clearRequestLogin(req, res);
    sendSyncAnswer(req, res);
  };
}
