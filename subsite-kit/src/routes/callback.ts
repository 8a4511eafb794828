import type { RequestHandler } from 'express';
import type { KitContext } from '../context.js';
import { safeReturnTo } from '../return-to.js';
import { describeError } from '../errors.js';
import { safeEqual } from '../pending-auth.js';
import { signIn } from '../sign-in.js';

/**
 * `GET /sso/callback`: the hub's answer to an authorization request (RFC 6749 §4.1.2).
 * Whatever happens, the pending request and `Request-Login` are cleared before the browser
 * goes back, so a failed silent check can never loop: the visitor carries on anonymous.
 */
export function callback(ctx: KitContext): RequestHandler {
  return async (req, res) => {
    const pending = await ctx.pending.read(req);
    ctx.pending.clear(res);
    ctx.cookies.clearRequestLogin(req, res);
    res.set('Cache-Control', 'no-store');
    res.set('Referrer-Policy', 'no-referrer'); // the URL carries a code

    // Checked again here: whatever was stored, the callback only ever redirects on this origin.
    const back = () => res.redirect(302, safeReturnTo(pending?.returnTo));
    const { state, code, error } = req.query;

    // state binds the answer to this browser's request (CSRF on the callback, RFC 6749 §10.12).
    if (!pending || typeof state !== 'string' || !safeEqual(state, pending.state)) return back();
    // login_required, consent_required, interaction_required, access_denied, …: stay anonymous.
    if (error !== undefined || typeof code !== 'string' || code.length === 0) return back();

    try {
      await signIn(ctx, req, code, pending);
    } catch (failure) {
      ctx.options.logger.warn(`subsite-kit: sign-in at callback failed: ${describeError(failure)}`);
    }
    return back();
  };
}
