import type { RequestHandler } from 'express';
import type { KitContext } from '../context.js';
import { InvalidRequest, TemporarilyUnavailable } from '../errors.js';
import { HubRequestError } from '../hub-errors.js';
import { interactivePrompt, redirectToHub } from '../authorize.js';
import { safeReturnTo } from '../return-to.js';
import { requireSecureTransport } from '../secure-transport.js';
import { otherHostWarning } from '../mount-check.js';
import { isEmbeddedFetch } from '../page-request.js';
import { ssoState } from '../session.js';

/**
 * `GET /sso/login?next=/path[&prompt=login|select_account]`: an interactive authorization request
 * (the hub shows its login, and consent the first time). `next` is kept only if it is a
 * same-origin path. A signed-in visitor goes straight to `next`, unless the link asks for a
 * `prompt` (another prompt value is ignored: `none` is the kit's own silent check).
 */
export function login(ctx: KitContext): RequestHandler {
  const warnOnOtherHost = otherHostWarning(ctx);
  return async (req, res) => {
    // Only a page the browser opens (a link, the address bar, a redirect) starts a sign-in. Each
    // start leaves a pending-request cookie for ten minutes, and requests fetched together each
    // add one without seeing the others': a page on a sibling host (or a post's images) fetching
    // this route 80 times as <img> left 77 cookies, 20 KB, and this site answered that browser
    // 431 for ten minutes (an attacker review). The hub refuses such fetches of /auth too.
    if (isEmbeddedFetch(req)) throw new InvalidRequest('a sign-in starts from a page of its own, not an image, a frame or a fetch()');
    const next = safeReturnTo(req.query.next);
    // `?prompt=login` (or `select_account`): to the hub's sign-in page even when signed in here,
    // for a "sign in as someone else" link; the callback then replaces this site's session.
    const prompt = interactivePrompt(req.query.prompt);
    if (ssoState(req) && !prompt) return res.redirect(302, next);
    requireSecureTransport(ctx, req);
    warnOnOtherHost(req);
    try {
      await redirectToHub(ctx, req, res, next, false, false, prompt);
    } catch (error) {
      // A discovery document that names another issuer is a misconfiguration (502), not an outage.
      if (error instanceof HubRequestError && error.status !== 503) throw error;
      throw new TemporarilyUnavailable('the sign-in service cannot be reached, please try again later', { cause: error });
    }
    return undefined;
  };
}
