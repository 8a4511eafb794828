import type { Response } from 'express';
import { localeOf } from '../i18n/locale-middleware.js';
import type { SyncPlan } from '../sync/sync-page.js';
import type { Views } from '../views/views.js';

/**
 * Renders a portal page in the request's locale (`localeMiddleware`), with the no-store
 * header every portal page carries. The language switcher on a page read by GET comes back
 * to that page (`switchNext`); elsewhere it goes to the hub's start page.
 */
export function renderPage(res: Response, views: Views, template: string, context: Record<string, unknown> = {}, status = 200): void {
  const req = res.req;
  const switchNext = req?.method === 'GET' ? req.originalUrl : '/';
  res.status(status).type('html').send(views.render(template, { switchNext, ...context }, localeOf(res)));
}

/**
 * The sync page: one beacon per subsite, then on to `continueUrl`. Its CSP names only the
 * registered subsite origins; the waiting is done by a same-origin script (no inline JS).
 */
export function renderSyncPage(res: Response, views: Views, plan: SyncPlan, continueUrl: string, waitMs: number): void {
  res.setHeader('Content-Security-Policy', plan.csp);
  const html = views.render('hub/sync.njk', { switchNext: '/', plan, continueUrl, waitMs }, localeOf(res));
  // Not res.send: it would hash the whole page (500 KB with 1,000 subsites) for an ETag that a
  // no-store answer to a POST never uses. Encoded once, here, for its Content-Length.
  const body = Buffer.from(html);
  res.status(200).type('html').setHeader('Content-Length', body.length);
  res.end(body);
}
