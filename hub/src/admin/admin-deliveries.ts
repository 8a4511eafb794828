import { Router } from 'express';
import type { DeliveryStatus } from '../delivery/delivery.js';
import { shownDeliveryError } from '../delivery/delivery-errors.js';
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
    // One subsite's view says itself when it shows fewer than it has (it was read from the URL).
    const [listed, counts] = await Promise.all([client !== undefined ? deliveries.listOf(status, client) : deliveries.list(status).then((items) => ({ items, more: false })), deliveries.counts()]);
    const { more } = listed;
    // The hub's own reasons in the reader's language (the stored text stays English, as audited).
    const items = listed.items.map((item) => ({ ...item, errorShown: shownDeliveryError(item.lastError) }));
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
    // A press that made nothing due (no such items, or each being delivered right now) changes nothing: not audited.
    if (retried > 0) await audit.record({ event: 'admin.delivery.retry', ...actorOf(req, res), client, detail: { status, count: retried, ...(more ? { more: true } : {}) } });
    // Back where more of them wait (the failed tab, for failed ones beyond this press), else to
    // the pending tab, where those made due now are.
    // Only a press that made something due says so (before, one that made nothing due said the
    // notices were queued for delivery now: a delivery review).
    const done = retried > 0 ? 'retried-subsite' : 'retried-none';
    res.redirect(303, `/admin/deliveries?status=${more || retried === 0 ? status : 'pending'}&client=${encodeURIComponent(client)}&done=${done}`);
  });

  router.post('/admin/deliveries/:id/retry', async (req, res) => {
    const id = String(req.params.id);
    const item = await deliveries.get(id);
    const retried = item ? await deliveries.retryNow(id) : false;
    if (retried) {
      await audit.record({ event: 'admin.delivery.retry', ...actorOf(req, res), subject: item!.sub, client: item!.clientId, detail: { id, kind: item!.kind } });
    }
    if (retried) {
      res.redirect(303, `/admin/deliveries?status=pending&done=retried`);
      return;
    }
    // Not made due: say why, read again (delivered or gone since the list was opened, else leased
    // by a worker delivering it now). Before, all three said "being delivered right now".
    const now = await deliveries.get(id);
    const done = !now ? 'retry-gone' : now.status === 'delivered' ? 'retry-delivered' : 'retry-busy';
    res.redirect(303, `/admin/deliveries?status=${now?.status ?? item?.status ?? 'pending'}&done=${done}`);
  });

  return router;
}
