import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { MetricsRegistry } from './prometheus.js';
import { rejectUnknownMethodOptions } from '../unknown-options.js';

/** How `/metrics` is protected: a Bearer token, or `open` on a listener of its own (bind it to a private address). */
export type MetricsHandlerOptions = { token: string; open?: never } | { open: true; token?: never };

const MIN_TOKEN_LENGTH = 32;

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * The Prometheus scrape handler. With `token`, a request needs `Authorization: Bearer <token>`
 * (compared in constant time) and gets a 404 otherwise, so the endpoint does not announce
 * itself; with `open: true`, no token (for a separate listener that only a scraper reaches).
 */
export function metricsHandler(registry: MetricsRegistry, options: MetricsHandlerOptions): RequestHandler {
  if (typeof options !== 'object' || options === null) throw new TypeError('subsite-kit: metricsHandler needs { token } or { open: true }');
  rejectUnknownMethodOptions(options, ['token', 'open'], 'metricsHandler');
  const { token, open } = options as { token?: unknown; open?: unknown };
  if (open !== true && (typeof token !== 'string' || token.length < MIN_TOKEN_LENGTH)) {
    throw new TypeError(`subsite-kit: metricsHandler: token must be a string of at least ${MIN_TOKEN_LENGTH} characters (or { open: true } on a listener of its own)`);
  }
  const expected = typeof token === 'string' ? digest(`Bearer ${token}`) : undefined;
  return (req, res, next) => {
    if (expected) {
      const offered = req.headers.authorization ?? '';
      if (!timingSafeEqual(digest(offered), expected)) {
        res.status(404).set('cache-control', 'no-store').type('text/plain').send('Not Found');
        return;
      }
    }
    registry.metrics().then(
      (text) => res.status(200).set('cache-control', 'no-store').type(registry.contentType).send(text),
      next,
    );
  };
}
