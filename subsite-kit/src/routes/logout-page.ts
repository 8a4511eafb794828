import type { RequestHandler } from 'express';
import { ROUTES, type KitContext } from '../context.js';
import { ssoState } from '../session.js';
import { escapeHtml } from '../escape-html.js';
import { kitPageHtml } from '../page-html.js';

/**
 * `GET /sso/logout`: a page with the sign-out button, which posts to `POST /sso/logout`. A
 * bookmark, a typed address or a site's old `<a href="/sso/logout">` used to end on "That page
 * does not exist" (a browser review). A GET signs nobody out (a link or an `<img>` planted
 * elsewhere could then do it): the button is a same-origin POST, which the logout's origin check
 * lets through. The page cannot be framed (a button under a decoy).
 */
export function logoutPage(ctx: KitContext): RequestHandler {
  const hubOrigin = new URL(ctx.options.hubUrl).origin;
  // The form posts to the sign-out under the site's path as the browser sees it (redirectUri's, as
  // the kit's other links): `/app/sso/logout` whether the router is mounted at `/app` or a proxy
  // strips `/app`. The request's own path (`req.baseUrl` + `req.path`) lost `/app` behind such a
  // proxy, and the button posted outside the site (a diff review).
  const action = `${ctx.options.basePath}${ROUTES.logout}`;
  return (req, res) => {
    const signedIn = ssoState(req) !== undefined;
    res.set('Cache-Control', 'no-store');
    res.set('X-Frame-Options', 'DENY');
    // Only where the site set no policy of its own: the POST's redirect goes to the hub, which form-action must allow.
    if (res.getHeader('content-security-policy') === undefined) {
      res.set('Content-Security-Policy', `default-src 'none'; form-action 'self' ${hubOrigin}; frame-ancestors 'none'; base-uri 'none'`);
    }
    res.status(200).type('html').send(kitPageHtml(
      'Sign out',
      '<h1>Sign out</h1>'
      + `<p data-testid="kit-logout-message">${signedIn ? 'Sign out of this site and of the sign-in service?' : 'You are not signed in on this site. You can still sign out of the sign-in service.'}</p>`
      + `<form method="post" action="${escapeHtml(action)}"><button type="submit" data-testid="kit-logout-button">Sign out</button></form>`
      + `<p><a href="${escapeHtml(ctx.options.publicPath)}" data-testid="kit-logout-cancel">Cancel</a></p>`,
      ' data-kit-page="logout"',
    ));
  };
}
