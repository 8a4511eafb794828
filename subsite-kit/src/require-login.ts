import type { Request, RequestHandler } from 'express';
import { ROUTES, type KitContext } from './context.js';
import { originalPath } from './authorize.js';
import { isEmbeddedFetch, isPageRequest } from './page-request.js';
import { ssoState } from './session.js';
import { safeReturnTo } from './return-to.js';
import { sendKitPage } from './error-page.js';

/**
 * A form the browser submits as a page (a `POST` navigation): `Sec-Fetch-Mode: navigate` where
 * Fetch Metadata is sent, else a request that prefers HTML. Not a page view: it is never
 * redirected (the hub would get a GET, and the posted fields would be gone).
 */
function isFormNavigation(req: Request): boolean {
  if (req.method === 'GET' || req.method === 'HEAD' || isEmbeddedFetch(req)) return false;
  const mode = req.get('sec-fetch-mode');
  if (mode !== undefined) return mode === 'navigate';
  return req.accepts(['json', 'html']) === 'html';
}

/** The page a form was posted from, as a same-origin path (its `Referer`), else the site's root. */
function formPage(req: Request, basePath: string): string {
  const referer = req.get('referer');
  if (referer) {
    try {
      const url = new URL(referer);
      if (url.host === req.get('host')) return safeReturnTo(`${url.pathname}${url.search}`);
    } catch {
      // not a URL: the root
    }
  }
  return `${basePath}/`;
}

/**
 * Guards a route: a page view without a user goes to `/sso/login?next=<this page>`; a form
 * posted as a page gets a 401 page that says the form was not saved, with a "Sign in again"
 * link back to the page it came from (never a redirect: no loop, and the browser's Back still
 * has what was typed); any other request gets `401 {"error":"login_required"}`.
 */
export function requireLogin(ctx: KitContext): RequestHandler {
  return (req, res, next) => {
    if (ssoState(req)?.user) return next();
    res.set('Cache-Control', 'no-store');
    const login = (path: string) => `${ctx.options.basePath}${ROUTES.login}?next=${encodeURIComponent(path)}`;
    if (isPageRequest(req)) return res.redirect(302, login(originalPath(req, ctx.options.basePath)));
    if (isFormNavigation(req)) {
      // Before, the visitor of a page whose session had ended meanwhile (signed out at the hub,
      // the session's lifetime over) got the JSON below as the page for their post (a review).
      return sendKitPage(res, {
        status: 401,
        title: 'Sign-in required',
        message: 'You are no longer signed in, so what this form sent was not saved. Go back to copy what you typed, sign in again, then send it again.',
        continuePath: ctx.options.publicPath,
        signInPath: login(formPage(req, ctx.options.basePath)),
      });
    }
    res.status(401).json({ error: 'login_required', error_description: 'sign in to use this resource' });
    return undefined;
  };
}
