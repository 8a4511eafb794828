import type { RequestHandler } from 'express';
import type { KitContext } from '../context.js';
import { safeReturnTo } from '../return-to.js';
import { requireSecureTransport } from '../secure-transport.js';
import { InvalidRequest, KitError, describeError } from '../errors.js';
import { isEmbeddedFetch } from '../page-request.js';
import { signIn } from '../sign-in.js';
import { sendKitPage } from '../error-page.js';
import { HubRequestError } from '../hub-errors.js';
import { SILENT_RETRY_AFTER_SECONDS } from '../cookies.js';
import { AfterCallbackFailed, SignInRefused } from '../after-callback.js';
import { endRecheckedSession } from '../recheck.js';
import { isSilentState } from '../pending-auth.js';
import { logText } from '../log-text.js';
import { ssoState } from '../session.js';

/** Answers to a `prompt=none` check that mean "no silent sign-in now" (OIDC Core §3.1.2.6): not failures. */
const SILENT_OUTCOMES = new Set(['login_required', 'consent_required', 'interaction_required', 'account_selection_required']);
const MAX_ERROR_LENGTH = 64; // characters of the hub's error code kept for the log and the page
/**
 * An error code as an authorization server sends it: RFC 6749's and OpenID Connect's are all lower
 * case with underscores. Anything else (a sentence, markup, a repeated parameter) did not come from
 * the hub and is never shown on the page as the hub's word.
 */
const ERROR_CODE = /^[a-z_]{1,64}$/;

/**
 * `GET /sso/callback`: the hub's answer to an authorization request (RFC 6749 §4.1.2).
 * The pending request is taken out first, and `Request-Login` cleared when the answer is to a
 * request of this browser (kept for one that is not; held back for one with a silent check's
 * state); a silent check that fails with a 503 (store down, hub unreachable) sets
 * `Request-Login` again, held back, for a later page view.
 * - a silent check the hub answers with login_required / consent_required / …: back to the
 *   page, anonymous (consent_required is told to the page as `res.locals.sso.consentRequired`);
 * - a silent check the hub answers with temporarily_unavailable (its store down), or whose
 *   code exchange the hub does not answer (down, slower than hubTimeoutMs, a 5xx): back to the
 *   page as it is, `Request-Login` held back as for a 503;
 * - an interactive sign-in the user cancelled (`access_denied`): the site's public page, never
 *   the protected page that started it (that would send the user straight back to the hub);
 * - a silent check's answer whose request this browser no longer holds (it holds others): the
 *   site's home page, anonymous, not the error page;
 * - an answer that matches no request of this browser, in a browser signed in already (a reload
 *   of the finished answer): the site's public page, the session kept, the code not used;
 * - anything else that goes wrong (a forged or lost `state`, an `iss` that is not the hub's or,
 *   from a hub that says it sends one, none (RFC 9207), a hub error, a refused client
 *   secret, a bad ID token, the hub or the store down, a user the site refuses): the kit's
 *   error page, which says what failed and does not redirect. At most one hub round trip per
 *   user action, whatever is misconfigured.
 * A crossSite re-check of a signed-in session: the same user keeps the session, another user
 * replaces it (regenerated, as at any sign-in); a silent "no" or any failure but an unreachable
 * hub or store (503) ends it, so the hub's word, not a stale session, decides who is signed in.
 */
