import type { ErrorRequestHandler, RequestHandler } from 'express';
import { HubError } from '../errors.js';
import type { Logger } from '../logger.js';
import { StoreUnavailableError } from '../store/store.js';
import { renderPage } from '../portal/render.js';
import type { Views } from '../views/views.js';

interface OidcLikeError {
  name?: string;
  error?: string;
  error_description?: string;
  status?: number;
  statusCode?: number;
  code?: string;
}

/** The 404 page for anything no route answered. */
export function notFound(views: Views): RequestHandler {
  return (_req, res) => {
    renderPage(res, views, 'hub/error.njk', { title: 'Page not found', description: 'There is nothing at this address.' }, 404);
  };
}

/**
 * The one error handler, registered last: a friendly page that leaks nothing. Store
 * outages fail closed with 503; expired sign-in pages and bad CSRF tokens get a page that
 * says what to do; anything unexpected is logged (name and stack, never request data).
 */
export function errorHandler(views: Views, logger: Logger): ErrorRequestHandler {
  return (error: unknown, _req, res, _next) => {
    if (res.headersSent) {
      // Part of the answer is out (a streamed export): cut it off, say nothing more.
      logger.error('error after the answer started', { errorName: (error as Error)?.name });
      res.destroy();
      return;
    }
    let status = 500;
    let title = 'Something went wrong';
    let description = 'The sign-in service had a problem. Please try again.';
    const oidc = error as OidcLikeError;
    if (error instanceof StoreUnavailableError) {
      status = 503;
      title = 'Temporarily unavailable';
      description = 'The sign-in service is temporarily unavailable. Please try again in a moment.';
      res.setHeader('Retry-After', '5');
      logger.error('store unavailable', { error: (error.cause as Error | undefined)?.message });
    } else if (error instanceof HubError) {
      status = error.status;
      title = status === 429 ? 'Too many attempts' : 'That did not work';
      description = error.publicMessage;
    } else if (oidc?.code === 'EBADCSRFTOKEN') {
      status = 403;
      title = 'This form has expired';
      description = 'For your security this form can only be sent once, from the page that showed it. Please go back, reload the page and try again.';
    } else if (oidc?.name === 'SessionNotFound') {
      status = 400;
      title = 'This sign-in page has expired';
      description = 'Please go back to the site you came from and start the sign-in again.';
    } else if (oidc?.error && typeof oidc.status === 'number' && oidc.status < 500) {
      status = oidc.status;
      description = oidc.error_description ?? oidc.error;
    } else if (typeof oidc?.statusCode === 'number' && oidc.statusCode < 500) {
      status = oidc.statusCode;
      description = 'The request could not be understood.';
    } else {
      logger.error('unhandled error', { errorName: (error as Error)?.name, stack: (error as Error)?.stack });
    }
    renderPage(res, views, 'hub/error.njk', { title, description }, status);
  };
}
