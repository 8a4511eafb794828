import express, { Router, type RequestHandler } from 'express';
import { ForbiddenError, msg } from '../errors.js';
import { adminCsrf } from '../security/csrf.js';
import { isNavigation } from '../security/fetch-metadata.js';
import type { HubServices } from '../services.js';
import { adminAuditRoutes } from './admin-audit.js';
import { adminClientRoutes } from './admin-clients.js';
import { renderAdmin, requireAdmin } from './admin-context.js';
import { adminDeliveryRoutes } from './admin-deliveries.js';
import { adminErrors } from './admin-errors.js';
import { adminTwoStepRoutes } from './admin-two-step.js';
import { adminUcenterRoutes } from './admin-ucenter.js';
import { adminUserRoutes } from './admin-users.js';

/**
 * The console is opened as pages only (Fetch Metadata): its links and forms are navigations
 * (`Sec-Fetch-Mode: navigate`), and a `fetch()` or XMLHttpRequest of an admin page, which a
 * script running in the hub's origin (a sync page's `<script>` beacon) could read, is refused.
 * An attacker's review left such a script running on a user's sync page; when an admin signed in
 * in the same browser, it read the console's token and created an admin. A request without the
 * header (an older browser, a program) is taken as a page.
 */
const pagesOnly: RequestHandler = (req, _res, next) => {
  if (!isNavigation(req.get('sec-fetch-mode'))) throw new ForbiddenError(msg('errors:adminPagesOnly'));
  next();
};

/**
 * No window a hub page opened keeps a hold on an admin page: `noopener-allow-popups` puts the
 * console in a browsing context group of its own even when a same-origin page opened it, so a
 * script on that page cannot read it through `window.open`'s handle.
 */
const noOpener: RequestHandler = (_req, res, next) => {
  res.setHeader('Cross-Origin-Opener-Policy', 'noopener-allow-popups');
  next();
};

/**
 * The console's form bodies: longer than the portal's 32 KB, for a subsite's redirect URIs one per
 * line (a console review: 1,000 of them passed 32 KB and the save answered 413, the typing lost).
 * Read only once the request is known to come from an admin, so nobody else has more than
 * nothing read here. A form past this gets the 413 page.
 */
const adminForms = express.urlencoded({ extended: false, limit: '512kb', parameterLimit: 50 });

/**
 * The admin console under `/admin`: only for users with the admin role, CSRF on every form
 * (csrf-sync checks every method but GET/HEAD/OPTIONS), every action audited.
 */
export function adminRoutes(services: HubServices): Router {
  const router = Router();
  router.use('/admin', pagesOnly, requireAdmin(services), adminForms, adminCsrf.csrfSynchronisedProtection, noOpener);

  router.get('/admin', async (req, res) => {
    // The size of the set of user ids (SCARD): one store command whatever the number of users.
    // Before, every record was read, 500 per round trip: seconds at a forum's 300,000 members.
    const [userCount, clients, counts] = await Promise.all([services.users.count(), services.clients.list(), services.deliveries.counts()]);
    renderAdmin(req, res, services, 'index.njk', {
      section: 'home',
      userCount,
      clientCount: clients.filter((client) => !client.internal).length,
      counts,
    });
  });

  router.use(adminUserRoutes(services));
  router.use(adminTwoStepRoutes(services));
  router.use(adminClientRoutes(services));
  router.use(adminDeliveryRoutes(services));
  router.use(adminAuditRoutes(services));
  router.use(adminUcenterRoutes(services));
  router.use('/admin', adminErrors(services));
  return router;
}
