import type { Request, RequestHandler, Response } from 'express';
import type { KitContext } from './context.js';
import { signOutLocally } from './sign-in.js';
import { requestApi } from './request-api.js';
import { ssoState } from './session.js';

/** What the kit tells the site's templates besides the user (`res.locals.sso`). */
export interface SsoLocals {
  /**
   * The last silent check found a hub session that still needs this site's consent: the
   * page can offer "one click to continue" (a link to `/sso/login?next=…`).
   */
  consentRequired: boolean;
}

/** Exposes the session user as `req.user` and `res.locals.user`, the request API as `req.sso`, and `res.locals.sso`. */
export function exposeUser(ctx: KitContext, req: Request, res: Response): void {
  const user = ssoState(req)?.user;
  req.user = user;
  res.locals.user = user;
  req.sso = requestApi(ctx, req);
  const locals: SsoLocals = { consentRequired: !user && ctx.cookies.hasConsentRequired(req) };
  res.locals.sso = locals;
  // A page of a signed-in user is kept by no cache, the browser's included: Back after a sign-out
  // elsewhere showed the signed-in page again from the browser's cache, with forms that then
  // failed (a review). Only on what asks for HTML: express.static and res.sendFile (send) set their
  // own Cache-Control only where none is set yet, so set on every answer it replaced theirs, and a
  // signed-in visitor's styles, scripts and images were fetched again on every page (a review). A
  // Cache-Control the site sets before the router, or with res.set after it, wins. Set now, not as
  // the headers go out: wrapping writeHead for that cost 8-13 % of a signed-in page view's CPU
  // (bench/tools/kit-cpu.ts).
  if (user && res.getHeader('Cache-Control') === undefined && (req.headers.accept ?? '').includes('text/html')) res.setHeader('Cache-Control', 'private, no-store');
}

/**
 * Sets `req.user` / `res.locals.user` on every request with a session user. A session past
 * its absolute lifetime ends here and `Request-Login` is set, so the next page view re-checks
 * with the hub silently instead of trusting a stale sign-in. Synchronous unless a session
 * ends: a page view of a signed-in user makes no promise here.
 */
export function currentUser(ctx: KitContext): RequestHandler {
  return (req, res, next) => {
    const state = ssoState(req);
    if (state && Math.floor(Date.now() / 1000) - state.loggedInAt > ctx.options.sessionMaxAgeSeconds) {
      return endExpiredSession(ctx, req, res).then(() => {
        exposeUser(ctx, req, res);
        next();
      });
    }
    exposeUser(ctx, req, res);
    return next();
  };
}

async function endExpiredSession(ctx: KitContext, req: Request, res: Response): Promise<void> {
  await signOutLocally(ctx, req, res);
  ctx.cookies.setRequestLogin(res);
}
