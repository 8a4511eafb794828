import { Router } from 'express';
import { msg, NotFoundError } from '../errors.js';
import { renderPage } from '../portal/render.js';
import { noStore } from '../security/headers.js';
import type { Views } from '../views/views.js';
import type { DevOutbox } from './dev-outbox.js';

/** Where the development outbox is shown. */
export const OUTBOX_PATH = '/dev/outbox';

// A link ends before white space, quotes, angle brackets and trailing punctuation (`… at http://x.`).
const LINK = /https?:\/\/[^\s<>"'）)，。]*[^\s<>"'）)，。.,;:!?]/g;

/** The http(s) links of a text part, in order, each once: what a reader of the mail would click. */
export function linksOf(text: string): string[] {
  return [...new Set(text.match(LINK) ?? [])];
}

/**
 * `/dev/outbox`: the mail a hub without SMTP kept (MAIL_DEV_OUTBOX), newest first, and each
 * message's text with its links. Mounted only when the outbox is on. The HTML part is served
 * on its own under a sandbox CSP (no script, an opaque origin), never inside a hub page.
 */
export function outboxRoutes(outbox: DevOutbox, views: Views): Router {
  const router = Router();
  router.use(OUTBOX_PATH, noStore);

  router.get(OUTBOX_PATH, async (_req, res) => {
    renderPage(res, views, 'hub/dev-outbox.njk', { messages: await outbox.list() });
  });

  router.get(`${OUTBOX_PATH}/:id`, async (req, res) => {
    const message = await outbox.find(req.params.id);
    if (!message) throw new NotFoundError(msg('errors:outboxGone'));
    renderPage(res, views, 'hub/dev-outbox-message.njk', { message, links: linksOf(message.text) });
  });

  router.get(`${OUTBOX_PATH}/:id/html`, async (req, res) => {
    const message = await outbox.find(req.params.id);
    if (!message) throw new NotFoundError(msg('errors:outboxGone'));
    res.setHeader('Content-Security-Policy', "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:");
    res.type('html').send(message.html);
  });
  return router;
}
