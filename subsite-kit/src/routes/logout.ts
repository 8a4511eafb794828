import type { Request, RequestHandler } from 'express';
import type { KitContext } from '../context.js';
import { Forbidden } from '../errors.js';
import { signOutLocally } from '../sign-in.js';
import { ssoState } from '../session.js';
import { blockingFormAction } from '../form-action.js';

/**
 * CSRF defence for `POST /sso/logout` (no token needed in the subsite's forms): the request
 * must come from this very origin. Browsers that send Fetch Metadata must say
 * `Sec-Fetch-Site: same-origin`; others must send an `Origin` (or, failing that, `Referer`)
 * of the site's origin. `same-site` is refused: a sibling subdomain is not this site.
 */
export function isSameOriginRequest(req: Request, siteOrigin: string): boolean {
  const site = req.get('sec-fetch-site');
  if (site !== undefined) return site === 'same-origin';
  const origin = req.get('origin');
  if (origin !== undefined) return origin === siteOrigin;
  const referer = req.get('referer');
  if (referer === undefined) return false;
  try {
    return new URL(referer).origin === siteOrigin;
  } catch {
    return false;
  }
}

/**
 * `POST /sso/logout`: ends the local session, clears `Request-Login`, then sends the browser
 * to the hub's end-session endpoint, which signs out everywhere and comes back to
 * `postLogoutRedirectUri`.
 */
export function logout(ctx: KitContext): RequestHandler {
  return async (req, res) => {
    if (!isSameOriginRequest(req, ctx.options.siteOrigin)) throw new Forbidden('logout must be posted from this site');
    const idToken = ssoState(req)?.idToken;
    await signOutLocally(ctx, req, res);
    ctx.cookies.clearSignInMarkers(req, res);

    let endpoint = `${ctx.options.hubUrl}/session/end`;
    try {
      endpoint = (await ctx.hub.metadata()).end_session_endpoint ?? endpoint;
    } catch {
      // The hub's discovery is down; its conventional end-session path still works for the browser.
    }
    const url = new URL(endpoint);
    if (idToken) url.searchParams.set('id_token_hint', idToken);
    url.searchParams.set('post_logout_redirect_uri', ctx.options.postLogoutRedirectUri);
    url.searchParams.set('client_id', ctx.options.clientId);
    warnIfPolicyBlocks(ctx, res.getHeader('content-security-policy'), url);
    res.set('Cache-Control', 'no-store');
    res.redirect(303, url.href);
  };
}

/**
 * Browsers apply the posting page's `form-action` to the redirect to the hub: a policy that does
 * not allow the hub (helmet's default `form-action 'self'`) blocks it without a word to anyone.
 * A security middleware mounted before `sso.router` set that policy on this answer too: say so.
 */
function warnIfPolicyBlocks(ctx: KitContext, header: string | number | string[] | undefined, hubEndpoint: URL): void {
  const blocking = blockingFormAction(header, hubEndpoint.href, ctx.options.siteOrigin);
  if (blocking === undefined) return;
  ctx.configLog.warn('form-action', `subsite-kit: /sso/logout: this site's Content-Security-Policy (${blocking}) does not allow the hub (${hubEndpoint.origin}), so the browser blocks the sign-out's redirect to the hub: the local session ends, but the page does not change and the hub session and the other sites stay signed in; add the hub's origin to form-action, e.g. with helmet: helmet({ contentSecurityPolicy: { directives: { formAction: ["'self'", '${hubEndpoint.origin}'] } } })`);
}
