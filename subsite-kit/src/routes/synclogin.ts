import type { RequestHandler } from 'express';
import type { KitContext } from '../context.js';
import { claimSyncRequest, verifySyncRequest } from './sync-verify.js';
import { sendSyncAnswer } from './sync-response.js';
import { ssoState } from '../session.js';

/**
 * `GET /sso/synclogin?time=T&code=C`: the hub signed someone in. After verifying the code,
 * set the long-lived `Request-Login` cookie and create no session: the real check with the
 * hub waits for the next page view (lazy verification), so a sign-in does not cost the hub
 * one token request per subsite.
 */
export function synclogin(ctx: KitContext): RequestHandler {
  return async (req, res) => {
    const claims = await verifySyncRequest(ctx, req, res, 'login');
    if (!claims) return;
    // A local session from another hub session may be stale (someone else signed in at the hub,
    // or the same user again): Request-Login makes the next page view ask the hub (a silent
    // re-check, lazyLogin), which keeps the session for the same user and replaces it for another.
    // It is not ended here: anyone can take a login code from their own sync page and plant it as
    // an <img> for others' browsers, and that must not sign them out nor lose their session's data.
    const local = ssoState(req);
    // Single use, spent after the work: a store failure answers 503 and leaves the code
    // good for the browser's retry. A replay is refused here, before Request-Login is set.
    await claimSyncRequest(ctx, req, claims);
    if (!local || local.hubSid !== claims.sid) ctx.cookies.setRequestLogin(res);
    if (!ctx.options.crossSite && req.get('sec-fetch-site') === 'cross-site') warnCrossSiteBeacon(ctx, `${req.baseUrl}${req.path}`);
    sendSyncAnswer(req, res);
  };
}

/**
 * The hub's sync page is on another site than this one (another registrable domain, or http
 * against https: browsers compare the scheme too). Browsers drop a `SameSite=Lax` cookie set by
 * a cross-site image or script, so `Request-Login` never arrives and sign-ins at the hub never
 * reach this site, without an error anywhere: say so, and what to change.
 */
function warnCrossSiteBeacon(ctx: KitContext, route: string): void {
  ctx.configLog.warn('cross-site-beacon', `subsite-kit: ${route}: the hub's sync beacon came from another site (Sec-Fetch-Site: cross-site), so the browser drops the Request-Login cookie it sets and a sign-in at the hub does not sign the visitor in here: the hub (${ctx.options.hubUrl}) and this site (${ctx.options.siteOrigin}) are not the same site (another registrable domain, or http and https; sibling names directly under localhost, such as hub.localhost and app.localhost, are separate sites too, while hub.example.localhost and app.example.localhost are one); serve both on one registrable domain with one scheme, or set crossSite: true`);
}
