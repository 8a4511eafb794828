import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { isKitPath, type KitContext } from './context.js';
import { KitError, SiteMisconfigured, describeError } from './errors.js';
import { SILENT_RETRY_AFTER_SECONDS } from './cookies.js';
import { exposeUser } from './current-user.js';
import { isEmbeddedFetch, isPageRequest } from './page-request.js';
import { originalPath, redirectToHub } from './authorize.js';
import { insecureTransport } from './secure-transport.js';
import { logMisconfigured } from './routes/error-handler.js';
import { recheckDue, startRecheck } from './recheck.js';
import { ssoState } from './session.js';
import { MAX_PENDING } from './pending-auth.js';

/**
 * Lazy verification: on a real page view with no local user and a `Request-Login` cookie
 * (or, in `crossSite` mode, the first page view of a browser session), redirect to the hub
 * with `prompt=none`. Never loops: the callback always clears `Request-Login`, a silent check
 * that never came back is given up, and the crossSite check is remembered for the browser session.
 * In `crossSite` mode a signed-in session is also re-checked silently once its last verification
 * is older than `crossSiteRecheckSeconds` (see {@link startRecheck}).
 */
export function lazyLogin(ctx: KitContext): RequestHandler {
  const recheckSeconds = ctx.options.crossSite ? ctx.options.crossSiteRecheckSeconds : 0;
  // Synchronous up to the silent check: a page view of a signed-in user makes no promise here
  // (in crossSite mode, one comparison of timestamps until a re-check is due).
  return (req, res, next) => {
    // Every request through sso.router has `req.sso` (exposeUser); its `req.session` may have
    // ended in this request (past its lifetime: currentUser set Request-Login, so the next page
    // view checks with the hub), and the request carries on as an anonymous visitor's.
    if (!req.sso) return next(notThroughRouter(ctx));
    exposeUser(ctx, req, res);
    if (req.user) {
      // Request-Login beside a session: the hub's sync beacon told of a sign-in of another hub
      // session (someone else, or this user again): the next page view asks the hub (a re-check).
      const asked = ctx.cookies.requestLoginDue(req);
      const due = asked || (recheckSeconds > 0 && recheckDue(ssoState(req)!, recheckSeconds));
      if (due && req.method === 'GET' && isTopLevelPage(req) && !isKitPath(req.path)) return asked ? silentCheck(ctx, req, res, next, true, true) : startRecheck(ctx, req, res, next);
      return next();
    }
    if (!isTopLevelPage(req) || isKitPath(req.path)) return next();

    const requestLogin = ctx.cookies.requestLoginDue(req);
    // The first page view of a browser session re-checks once: always in crossSite mode (the
    // sync beacons' cookies are dropped there), and after a sign-in here whose browser-session
    // cookie died with the browser (the long-lived remember marker), so the hub session decides.
    const firstViewCheck = (ctx.options.crossSite || ctx.cookies.hasRemember(req)) && !ctx.cookies.hasChecked(req);
    if (!requestLogin && !firstViewCheck) return next();
    if (firstViewCheck) ctx.cookies.setChecked(res);
    // The same refusal as /sso/login's: the session cookie could not be set on this request, so
    // the hub's answer would only come back to a failing callback. Said in the log (once a
    // minute), and the visitor carries on anonymous; Request-Login is dropped, so no loop.
    const insecure = insecureTransport(ctx, req);
    if (insecure) {
      logMisconfigured(ctx.configLog, req, insecure);
      ctx.cookies.clearRequestLogin(req, res);
      return next();
    }
    return silentCheck(ctx, req, res, next, requestLogin);
  };
}

/**
 * Why `req.sso` is missing, and what the kit needs: `sso.router` mounted where redirectUri puts
 * the kit's routes (the site root unless redirectUri has a path), so that it sees every page
 * lazyLogin sees, and before lazyLogin. A router mounted under a path of its own
 * (`app.use('/auth', sso.router)`) sees only the requests under that path: that is said too.
 */
function notThroughRouter(ctx: KitContext): SiteMisconfigured {
  const { basePath } = ctx.options;
  const where = basePath ? `at '${basePath}', the path redirectUri puts the kit under (app.use('${basePath}', sso.router))` : 'at the site root (app.use(sso.router))';
  const seen = ctx.mount.seenElsewhere();
  const mounted = seen ? `; it is mounted at '${seen}', so it sees only the requests under that path` : '';
  return new SiteMisconfigured(`req.sso is not set: this request did not pass through sso.router${mounted}; sso.router must see every page lazyLogin sees: mount it ${where}, before sso.lazyLogin`);
}

