import type { Response } from 'express';
import type { SyncPlan } from '../sync/sync-page.js';
import type { Views } from '../views/views.js';

/** Renders a portal page with the no-store header every portal page carries. */
export function renderPage(res: Response, views: Views, template: string, context: Record<string, unknown> = {}, status = 200): void {
  res.status(status).type('html').send(views.render(template, context));
}

/**
 * The sync page: one beacon per subsite, then on to `continueUrl`. Its CSP names only the
 * registered subsite origins; the waiting is done by a same-origin script (no inline JS).
 */
export function renderSyncPage(res: Response, views: Views, plan: SyncPlan, continueUrl: string, waitMs: number): void {
  res.setHeader('Content-Security-Policy', plan.csp);
  renderPage(res, views, 'hub/sync.njk', { plan, continueUrl, waitMs });
}
