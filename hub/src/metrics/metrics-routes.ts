import { timingSafeEqual, createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HubMetrics } from './hub-metrics.js';

function sameSecret(offered: string, expected: string): boolean {
  // Digests first: equal lengths for timingSafeEqual, and no early exit on the length.
  const a = createHash('sha256').update(offered).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The hub's security headers, for an answer that is never a page (no express, no helmet in front of it). */
const HEADERS: [string, string][] = [
  ['cache-control', 'no-store'],
  ['content-security-policy', "default-src 'none'; frame-ancestors 'none'"],
  ['x-content-type-options', 'nosniff'],
  ['x-frame-options', 'DENY'],
  ['referrer-policy', 'no-referrer'],
];

/**
 * `GET /metrics` in the Prometheus text format. On the public listener it needs
 * `Authorization: Bearer <METRICS_TOKEN>` (compared in constant time); without a token the
 * hub does not route the path here (its 404 page answers); on the metrics listener (`METRICS_PORT`, bound to `METRICS_HOST`, the
 * loopback by default) the bind address is the protection and no token is asked.
 */
export function metricsHandler(metrics: HubMetrics, token: string | undefined, { open = false } = {}) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    for (const [name, value] of HEADERS) res.setHeader(name, value);
    // The metrics listener answers /metrics only (a probe or scraper pointed at another path learns that it is wrong).
    if (open && ((req.url ?? '/').split('?', 1)[0] !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD'))) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found: the metrics are at GET /metrics\n');
      return;
    }
    if (!open) {
      if (!token) {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found\n');
        return;
      }
      const offered = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
      if (!offered || !sameSecret(offered, token)) {
        res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Bearer realm="metrics"' }).end('Unauthorized\n');
        return;
      }
    }
    try {
      const { contentType, body } = await metrics.exposition();
      res.writeHead(200, { 'content-type': contentType }).end(body);
    } catch {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' }).end('metrics unavailable\n');
    }
  };
}
