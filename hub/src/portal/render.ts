import { randomUUID } from 'node:crypto';
import type { Response } from 'express';
import { localeOf } from '../i18n/locale-middleware.js';
import { renderSyncTemplate, TAG_SEPARATOR, type SyncPlan } from '../sync/sync-page.js';
import type { Views } from '../views/views.js';
import { saveSession, takeSaveBeforeAnswer } from '../http/portal-session.js';
import { translator } from '../i18n/i18n.js';
import { STORE_RETRY_AFTER } from '../store/store.js';
import { switchNextOf } from './switch-next.js';

/**
 * Renders a portal page in the request's locale (`localeMiddleware`), with the no-store
 * header every portal page carries. The language switcher comes back to that page, or for a
 * form's answer to the page the form was on (`switchNextOf`).
 */
export function renderPage(res: Response, views: Views, template: string, context: Record<string, unknown> = {}, status = 200): void {
  const req = res.req;
  const switchNext = req ? switchNextOf(req.method, req.originalUrl) : '/';
  // "Back to sign-in": the site's sign-in page these pages were opened from (portal/sign-in-return.ts), else the hub's.
  const signInLink = typeof res.locals.signInLink === 'string' ? res.locals.signInLink : '/login';
  const html = views.render(template, { switchNext, signInLink, ...context }, localeOf(res));
  // A page whose form needs what this request put in the portal session (a new CSRF token)
  // waits for the session to be stored; if it cannot be, a 503 page answers
  // instead of a form that would be refused one hop later. Error pages (5xx) never wait.
  if (req && takeSaveBeforeAnswer(req) && status < 500) {
    saveSession(req)
      .then(
        () => {
          if (!res.headersSent) res.status(status).type('html').send(html);
        },
        () => {
          // Answered here, not through next(): this may run inside the error handler itself.
          if (res.headersSent) return;
          const locale = localeOf(res);
          const t = translator(locale);
          res.setHeader('Retry-After', STORE_RETRY_AFTER);
          res.status(503).type('html').send(views.render('hub/error.njk', { switchNext, title: t('errors:titles.unavailable'), description: t('errors:descriptions.unavailable') }, locale));
        },
      )
      .catch(() => res.destroy()); // rendering the 503 page failed: the connection ends, the process stays up
    return;
  }
  res.status(status).type('html').send(html);
}

/** Where the beacons go in the rendered page; nothing a page could otherwise contain. */
const BEACONS_MARK = `<!--beacons-${randomUUID()}-->`;
/** Beacon tags per chunk of the body: ~30 KB, small enough to stay out of V8's and malloc's large-object paths. */
const TAGS_PER_CHUNK = 64;

/** The beacon tags as the sync page sends them: chunks of {@link TAGS_PER_CHUNK}, each encoded on its own, together `syncMarkup(plan)`. */
export function tagChunks(tags: readonly string[]): Buffer[] {
  const chunks: Buffer[] = [];
  for (let start = 0; start < tags.length; start += TAGS_PER_CHUNK) {
    const part = tags.slice(start, start + TAGS_PER_CHUNK).join(TAG_SEPARATOR);
    const text = start + TAGS_PER_CHUNK < tags.length ? part + TAG_SEPARATOR : part;
    // Tags are ASCII (URLs as the URL serializer writes them, escaped client ids): copied as
    // one byte per character, which is their UTF-8, without the UTF-8 encoder (a fifth of the
    // chunks' encoding at 1,000 subsites). Its UTF-8 length equals its length only for ASCII.
    chunks.push(Buffer.byteLength(text) === text.length ? Buffer.from(text, 'latin1') : Buffer.from(text));
  }
  return chunks;
}

/**
 * The sync page: one beacon per subsite, then on to `continueUrl`. Its CSP names only the
 * origins that run script; the waiting is done by a same-origin script (no inline JS).
 *
 * With 1,000 subsites the page is ~0.5 MB: it is rendered around a mark and sent as the page's
 * head, the beacon tags in chunks of {@link TAGS_PER_CHUNK}, and its tail, each encoded on its
 * own. One 0.5 MB string (joined, flattened by the template, then encoded) cost three large
 * allocations per sign-in, each fresh memory to fault in (issue 14). Not res.send either: it
 * would hash the whole page for an ETag that a no-store answer to a POST never uses.
 */
export function renderSyncPage(res: Response, views: Views, plan: SyncPlan, continueUrl: string, waitMs: number): void {
  res.setHeader('Content-Security-Policy', plan.csp);
  const html = renderSyncTemplate(views, { act: plan.act, markup: BEACONS_MARK, continueUrl, waitMs }, localeOf(res));
  const at = html.indexOf(BEACONS_MARK);
  const chunks = [Buffer.from(html.slice(0, at)), ...tagChunks(plan.tags), Buffer.from(html.slice(at + BEACONS_MARK.length))];
  res.status(200).type('html').setHeader('Content-Length', chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  res.cork();
  for (const chunk of chunks.slice(0, -1)) res.write(chunk);
  res.end(chunks[chunks.length - 1]);
  res.uncork();
}
