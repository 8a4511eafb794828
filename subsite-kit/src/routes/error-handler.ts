import type { ErrorRequestHandler, Request } from 'express';
import type { KitLogger } from '../options.js';
import type { RateLimitedLog } from '../rate-limited-log.js';
import { KitError, SiteMisconfigured, describeError } from '../errors.js';
import { isPageRequest } from '../page-request.js';
import { sendKitPage } from '../error-page.js';
import { skipSessionSave } from '../no-session-save.js';
import { escapeHtml } from '../escape-html.js';
import { kitPageHtml } from '../page-html.js';

/**
 * The kit's one error handler, for its own routes: a {@link KitError} becomes its RFC 6749
 * JSON; anything else a 503 (store or hub down, fail closed) that leaks nothing. A page view
 * (a sign-in link clicked while the hub is down) gets the kit's HTML page instead of JSON.
 */
export function errorHandler(configLog: RateLimitedLog, logger: KitLogger, publicPath: string): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) return next(error);
    res.set('Cache-Control', 'no-store');
    if (error instanceof SiteMisconfigured) {
      logMisconfigured(configLog, req, error);
      if (isPageRequest(req)) {
        sendKitPage(res, {
          status: 500,
          title: 'Sign-in unavailable',
          message: 'Sign-in cannot work on this site because of a configuration problem. The site\'s administrator has been told.',
          continuePath: publicPath,
        });
      } else res.status(500).json({ error: error.error });
      return;
    }
    if (isPageRequest(req) && !(error instanceof KitError && error.status < 500)) {
      logger.warn(`subsite-kit: ${req.baseUrl}${req.path} failed: ${describeError(error)}`);
      const unreachable = !(error instanceof KitError) || error.status === 503;
      sendKitPage(res, {
        status: unreachable ? 503 : 502,
        title: unreachable ? 'Temporarily unavailable' : 'Sign-in unavailable',
        message: unreachable
          ? 'Sign-in is temporarily unavailable: the sign-in service or this site\'s storage cannot be reached. Please try again in a moment.'
          : 'This site cannot talk to the sign-in service because of a configuration problem. The site\'s administrator has been told.',
        continuePath: publicPath,
      });
      return;
    }
    if (error instanceof KitError) {
      if (error.status >= 500) {
        // An error that words its own log line (a store failure, a hub request) says it; else its cause.
        logger.warn(`subsite-kit: ${error.error}: ${describeError('logMessage' in error ? error : error.cause ?? error)}`);
        skipSessionSave(res);
      }
      res.status(error.status).json(error.expose ? { error: error.error, error_description: error.message } : { error: error.error });
      return;
    }
    const status = (error as { status?: unknown })?.status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // A body the parsers refused (too large, malformed JSON).
      res.status(400).json({ error: 'invalid_request', error_description: 'malformed request body' });
      return;
    }
    logger.warn(`subsite-kit: request failed: ${describeError(error)}`);
    skipSessionSave(res);
    res.status(503).json({ error: 'temporarily_unavailable' });
  };
}

/**
 * An error handler for the subsite's own pages, to mount last (`app.use(sso.errorHandler)`). It
 * answers only the kit's own errors ({@link KitError}: the session store or the hub down, a
 * token the hub refused, a site set up wrongly); any other error is the site's and goes on with
 * `next(error)`, to the site's own handlers or Express's default 500, unlogged here (a site's bug
 * must not look like an outage, and its message is not the kit's to log or hide).
 *
 * When the session store or the hub is down, a page view gets a short 503 page instead of
 * Express's default stack trace; a site set up wrongly (SiteMisconfigured) a 500 page, with a
 * log line (at most once a minute per kind) that says what to change. A request that is
 * not a page view and does not prefer HTML (an API call with `Accept: application/json` or
 * `*\/*`, an image) gets JSON instead: `{ error,
 * error_description? }` with the kit error's status (401 `login_required` from
 * `req.sso.accessToken()`), `{"error":"temporarily_unavailable"}` with a 503.
 */
export function pageErrorHandler(configLog: RateLimitedLog, logger: KitLogger): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent || !(error instanceof KitError)) return next(error);
    const misconfigured = error instanceof SiteMisconfigured;
    if (misconfigured) logMisconfigured(configLog, req, error);
    else if (error.status >= 500) logger.warn(`subsite-kit: page failed: ${describeError(error)}`);
    const code = misconfigured ? 500 : error.status < 500 ? error.status : error.status === 503 ? 503 : 502;
    res.set('Cache-Control', 'no-store');
    if (code >= 500) skipSessionSave(res);
    if (code === 503) res.set('Retry-After', '5');
    // JSON unless the request is a page view or asks for HTML rather than JSON.
    if (!isPageRequest(req) && req.accepts(['json', 'html']) !== 'html') {
      res.status(code).json(error.expose ? { error: error.error, error_description: error.message } : { error: error.error });
      return;
    }
    const title = code === 500 ? 'Site error' : code === 503 ? 'Temporarily unavailable' : code === 502 ? 'Sign-in unavailable' : code === 401 ? 'Sign-in required' : code === 403 ? 'Forbidden' : 'Bad request';
    const text = code === 500
      ? 'This site has a configuration problem. Its administrator has been told.'
      : code === 503
      ? 'This site is temporarily unavailable. Please try again in a moment.'
      : code === 502
      ? 'This site cannot talk to the sign-in service because of a configuration problem. The site\'s administrator has been told.'
      : code === 401
        ? 'Please sign in again to continue.'
        : code === 403 ? 'This request is not allowed.' : 'The request could not be understood.';
    // The title names the problem (a tab of "503" said nothing to a screen reader's user).
    res.status(code).type('html').send(kitPageHtml(title, `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p>`));
  };
}

/**
 * A site set up wrongly fails every request the same way: its fix is logged at most once a
 * minute per kind (the message), with how many were held back, not once per request.
 */
export function logMisconfigured(configLog: RateLimitedLog, req: Request, error: SiteMisconfigured): void {
  configLog.warn(error.message, `subsite-kit: ${req.baseUrl}${req.path}: this site is misconfigured: ${error.message}`);
}
