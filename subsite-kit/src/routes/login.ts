import type { RequestHandler } from 'express';
import type { KitContext } from '../context.js';
import { TemporarilyUnavailable } from '../errors.js';
import { HubRequestError } from '../hub-errors.js';
import { redirectToHub } from '../authorize.js';
import { safeReturnTo } from '../return-to.js';
import { requireSecureTransport } from '../secure-transport.js';
import { warnOnOtherHost } from '../mount-check.js';
import { RateLimitedLog } from '../rate-limited-log.js';

/**
 * `GET /sso/login?next=/path`: an interactive authorization request (the hub shows its login,
 * and consent the first time). `next` is kept only if it is a same-origin path.
 */
export function login(ctx: KitContext): RequestHandler {
  const hostLog = new RateLimitedLog(ctx.options.logger);
  return async (req, res) => {
    const next = safeReturnTo(req.query.next);
    if (req.session?.sso) return res.redirect(302, next);
    requireSecureTransport(ctx, req);
    warnOnOtherHost(ctx, req, hostLog);
    try {
      await redirectToHub(ctx, res, next, false);
    } catch (error) {
      // A discovery document that names another issuer is a misconfiguration (502), not an outage.
      if (error instanceof HubRequestError && error.status !== 503) throw error;
      throw new TemporarilyUnavailable('the sign-in service cannot be reached, please try again later', { cause: error });
    }
    return undefined;
  };
}
