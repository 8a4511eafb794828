import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../logger.js';
import { routeOf, type HubMetrics } from '../metrics/hub-metrics.js';

const PROBES = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * One structured line per request once it is answered (`LOG_LEVEL=info`), and its count and
 * latency in the metrics. The line holds the method, the route label (not the raw path, whose
 * query may carry a code, a token or a `client_secret`), the status, the time taken and the
 * request id that the request's audit entries carry. Never a header, a query or a body.
 */
export function observeRequest(req: IncomingMessage, res: ServerResponse, requestId: string, logger: Logger, metrics: HubMetrics): void {
  const started = process.hrtime.bigint();
  const route = routeOf(req.url);
  const method = req.method ?? 'GET';
  // 'close' comes once per response, answered (after 'finish') or cut off: one listener, not two,
  // and `on`, not `once` (Node emits a response's 'close' at most once; `once` wraps the listener
  // and removes it again on every request).
  res.on('close', () => {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    // A connection closed before an answer is logged as 499 (as nginx does).
    const status = res.writableFinished ? String(res.statusCode) : '499';
    const labels = { route, method, status };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, seconds);
    const line = { requestId, method, route, status: Number(status), ms: Math.round(seconds * 1000) };
    // Probes come every few seconds: their lines only at debug level.
    if (PROBES.has(route)) logger.debug('request', line);
    else logger.info('request', line);
  });
}
