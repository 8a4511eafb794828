import type { ErrorRequestHandler, RequestHandler } from 'express';
import { BusyError, HubError, messageOf, TooManyAttemptsError } from '../errors.js';
import { translator } from '../i18n/i18n.js';
import { localeOf } from '../i18n/locale-middleware.js';
import type { Logger } from '../logger.js';
import { STORE_RETRY_AFTER, StoreUnavailableError } from '../store/store.js';
import { renderPage } from '../portal/render.js';
import { TwoStepKeyMissingError } from '../two-step/two-step-service.js';
import type { Views } from '../views/views.js';

interface OidcLikeError {
  name?: string;
  error?: string;
  error_description?: string;
  status?: number;
  statusCode?: number;
  code?: string;
  /** body-parser's kind of refusal (`entity.too.large`, …). */
  type?: string;
}

/**
 * An error of Node's HTTP parser (llhttp's `HPE_*` codes): the request's bytes were not HTTP.
 * It carries those bytes (`rawPacket`, cookies included), which must never reach a log.
 */
function isParserRefusal(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && code.startsWith('HPE_');
}

/** The 404 page for anything no route answered. */
export function notFound(views: Views): RequestHandler {
  return (_req, res) => {
    const t = translator(localeOf(res));
    renderPage(res, views, 'hub/error.njk', { title: t('errors:titles.notFound'), description: t('errors:descriptions.notFound') }, 404);
  };
}

/**
 * The one error handler, registered last: a friendly page that leaks nothing. Store
 * outages fail closed with 503; expired sign-in pages and bad CSRF tokens get a page that
 * says what to do; anything unexpected is logged (name and stack, never request data).
 */
export function errorHandler(views: Views, logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    if (res.headersSent) {
      // Part of the answer is out (a streamed export): cut it off, say nothing more.
      logger.error('error after the answer started', { errorName: (error as Error)?.name });
      res.destroy();
      return;
    }
    // In the reader's language (localeMiddleware ran for every path that reaches here).
    const t = translator(localeOf(res));
    let status = 500;
    let title = t('errors:generic.title');
    let description = t('errors:generic.description');
    const oidc = error as OidcLikeError;
    if (error instanceof StoreUnavailableError) {
      status = 503;
      title = t('errors:titles.unavailable');
      description = t('errors:descriptions.unavailable');
      res.setHeader('Retry-After', STORE_RETRY_AFTER);
      logger.error('store unavailable', { error: (error.cause as Error | undefined)?.message });
    } else if (error instanceof HubError) {
      status = error.status;
      title = status === 429 ? t('errors:titles.tooMany') : status === 503 ? t('errors:titles.unavailable') : t('errors:titles.didNotWork');
      description = messageOf(error, t);
      if (error instanceof BusyError || error instanceof TooManyAttemptsError) res.setHeader('Retry-After', String(error.retryAfterSeconds));
      // A page that says what is wrong, and a line for the administrator, who has to put it right.
      if (error instanceof TwoStepKeyMissingError) {
        logger.error('a two-step secret is sealed with a key this hub does not have: restore secrets:two-step-keys (or HUB_TOTP_KEYS) from a backup, or reset the user’s two-step sign-in (admin console)', { error: (error.cause as Error | undefined)?.message });
      }
    } else if (oidc?.code === 'EBADCSRFTOKEN') {
      status = 403;
      title = t('errors:titles.formExpired');
      description = t('errors:descriptions.formExpired');
    } else if (oidc?.name === 'SessionNotFound') {
      status = 400;
      title = t('errors:titles.signInExpired');
      description = t('errors:descriptions.signInExpired');
    } else if (oidc?.error && typeof oidc.status === 'number' && oidc.status < 500) {
      status = oidc.status;
      description = oidc.error_description ?? oidc.error;
    } else if (oidc?.type === 'entity.too.large') {
      // Said as what it is: the browser's Back still holds what was typed.
      status = 413;
      title = t('errors:titles.formTooLarge');
      description = t('errors:descriptions.formTooLarge');
    } else if (typeof oidc?.statusCode === 'number' && oidc.statusCode < 500) {
      status = oidc.statusCode;
      description = t('errors:descriptions.badRequest');
    } else if (isParserRefusal(error)) {
      // Node's HTTP parser refused the request half-way (a malformed body, say) and answered it 400
      // itself; a route already running for it (sendFile) hears of it here. The client's fault, not
      // the hub's: no "unhandled error" line, which anyone could have written on demand.
      status = 400;
      description = t('errors:descriptions.badRequest');
    } else {
      logger.error('unhandled error', { errorName: (error as Error)?.name, stack: (error as Error)?.stack });
    }
    // A 5xx page saves no portal session: express-session would save a changed one as the page
    // ends, and with the store failing (the usual cause of a 503) that save fails too and goes to
    // its router's next() after the page went out: Express's final handler printed the raw stack
    // and could cut the connection under the page (a Sentinel failover run).
    if (status >= 500) (req as { session?: unknown }).session = undefined;
    renderPage(res, views, 'hub/error.njk', { title, description }, status);
  };
}
