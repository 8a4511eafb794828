import type { Request, RequestHandler, Response } from 'express';
import type { KitContext } from './context.js';
import { signOutLocally } from './sign-in.js';

/** Exposes the session user as `req.user` and `res.locals.user`. */
export function exposeUser(req: Request, res: Response): void {
  const user = req.session?.sso?.user;
  req.user = user;
  res.locals.user = user;
}

/**
 * Sets `req.user` / `res.locals.user` on every request with a session user. A session past
 * its absolute lifetime ends here and `Request-Login` is set, so the next page view re-checks
 * with the hub silently instead of trusting a stale sign-in.
 */
export function currentUser(ctx: KitContext): RequestHandler {
  return async (req, res, next) => {
    const state = req.session?.sso;
    if (state && Math.floor(Date.now() / 1000) - state.loggedInAt > ctx.options.sessionMaxAgeSeconds) {
      await signOutLocally(ctx, req);
      res.clearCookie(ctx.options.cookies.session, { path: '/' });
      ctx.cookies.setRequestLogin(res);
    }
    exposeUser(req, res);
    next();
  };
}
