import type { Request } from 'express';
import type { KitContext } from './context.js';
import { SiteMisconfigured } from './errors.js';

/**
 * With `secureCookies` the session cookie is `Secure`, and express-session silently does not
 * set it on a request Express sees as plain http (`req.secure` false): a site behind a TLS
 * proxy without `trust proxy` would send every sign-in round the hub and back, forever, with
 * nothing in its log. The sign-in routes refuse such a request instead, saying what to change.
 */
export function requireSecureTransport(ctx: KitContext, req: Request): void {
  const refused = insecureTransport(ctx, req);
  if (refused) throw refused;
}

/**
 * The refusal {@link requireSecureTransport} throws, or `undefined` when the request may sign in.
 * The silent check (lazyLogin) logs it and carries on anonymous instead: a page view must not fail.
 */
export function insecureTransport(ctx: KitContext, req: Request): SiteMisconfigured | undefined {
  if (!ctx.options.secureCookies || req.secure) return undefined;
  return new SiteMisconfigured(
    "secureCookies is on (an https redirectUri) but Express sees this request as plain http (req.secure is false), so the browser would never get the session cookie: behind a TLS proxy, call app.set('trust proxy', 1) (or the proxy's address); for plain-http development, pass secureCookies: false",
  );
}
