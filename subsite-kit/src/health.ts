import { Router } from 'express';
import type { KitContext } from './context.js';
import { refusedCredentials } from './store/refused-credentials.js';
import { rejectUnknownMethodOptions } from './unknown-options.js';

/** Options of `sso.healthRoutes()`. */
export interface HealthRoutesOptions {
  /**
   * Also count the hub in readiness: `/readyz` fetches the hub's discovery document (at
   * `hubInternalUrl`) and is 503 when it does not answer. Default: `false`: a site whose
   * public pages work without the hub should not be taken out of its balancer when the hub is.
   */
  checkHub?: boolean;
  /** How long each readiness check may take, in milliseconds. Default: `2000`. */
  timeoutMs?: number;
}

/**
 * `GET /healthz` (liveness: the process answers; touches nothing, so a Redis outage does not
 * get every replica restarted at once) and `GET /readyz` (readiness: the store answers within
 * `timeoutMs`, and the hub's discovery with `checkHub`; 503 with the reasons otherwise). Both
 * JSON, never cached, never touching the session.
 */
export function healthRoutes(ctx: KitContext, options: HealthRoutesOptions = {}): Router {
  if (typeof options !== 'object' || options === null) throw new TypeError('subsite-kit: healthRoutes options must be an object');
  rejectUnknownMethodOptions(options, ['checkHub', 'timeoutMs'], 'healthRoutes');
  const checkHub = options.checkHub ?? false;
  if (typeof checkHub !== 'boolean') throw new TypeError('subsite-kit: healthRoutes: checkHub must be a boolean');
  const timeoutMs = options.timeoutMs ?? 2_000;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new TypeError('subsite-kit: healthRoutes: timeoutMs must be a positive integer (milliseconds)');
  const discovery = `${ctx.options.hubInternalUrl}/.well-known/openid-configuration`;

  async function storeReason(): Promise<string | undefined> {
    try {
      await bounded(ctx.kitStore.members(ctx.keys.readinessProbe()), timeoutMs);
      return undefined;
    } catch {
      // A refused password says what to fix (the hub's /readyz does the same); never the password.
      const refusal = await refusedCredentials(ctx.options.redis, timeoutMs);
      if (refusal) return `store refuses this site's Redis credentials (Redis answers ${refusal}): check the password (and user) of the Redis client given to the kit as \`redis\` (in its URL, or its password / username options) against the Redis server's`;
      return 'store unreachable';
    }
  }

  async function hubReason(): Promise<string | undefined> {
    try {
      const response = await fetch(discovery, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
      const body = (await response.json()) as { issuer?: unknown };
      return response.ok && typeof body.issuer === 'string' ? undefined : `hub discovery answered ${response.status}`;
    } catch {
      return 'hub unreachable';
    }
  }

  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.set('cache-control', 'no-store').json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const reasons = (await Promise.all([storeReason(), checkHub ? hubReason() : undefined])).filter((reason): reason is string => reason !== undefined);
    const ready = reasons.length === 0;
    res.status(ready ? 200 : 503).set('cache-control', 'no-store').json({ ready, reasons });
  });
  return router;
}

function bounded<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
