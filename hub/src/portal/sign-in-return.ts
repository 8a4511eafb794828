import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type Provider from 'oidc-provider';

/** An oidc-provider interaction uid as the sign-in page's links carry it (`?from=`). */
const INTERACTION_UID = /^[A-Za-z0-9_-]{10,64}$/;

/**
 * "Forgot your password?" and "Create an account" on a site's sign-in page name that page
 * (`?from=<uid>`): the portal session keeps it, and the pages after them ("Back to sign-in", "Sign
 * in" once the address is verified or the password reset) go back to it, so the sign-in goes on to
 * the site it started from. They went to `/login`, the hub's own account page (an outside review).
 * Only a uid the link names is kept; a page opened without one leaves what is kept as it is (the
 * redirects between these pages carry none).
 */
export function rememberSignInPage(req: Request): void {
  const from = req.query.from;
  if (typeof from === 'string' && INTERACTION_UID.test(from)) req.session.signInPage = from;
}

/**
 * Where "Back to sign-in" goes: the sign-in page the browser came from while it is still open at
 * the hub (its interaction not finished nor expired), else `/login`.
 */
export async function signInPageLink(provider: Provider, req: Request): Promise<string> {
  const uid = req.session.signInPage;
  if (uid === undefined || !INTERACTION_UID.test(uid)) return '/login';
  const interaction = await provider.Interaction.find(uid);
  if (interaction && !interaction.result) return `/interaction/${uid}`;
  delete req.session.signInPage;
  return '/login';
}

/** Middleware for the pages after those links: keeps `?from=` and puts the link in `res.locals.signInLink` (read by renderPage). */
export function signInReturn(provider: Provider): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    if (req.method === 'GET') rememberSignInPage(req);
    res.locals.signInLink = await signInPageLink(provider, req);
    next();
  };
}
