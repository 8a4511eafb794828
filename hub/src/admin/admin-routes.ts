import { Router } from 'express';
import { csrf } from '../security/csrf.js';
import type { HubServices } from '../services.js';
import { adminAuditRoutes } from './admin-audit.js';
import { adminClientRoutes } from './admin-clients.js';
import { renderAdmin, requireAdmin } from './admin-context.js';
import { adminDeliveryRoutes } from './admin-deliveries.js';
import { adminTwoStepRoutes } from './admin-two-step.js';
import { adminUcenterRoutes } from './admin-ucenter.js';
import { adminUserRoutes } from './admin-users.js';

/**
 * The admin console under `/admin`: only for users with the admin role, CSRF on every form
 * (csrf-sync checks every method but GET/HEAD/OPTIONS), every action audited.
 */
export function adminRoutes(services: HubServices): Router {
  const router = Router();
  router.use('/admin', requireAdmin(services), csrf.csrfSynchronisedProtection);

  router.get('/admin', async (req, res) => {
    // Counted a batch at a time (users.each): no one store command reads every user.
    const countUsers = async () => {
      let count = 0;
      for await (const _user of services.users.each()) count += 1;
      return count;
    };
    const [userCount, clients, counts] = await Promise.all([countUsers(), services.clients.list(), services.deliveries.counts()]);
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
  return router;
}
