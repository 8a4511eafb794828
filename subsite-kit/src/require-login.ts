import type { RequestHandler } from 'express';
import { ROUTES, type KitContext } from './context.js';
import { originalPath } from './authorize.js';
import { isPageRequest } from './page-request.js';
import { ssoState } from './session.js';

/**
 * Guards a route: a page view without a user goes to `/sso/login?next=<this page>`; any
 * other request gets `401 {"error":"login_required"}`.
 */
export function requireLogin(ctx: KitContext): RequestHandler {
  return (req, res, next) => {
    if (ssoState(req)?.user) return next();
    res.set('Cache-Control', 'no-store');
    if (isPageRequest(req)) {
      const target = `${ctx.options.basePath}${ROUTES.login}?next=${encodeURIComponent(originalPath(req, ctx.options.basePath))}`;
      return res.redirect(302, target);
    }
    res.status(401).json({ error: 'login_required', error_description: 'sign in to use this resource' });
    return undefined;
  };
}
