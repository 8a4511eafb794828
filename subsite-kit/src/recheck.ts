import type { NextFunction, Request, Response } from 'express';
import type { KitContext } from './context.js';
import type { SsoSessionState } from './session.js';
import { saveSession, ssoState } from './session.js';
import { describeError } from './errors.js';
import { originalPath, redirectToHub } from './authorize.js';
import { signOutLocally } from './sign-in.js';
import { MAX_PENDING } from './pending-auth.js';

/**
 * Whether a `crossSite` session is due for a silent re-check with the hub: last verified more
 * than `seconds` ago, and no re-check started within `seconds` (one that failed or never came
 * back is not started again on the next page). Two comparisons of numbers in the session, no
 * store call: the common signed-in page view stops at the first.
 */
export function recheckDue(state: SsoSessionState, seconds: number, now = Math.floor(Date.now() / 1000)): boolean {
  if (now - (state.verifiedAt ?? state.loggedInAt) <= seconds) return false;
  return state.recheckStartedAt === undefined || now - state.recheckStartedAt > seconds;
}

/**
 * Sends a signed-in `crossSite` visitor to the hub with `prompt=none` (as lazy verification
 * does), so the hub's session decides: the same user stays, another user replaces this one, no
 * hub session ends this one (`/sso/callback`). The hub's sync beacons cannot tell a cross-site
 * subsite, since browsers drop their cookies. The start is recorded in the session first (a
 * store write once per `crossSiteRecheckSeconds`): a re-check that fails or never comes back is
 * not restarted on every page, and the session is kept until the next one.
 */
export async function startRecheck(ctx: KitContext, req: Request, res: Response, next: NextFunction): Promise<void> {
  try {
    // As for lazy verification: with as many requests pending as are kept, none is started (nor
    // recorded): the session stays, and a later page view re-checks.
    if ((await ctx.pending.overview(req)).count >= MAX_PENDING) return next();
    req.session.sso = { ...ssoState(req)!, recheckStartedAt: Math.floor(Date.now() / 1000) };
    // A store that fails here keeps the session and serves the page (the next page tries again).
    await saveSession(req);
    // This browser session has now checked with the hub: if the answer leaves the visitor
    // anonymous, the crossSite first-view check does not ask again.
    if (!ctx.cookies.hasChecked(req)) ctx.cookies.setChecked(res);
    return await redirectToHub(ctx, req, res, originalPath(req, ctx.options.basePath), true, true);
  } catch (error) {
    ctx.options.logger.warn(`subsite-kit: silent re-check skipped, the session is kept until the next one: ${describeError(error)}`);
    return next();
  }
}

/** A re-check the hub did not answer with this session's user: the local session ends, the visitor is anonymous. */
export async function endRecheckedSession(ctx: KitContext, req: Request, res: Response): Promise<void> {
  if (!ssoState(req)) return;
  await signOutLocally(ctx, req, res);
}
