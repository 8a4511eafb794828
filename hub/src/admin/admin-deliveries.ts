import { Router } from 'express';
import type { DeliveryStatus } from '../delivery/delivery.js';
import type { HubServices } from '../services.js';
import { actorOf, field, renderAdmin } from './admin-context.js';

const STATUSES: DeliveryStatus[] = ['pending', 'failed', 'delivered'];

/** The delivery queue: what is pending, failed for good and delivered, with a retry button. */
export function adminDeliveryRoutes(services: HubServices): Router {
  const { deliveries, audit } = services;
  const router = Router();

  router.get('/admin/deliveries', async (req, res) => {
    const status = STATUSES.find((s) => s === req.query.status) ?? 'pending';
    const client = typeof req.query.client === 'string' && req.query.client.trim() !== '' ? req.query.client.trim() : undefined;
    const [items, counts] = await Promise.all([deliveries.list(status, undefined, client), deliveries.counts()]);
    const more = typeof req.query.more === 'string' ? req.query.more === '1' : undefined;
    renderAdmin(req, res, services, 'deliveries.njk', { section: 'deliveries', status, statuses: STATUSES, items, counts, client, more });
  });

  // Every pending (or failed) notice of one subsite due now: a subsite back from maintenance.
  router.post('/admin/deliveries/retry-subsite', async (req, res) => {
    const client = field(req, 'client');
    const status = field(req, 'status') === 'failed' ? 'failed' : 'pending';
    if (!client) {
      res.redirect(303, `/admin/deliveries?status=${status}`);
      return;
    }
    const { retried, more } = await deliveries.retryAllOf(client, status);
    await audit.record({ event: 'admin.delivery.retry', ...actorOf(req, res), client, detail: { status, count: retried, ...(more ? { more: true } : {}) } });
    res.redirect(303, `/admin/deliveries?status=pending&client=${encodeURIComponent(client)}&done=retried-subsite${more ? '&more=1' : ''}`);
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
