import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { AuditLog } from '../audit/audit-log.js';
import type { DeliveryQueue } from '../delivery/delivery-queue.js';
import type { SyncPlan, SyncPlanner } from '../sync/sync-page.js';
import type { HubMetrics } from './hub-metrics.js';

/** Error codes are a fixed vocabulary (RFC 6749 §4.1.2.1, OIDC Core §3.1.2.6): safe as a label. */
const ERROR_CODE = /^[a-z_]{1,40}$/;

/** Reads what the queue gauges show, at scrape time: pending items and how overdue the oldest is. */
export function queueStats(deliveries: DeliveryQueue) {
  return async () => {
    const [{ pending }, [oldest]] = await Promise.all([deliveries.counts(), deliveries.list('pending', 1)]);
    const overdueMs = oldest ? Date.now() - oldest.nextAttemptAt : 0;
    return { depth: pending, oldestPendingSeconds: Math.max(0, overdueMs) / 1000 };
  };
}

/**
 * Feeds the metrics from what already happens: audit entries (sign-ins, tokens by grant
 * type, deliveries by outcome), oidc-provider's authorization events (silent `prompt=none`
 * checks: the kit's lazy verifications), and every sync page planned (beacons per action).
 */
export function installMetrics(deps: { metrics: HubMetrics; audit: AuditLog; provider: Provider; sync: SyncPlanner }): void {
  const { metrics, audit, provider, sync } = deps;
  audit.observe((entry) => {
    switch (entry.event) {
      case 'login.success': return metrics.signIn('succeeded');
      case 'login.failure': return metrics.signIn('failed');
      case 'login.throttled': return metrics.signIn('throttled');
      case 'token.issued': {
        const grant = String(entry.detail?.grant_type ?? '');
        return metrics.tokensIssued.inc({ grant_type: /^[a-z_:.-]{1,64}$/i.test(grant) ? grant : 'other' });
      }
      case 'delivery.delivered': return metrics.deliveries.inc({ outcome: 'delivered' });
      case 'delivery.retry': return metrics.deliveries.inc({ outcome: 'retry' });
      case 'delivery.failed': return metrics.deliveries.inc({ outcome: 'failed' });
      default: return undefined;
    }
  });
  const silent = (ctx: KoaContextWithOIDC) => String(ctx.oidc?.params?.prompt ?? '').split(' ').includes('none');
  provider.on('authorization.success', (ctx: KoaContextWithOIDC) => {
    if (silent(ctx)) metrics.lazyVerifications.inc({ outcome: 'code' });
  });
  provider.on('authorization.error', (ctx: KoaContextWithOIDC, error: { error?: string }) => {
    if (ctx.oidc && silent(ctx)) metrics.lazyVerifications.inc({ outcome: ERROR_CODE.test(error.error ?? '') ? error.error! : 'other' });
  });
  // Every sync page's beacons, counted where the page is planned.
  const count = <A extends unknown[]>(planner: (...args: A) => Promise<SyncPlan>) => async (...args: A) => {
    const planned = await planner(...args);
    metrics.syncBeacons.inc({ act: planned.act }, planned.beacons.length);
    return planned;
  };
  sync.forSignIn = count(sync.forSignIn.bind(sync));
  sync.forSignOut = count(sync.forSignOut.bind(sync));
  sync.forEverySubsite = count(sync.forEverySubsite.bind(sync));
}
