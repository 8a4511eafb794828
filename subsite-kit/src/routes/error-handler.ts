import type { ErrorRequestHandler } from 'express';
import type { KitLogger } from '../options.js';
import { KitError, describeError } from '../errors.js';

/**
 * The kit's one error handler, for its own routes: a {@link KitError} becomes its RFC 6749
 * JSON; anything else a 503 (store or hub down, fail closed) that leaks nothing.
 */
export function errorHandler(logger: KitLogger): ErrorRequestHandler {
  return (error: unknown, _req, res, next) => {
    if (res.headersSent) return next(error);
    res.set('Cache-Control', 'no-store');
    if (error instanceof KitError) {
      if (error.status >= 500) logger.warn(`subsite-kit: ${error.error}: ${describeError(error.cause)}`);
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
    res.status(503).json({ error: 'temporarily_unavailable' });
  };
}