/** How long a silent check counts as in flight in another tab, not lost (the hub answers `prompt=none` at once). */
const IN_FLIGHT_SECONDS = 10;

/**
 * A silent check that never came back: the hub answers `prompt=none` at once, so this is most
 * often the hub's error page for this client (a redirectUri it does not have registered, an
 * unknown clientId), which only the hub's log names. Said here too, at most once a minute.
 */
function silentCheckLost(ctx: KitContext): void {
  const { clientId, redirectUri } = ctx.options;
  ctx.configLog.warn(
    'silent check lost',
    `subsite-kit: a silent sign-in check sent to the hub did not come back to redirectUri (${redirectUri}), so it was given up and the visitor carries on as they were; ` +
      `if this repeats, check at the hub that client ${JSON.stringify(clientId)} has this redirectUri registered (the hub's log names what it refused)`,
  );
}

/**
 * Sends the browser to the hub with `prompt=none`, unless a silent check is already pending.
 * `recheck`: the check a sync beacon asked for beside a signed-in session (Request-Login): the
 * same user keeps the session, its data included; another user replaces it.
 */
async function silentCheck(ctx: KitContext, req: Request, res: Response, next: NextFunction, requestLogin: boolean, recheck = false): Promise<void> {
  // A silent check is already pending: the browser left it at the hub or never got back.
  // Give up rather than start another; the visitor carries on as they were (anonymous, or with the session).
  const { newest: pending, count } = await ctx.pending.overview(req);
  if (pending?.silent) {
    // Started moments ago: in flight in another tab (a second page opened while the first is at
    // the hub). This page is served as it is and that check left to come back; giving it up here
    // sent the first tab to "this sign-in was not started in this browser".
    if (pending.startedAt !== undefined && Math.floor(Date.now() / 1000) - pending.startedAt < IN_FLIGHT_SECONDS) return next();
    await ctx.pending.dropSilent(req, res);
    ctx.cookies.clearRequestLogin(req, res);
    silentCheckLost(ctx);
    return next();
  }
  // The browser already holds as many pending requests as are kept (tabs opened together, each
  // with its check; sign-ins under way in other tabs): another would only push one of theirs out
  // and grow the Cookie header. This page is served as it is, Request-Login kept (no redirect, so
  // no loop): a page view once they have come back or expired (a silent check's within a minute) checks.
  if (count >= MAX_PENDING) return next();

  try {
    return await redirectToHub(ctx, req, res, originalPath(req, ctx.options.basePath), true, recheck);
  } catch (error) {
    ctx.options.logger.warn(`subsite-kit: silent ${recheck ? 're-check skipped, the session is kept' : 'sign-in check skipped, the visitor stays anonymous'}: ${describeError(error)}`);
    await ctx.pending.dropSilent(req, res);
    // Hub or store unreachable (a 503, as at the callback): the visitor is served anonymous, and
    // a Request-Login that asked for this check is held back rather than dropped, so a page view
    // after the delay checks once more and the sign-in at the hub is not lost. A configuration
    // error (502) or a fault in the code drops it; a first-view check (crossSite, remember) that
    // had none leaves none.
    if (requestLogin && isUnreachable(error)) ctx.cookies.setRequestLoginLater(res, SILENT_RETRY_AFTER_SECONDS);
    else ctx.cookies.clearRequestLogin(req, res);
    return next();
  }
}

/** The hub or the store could not be reached (worth another try later), as opposed to a configuration error or a fault in the code. */
function isUnreachable(error: unknown): boolean {
  if (error instanceof KitError) return error.status === 503;
  return !(error instanceof TypeError || error instanceof ReferenceError || error instanceof RangeError || error instanceof SyntaxError);
}

/**
 * A page view that may start a silent check: a page the browser opens as a page of its own, not
 * in a frame. The check's answer comes back the way it went, and the callback takes only a page's
 * (an <iframe> of it on another page could otherwise delete Request-Login); a framed page is
 * served as it is, Request-Login kept for the next page view.
 */
function isTopLevelPage(req: Request): boolean {
  return isPageRequest(req) && !isEmbeddedFetch(req);
}
