import type { RequestHandler } from 'express';
import type { KitContext } from '../context.js';
import { InvalidRequest, TemporarilyUnavailable, TokenKeyNotKnownYet, TokenTimesRefused } from '../errors.js';
import { verifyLogoutToken, type HubTokenVerifier } from '../hub-token.js';

/** The verifier of hub-signed tokens for this kit. */
export function hubTokenVerifier(ctx: KitContext): HubTokenVerifier {
  return {
    issuers: ctx.options.issuers,
    clientId: ctx.options.clientId,
    clockSkewSeconds: ctx.options.clockSkewSeconds,
    jwks: ctx.hub.jwks,
    store: ctx.kitStore,
    storeKeys: ctx.keys,
  };
}

/**
 * `POST /sso/backchannel-logout` (OIDC Back-Channel Logout 1.0): a form-encoded
 * `logout_token` from the hub. With a `sid`, the local sessions of that hub session end;
 * with only a `sub`, every session of the user. Answers 200 with `Cache-Control: no-store`.
 */
export function backchannelLogout(ctx: KitContext): RequestHandler {
  return async (req, res) => {
    const token = (req.body as Record<string, unknown> | undefined)?.logout_token;
    if (token === undefined) throw new InvalidRequest('logout_token is required');
    const { sub, sid } = await verifyLogoutToken(token, hubTokenVerifier(ctx)).catch((error: unknown) => {
      // Refused only for now (this server's clock apart from the hub's, or a key the hub rotated to
      // a moment ago): a 400 made the hub's queue drop the logout for good, and the user stayed
      // signed in here (a kit-faults review, the hub's clock 2 minutes ahead). A 503 is retried
      // with a fresh token until it passes; nothing was spent (the jti is claimed after the checks).
      if (error instanceof TokenTimesRefused || error instanceof TokenKeyNotKnownYet) {
        throw new TemporarilyUnavailable(`logout token refused for now: ${error.message.replace(/^token rejected: /, '')}`, { cause: error });
      }
      throw error;
    });
    if (sid) await ctx.index.endSessionsOfHubSid(sid);
    else if (sub) await ctx.index.endAllSessionsOf(sub);
    res.set('Cache-Control', 'no-store');
    res.status(200).end();
  };
}
