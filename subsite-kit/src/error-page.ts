import type { Response } from 'express';
import { skipSessionSave } from './no-session-save.js';
import { escapeHtml } from './escape-html.js';
import { kitPageHtml } from './page-html.js';

/** What a kit page says. Every field is plain text (escaped here). */
export interface KitPage {
  status: number;
  title: string;
  /** What failed, in words a visitor understands. */
  message: string;
  /** Where "continue" goes (the site's public page); no automatic redirect, so nothing can loop. */
  continuePath: string;
  /** A "Sign in again" link (`/sso/login?next=…`) shown before "continue", for a page that needs a sign-in. */
  signInPath?: string;
}

/**
 * The kit's own HTML page for a sign-in that cannot go on (hub down, callback failed, user
 * refused): it states what failed and links to the site's public page. It never redirects by
 * itself, so a misconfiguration costs one hub round trip, not a redirect loop.
 */
export function sendKitPage(res: Response, page: KitPage): void {
  res.set('Cache-Control', 'no-store');
  if (page.status >= 500) skipSessionSave(res);
  if (page.status === 503) res.set('Retry-After', '5');
  res.status(page.status).type('html').send(kitPageHtml(
    page.title,
    `<h1>${escapeHtml(page.title)}</h1><p data-testid="kit-error-message">${escapeHtml(page.message)}</p>`
    + (page.signInPath === undefined ? '' : `<p><a href="${escapeHtml(page.signInPath)}" data-testid="kit-error-sign-in">Sign in again</a></p>`)
    + `<p><a href="${escapeHtml(page.continuePath)}" data-testid="kit-error-continue">Continue without signing in</a></p>`,
    ` data-kit-error="${page.status}"`,
  ));}
