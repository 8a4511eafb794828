import type { Request, RequestHandler } from 'express';
import type { KitContext } from '../context.js';
import { InvalidRequest, TemporarilyUnavailable, TokenKeyNotKnownYet, TokenTimesRefused, describeError } from '../errors.js';
import { verifyUserDeleteToken } from '../hub-token.js';
import { hubTokenVerifier } from './backchannel-logout.js';
import { runUserDeleteHookOnce, userDeleteEventKeys, USER_DELETE_RUNNING_RETRY_AFTER_SECONDS } from '../user-delete-hook.js';

/**
 * The notice's token: an `Authorization: Bearer` header or a `token` body field, never both
 * (RFC 6750 §2 and §3.1: a request that uses more than one method is `invalid_request`). Before,
 * the header won and the body's token was ignored without a word (an outside review).
 */
function tokenOf(req: Request): unknown {
  const authorization = req.get('authorization');
  const body = (req.body as Record<string, unknown> | undefined)?.token;
  if (authorization !== undefined) {
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(authorization);
    if (!match) throw new InvalidRequest('Authorization must be "Bearer <token>"');
    if (body !== undefined) throw new InvalidRequest('send the token once: as a Bearer token or as the token field, not both');
    return match[1];
  }
  return body;
}

/**
 * For a session whose ID token has no readable `iat` only (others are told apart on the hub's
 * clock: `SessionIndex.endSessionsOfSignedInBefore`): sessions signed in this long after a
 * disable or reset are kept by its notice, in seconds (after the two clocks are lined up by the
 * token's `iat`: what is left is its rounding and the request's time). No session can start at the hub between the event and the account's
 * enabling again, so nothing the event was about is kept.
 */
const EVENT_CLOCK_MARGIN_SECONDS = 60;

/**
 * `POST /sso/userdelete`: the hub deleted or disabled a user, or reset their password. The
 * hub-signed token (`typ: userdelete+jwt`) comes as a Bearer token or a `token` body field.
 * Every local session of its `sub` ends; an unknown user is fine (2xx), so the hub's queue can
 * stop. For an account that stays (`disabled`, `password-reset`) and a hub that says when it
 * happened (`at`), only sessions signed in before then end: the hub retries a notice until this
 * site answers, and one that arrives after the account was enabled again (this site was down
 * meanwhile) must not end the sessions the user signed in to since (an outside review).
 */
export function userdelete(ctx: KitContext): RequestHandler {
  return async (req, res) => {
    const token = tokenOf(req);
    if (token === undefined) throw new InvalidRequest('token is required');
    const { sub, reason, at, id, iat } = await verifyUserDeleteToken(token, hubTokenVerifier(ctx)).catch((error: unknown) => {
      // Refused for its times only (this server's clock apart from the hub's): a 401 made the hub
      // fail the notice for good, and the user it signed out stayed signed in here once the clocks
      // agreed again (a soak run, this site 45 s behind). A 503 is retried by the hub's queue
      // until the clocks agree; nothing was spent (the jti is claimed only after these checks).
      // So is a token signed with a key the hub rotated to a moment ago (TokenKeyNotKnownYet).
      if (error instanceof TokenTimesRefused || error instanceof TokenKeyNotKnownYet) throw new TemporarilyUnavailable(`userdelete notice refused for now: ${error.message}`, { cause: error });
      throw error;
    });
    // `at` is on the hub's clock and a session's `loggedInAt` on this site's: the token was signed
    // a moment ago (`iat`), which says how far apart they are. Without it, a site whose clock ran
    // more than the margin ahead kept a session signed in before the event (a review).
    const hubToLocal = Math.floor(Date.now() / 1000) - iat;
    const ended =
      at !== undefined && reason !== undefined && reason !== 'deleted'
        ? await ctx.index.endSessionsOfSignedInBefore(sub, { hubAt: at, localBefore: at + hubToLocal + EVENT_CLOCK_MARGIN_SECONDS })
        : await ctx.index.endAllSessionsOf(sub);
    // The site's own clean-up (docs/subsite-protocol.md §7: delete local data for `deleted`), after
    // the sessions ended; a failure answers 503 and the hub retries the notice. Once per event: a
    // hook slower than the hub's delivery timeout ran again, beside the first run, for each retry
    // (a subsite review); a retry while it runs is told to come back later.
    const outcome = await runUserDeleteHookOnce(ctx.kitStore, ctx.keys, userDeleteEventKeys(ctx.options.clientId, { sub, reason, at, id }), ctx.options.onUserDelete,
      { sub, reason, at, sessionsEnded: ended },
      (error) => ctx.options.logger.warn(`subsite-kit: /sso/userdelete: onUserDelete ran, but that it ran could not be recorded: ${describeError(error)}`));
    res.set('Cache-Control', 'no-store');
    if (outcome === 'running') {
      res.set('Retry-After', String(USER_DELETE_RUNNING_RETRY_AFTER_SECONDS));
      res.status(503).json({ error: 'temporarily_unavailable', error_description: 'onUserDelete is still running for this notice: try again later' });
      return;
    }
    res.status(200).json({ sessions_ended: ended });
  };
}