export function callback(ctx: KitContext): RequestHandler {
  return async (req, res) => {
    // The hub's answer is a page's own navigation (the kit starts sign-ins and silent checks only
    // from pages). Fetched as an image, a frame, a script or by fetch() it is someone else's page
    // at work: refused before anything is touched. Before, an <img> or <iframe> of
    // /sso/callback?state=x on a sibling host's page deleted Request-Login, so a sign-in at the hub
    // never reached this site (an attacker review).
    if (isEmbeddedFetch(req)) throw new InvalidRequest('a sign-in answer comes as a page of its own, not an image, a frame, a script or a fetch()');
    requireSecureTransport(ctx, req);
    const { state, code, error } = req.query;
    // This answer's own request is taken out; those of other tabs stay pending for their answers.
    const { pending, found } = await ctx.pending.take(req, res, state);
    // Request-Login is cleared by the answer to a request this browser made (whatever happens
    // next, so a failing check is never restarted). An answer that matches none (a bookmark, a
    // stale history entry, a link on someone else's page) leaves it: clearing it there lost the
    // sign-in a sync beacon had just told of (a subsite review). One that says it is a silent
    // check's holds it back instead (checked again on a page view after the delay), so a silent
    // check whose pending cookie this browser did not keep cannot loop.
    if (pending) ctx.cookies.clearRequestLogin(req, res);
    else if (isSilentState(state)) ctx.cookies.holdBackRequestLogin(req, res, SILENT_RETRY_AFTER_SECONDS);
    res.set('Cache-Control', 'no-store');
    res.set('Referrer-Policy', 'no-referrer'); // the URL carries a code

    const { logger, publicPath } = ctx.options;
    const fail = async (status: number, message: string, log: string, hubUnreachable = false) => {
      if (pending?.silent) ctx.instruments.lazyVerification('failed');
      // A silent check that failed on the store or an unreachable hub (503) keeps Request-Login,
      // held back for a while: a page view after that checks again (so the user is signed in
      // once the store is back), the ones before it are served as they are (no page of the
      // site goes through the hub on every view while it is down; never a redirect from here).
      // A re-check that failed so keeps its session (the next re-check is one interval later);
      // one the hub answered with nothing this site takes for the same user (a refused ID token,
      // a user afterCallback refuses, a hub error) ends it: fail closed.
      if (pending?.recheck) {
        if (status !== 503) await endRecheckedSession(ctx, req, res);
      } else if (status === 503 && pending?.silent) ctx.cookies.setRequestLoginLater(res, SILENT_RETRY_AFTER_SECONDS);
      // A silent check whose code exchange the hub did not answer (down, or slower than
      // hubTimeoutMs): back to the page as it is, as for the hub's own temporarily_unavailable.
      // The visitor never asked to sign in; before, every visitor of a page checked while the hub
      // answered in 6-8 s waited 5 s for the "Sign-in failed" page (an outside review). No loop:
      // Request-Login is held back (above) and the hub counts as unreachable for a while.
      if (hubUnreachable && status === 503 && pending?.silent) {
        logger.warn(`subsite-kit: silent sign-in check at ${req.baseUrl}${req.path}: ${log}; the page is served as it is, checking again on a page view after ${SILENT_RETRY_AFTER_SECONDS} s`);
        return res.redirect(302, safeReturnTo(pending.returnTo));
      }
      logger.warn(`subsite-kit: sign-in failed at ${req.baseUrl}${req.path}: ${log}`);
      sendKitPage(res, { status, title: 'Sign-in failed', message, continuePath: publicPath });
    };

    // An answer that matches no request of this browser, in a browser signed in already (a reload
    // of the finished answer's URL, or that URL opened again from the history list): nobody is
    // signing in, the code is not used and the session is kept as it is; on to the public page.
    // Before, a signed-in member read "Sign-in failed: this sign-in was not started in this
    // browser" and "Continue without signing in" (a browser review). Silent states keep their
    // handling below (Request-Login held back, the home page).
    if (!pending && !isSilentState(state) && ssoState(req)?.user) {
      logger.warn(`subsite-kit: sign-in answer at ${req.baseUrl}${req.path} matches no pending request of this browser, which is signed in already (a reload or a history entry?); the code was not used, on to ${publicPath}`);
      return res.redirect(302, publicPath);
    }
    // state binds the answer to this browser's request (CSRF on the callback, RFC 6749 §10.12).
    if (!found) {
      // No cookie of this site came back at all: the likeliest cause a visitor can act on is a
      // browser that blocks this site's cookies, where "Please try again" alone fails every time
      // (a browser review: cookies blocked for bbs, every "Sign in" ended on this page).
      if (!req.headers.cookie) {
        return fail(400, 'This sign-in was not started in this browser, or took too long, or this browser does not keep this site\'s cookies, which signing in here needs. Check that cookies are allowed for this site, then try again.',
          'no pending sign-in cookie, and no cookie of this site at all (the browser blocks this site\'s cookies? or expired: after 10 minutes, a silent check\'s after 1; opened in another browser; cookies not stored: check secureCookies against the site\'s scheme)');
      }
      return fail(400, 'This sign-in was not started in this browser, or took too long. Please try again.',
        'no pending sign-in cookie (expired: after 10 minutes, a silent check\'s after 1; opened in another browser, or cookies not stored: check secureCookies against the site\'s scheme)');
    }
    if (!pending) {
      // A silent check's answer (its state says so) whose request this browser no longer holds,
      // though it holds others, or a trim here dropped it (one of many tabs opened at once,
      // beyond what is kept; see PendingAuthCookie.take): nobody
      // asked to sign in, so no error page; as for any failed silent check, the visitor carries
      // on anonymous, at the site's home page (Request-Login is held back above: no loop).
      if (isSilentState(state)) {
        ctx.instruments.lazyVerification('failed');
        logger.warn(`subsite-kit: silent sign-in check at ${req.baseUrl}${req.path}: its answer matches no pending request of this browser (more tabs checking at once than are kept?); the visitor carries on anonymous at the home page`);
        return res.redirect(302, safeReturnTo(`${ctx.options.basePath}/`));
      }
      return fail(400, 'This sign-in answer does not belong to this browser. Please try again.', 'state does not match this browser\'s request');
    }
    ctx.mount.cameBack(req);

    // RFC 9207 / RFC 9700 §4.4.2.1 (mix-up): the answer must come from this site's hub. An `iss`
    // that is not the hub's issuer is refused, error answers included; a code answer without one
    // is refused when the hub's discovery says it always sends it (sso-hub does).
    const iss = req.query.iss;
    if (iss !== undefined && (typeof iss !== 'string' || !ctx.options.issuers.includes(iss))) {
      const named = typeof iss === 'string' ? `"${logText(iss.slice(0, 200))}"` : 'more than one iss';
      return fail(400, 'This sign-in answer did not come from this site\'s sign-in service. Please try again.',
        `the answer's iss is ${named}, not the hub's issuer "${ctx.options.hubUrl}" (RFC 9207: another server's answer, or a mix-up attack); the code was not used`);
    }
    if (iss === undefined && error === undefined) {
      try {
        const metadata = await ctx.hub.metadata();
        if (metadata.authorization_response_iss_parameter_supported === true) {
          return fail(400, 'This sign-in answer did not come from this site\'s sign-in service. Please try again.',
            'the answer carries no iss, though the hub\'s discovery says it always sends one (RFC 9207); the code was not used');
        }
      } catch (failure) {
        return failPage(failure, fail);
      }
    }

    if (error !== undefined) {
      if (typeof error !== 'string' || !ERROR_CODE.test(error)) {
        const named = typeof error === 'string' ? `"${logText(error.slice(0, MAX_ERROR_LENGTH))}"` : 'given more than once';
        return fail(400, 'This sign-in answer is not one the sign-in service sends. Please try again.', `the answer's error is not an error code (${named}): not the hub's answer, not shown on the page`);
      }
      const hubError = error;
      if (pending.silent && SILENT_OUTCOMES.has(hubError)) {
        ctx.instruments.lazyVerification(hubError);
        if (hubError === 'consent_required') ctx.cookies.setConsentRequired(res);
        if (hubError === 'login_required') ctx.cookies.clearRemember(req, res); // the hub session is gone
        // A re-check answered so: no hub session here, or one of a user who has not consented to
        // this site yet (another user signed in at the hub). Either way this session ends.
        if (pending.recheck) await endRecheckedSession(ctx, req, res);
        return res.redirect(302, safeReturnTo(pending.returnTo));
      }
      // The hub could not answer the check now (its store down) and said so at the redirect URI
      // (RFC 6749 §4.1.2.1): Request-Login is held back as for a 503 of the kit's own, but the
      // page is served as it is, not the error page, which stranded the visitor of a page that
      // never asked to sign in; a page view after that checks again.
      if (pending.silent && hubError === 'temporarily_unavailable') {
        ctx.instruments.lazyVerification('failed');
        // As `fail` does for a 503: a re-checked session stays and is re-checked one interval later.
        if (!pending.recheck) ctx.cookies.setRequestLoginLater(res, SILENT_RETRY_AFTER_SECONDS);
        logger.warn(`subsite-kit: silent sign-in check at ${req.baseUrl}${req.path}: the hub answered temporarily_unavailable; checking again on a page view after ${SILENT_RETRY_AFTER_SECONDS} s`);
        return res.redirect(302, safeReturnTo(pending.returnTo));
      }
      // Cancel at the hub's sign-in page: the public page, not back into the protected one.
      if (hubError === 'access_denied' && !pending.silent) return res.redirect(302, publicPath);
      const described = typeof req.query.error_description === 'string' ? ` (${logText(req.query.error_description.slice(0, 200))})` : '';
      return fail(502, `The sign-in service answered with an error: ${hubError}.`, `the hub answered error=${logText(hubError)}${described}`);
    }
    if (typeof code !== 'string' || code.length === 0) return fail(400, 'The sign-in answer carries no code.', 'callback without code or error');

    try {
      await signIn(ctx, req, code, pending);
    } catch (failure) {
      // A silent check's code the hub refused at the token endpoint: seen with hubs before
      // 2026-12-07 when several tabs of the site checked at once after a sign-in at the hub (two
      // of three ended on "Sign-in failed", a review in Chromium), where another tab's check
      // signed the browser in. The visitor never asked to sign in: back to the page (signed in
      // if another tab's check got there first), Request-Login cleared as for any refused check,
      // so a hub that refuses every code costs one detour, never one per page view.
      if (pending.silent && !pending.recheck && failure instanceof HubRequestError && failure.code === 'invalid_grant' && failure.step === 'token request') {
        ctx.instruments.lazyVerification('failed');
        logger.warn(`subsite-kit: silent sign-in check at ${req.baseUrl}${req.path}: ${failure.logMessage}; the page is served as it is (another tab's check may have signed this browser in)`);
        return res.redirect(302, safeReturnTo(pending.returnTo));
      }
      return failPage(failure, fail);
    }
    if (pending.silent) ctx.instruments.lazyVerification('signed_in');
    ctx.cookies.setRemember(res);
    ctx.cookies.clearConsentRequired(req, res);
    return res.redirect(302, safeReturnTo(pending.returnTo));
  };
}

