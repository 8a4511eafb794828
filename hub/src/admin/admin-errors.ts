import type { ErrorRequestHandler } from 'express';
import { HubError, messageOf, TooManyAttemptsError } from '../errors.js';
import { translator } from '../i18n/i18n.js';
import { localeOf } from '../i18n/locale-middleware.js';
import type { HubServices } from '../services.js';
import { renderAdmin } from './admin-context.js';

/** The console's sections, by the first segment of the path after `/admin/`. */
const SECTIONS: Record<string, string> = { users: 'users', clients: 'clients', deliveries: 'deliveries', ucenter: 'ucenter', audit: 'audit' };
const NAV: Record<string, string> = { home: 'overview', users: 'users', clients: 'clients', deliveries: 'deliveries', ucenter: 'ucenter', audit: 'audit' };

/**
 * A refusal inside the console (a user or subsite gone since the page was opened, the own-account
 * guard, a value out of range) answers a page inside the console, with its navigation and a link
 * back to the section's list. Before, the portal's error page answered, whose only link led to the
 * portal's home (an exploratory review of the console: a stale tab's "Disable" after another admin
 * deleted the user). Anything else (a store outage, a bad CSRF token, a request before the admin
 * was known) goes on to the hub's one error handler.
 */
export function adminErrors(services: HubServices): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent || res.locals.admin === undefined || !(error instanceof HubError) || error.status >= 500) {
      next(error);
      return;
    }
    const t = translator(localeOf(res));
    const section = SECTIONS[req.originalUrl.split('?')[0]!.split('/')[2] ?? ''] ?? 'home';
    if (error instanceof TooManyAttemptsError) res.setHeader('Retry-After', String(error.retryAfterSeconds));
    renderAdmin(req, res, services, 'error.njk', {
      section,
      title: error.status === 429 ? t('errors:titles.tooMany') : t('errors:titles.didNotWork'),
      description: messageOf(error, t),
      back: { href: section === 'home' ? '/admin' : `/admin/${section}`, name: t(`admin:nav.${NAV[section]}`) },
    }, error.status);
  };
}
