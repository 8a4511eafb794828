import { Router } from 'express';
import type { DeliveryStatus } from '../delivery/delivery.js';
import type { HubServices } from '../services.js';
import { actorOf, renderAdmin } from './admin-context.js';

const STATUSES: DeliveryStatus[] = ['pending', 'failed', 'delivered'];

/** The delivery queue: what is pending, failed for good and delivered, with a retry button. */
export function adminDeliveryRoutes(services: HubServices): Router {
  const { deliveries, audit } = services;
  const router = Router();

  router.get('/admin/deliveries', async (req, res) => {
    const status = STATUSES.find((s) => s === req.query.status) ?? 'pending';
    const [items, counts] = await Promise.all([deliveries.list(status), deliveries.counts()]);
    renderAdmin(req, res, services, 'deliveries.njk', { section: 'deliveries', status, statuses: STATUSES, items, counts });
  });

  router.post('/admin/deliveries/:id/retry', async (req, res) => {
    const id = String(req.params.id);
    const item = await deliveries.get(id);
    const retried = item ? await deliveries.retryNow(id) : false;
    if (retried) {
      await audit.record({ event: 'admin.delivery.retry', ...actorOf(req, res), subject: item!.sub, client: item!.clientId, detail: { id, kind: item!.kind } });
    }
    res.redirect(303, `/admin/deliveries?status=${item?.status ?? 'pending'}&done=${retried ? 'retried' : 'retry-busy'}`);
  });

  return router;
}