/** The page for a sign-in that failed after the hub answered with a code. */
function failPage(failure: unknown, fail: (status: number, message: string, log: string, hubUnreachable?: boolean) => Promise<void>): Promise<void> {
  if (failure instanceof SignInRefused) return fail(403, failure.message, 'refused by afterCallback');
  if (failure instanceof AfterCallbackFailed) {
    return fail(500, 'This site could not complete the sign-in because of an error of its own. The site\'s administrator has been told.', failure.logMessage);
  }
  // The code itself refused at the token endpoint (expired, used already, or altered in the URL):
  // this answer's fault, not the site's set-up, so a 400 that says to sign in again. The log line
  // keeps the hub's words and the hint (a redirectUri or PKCE mismatch would show on every sign-in).
  if (failure instanceof HubRequestError && failure.code === 'invalid_grant' && failure.step === 'token request') {
    return fail(400, 'This sign-in has expired or was already used. Please sign in again.', failure.logMessage);
  }
  if (failure instanceof HubRequestError) {
    const message = failure.status === 503
      ? `The sign-in service could not be reached (${failure.step}). Please try again in a moment.`
      : `This site could not complete the sign-in with the sign-in service (${failure.step}${failure.code ? `: ${failure.code}` : ''}). The site's administrator has been told.`;
    return fail(failure.status, message, failure.logMessage, true);
  }
  if (failure instanceof KitError) return fail(failure.status, failure.expose ? failure.message : 'Sign-in is temporarily unavailable.', describeError(failure));
  // The session store (Redis) or anything else: fail closed.
  return fail(503, 'Sign-in is temporarily unavailable. Please try again in a moment.', describeError(failure));
}

