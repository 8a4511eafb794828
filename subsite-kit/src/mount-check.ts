import type { Request } from 'express';
import type { KitContext } from './context.js';
import { RateLimitedLog } from './rate-limited-log.js';

/**
 * Says in the log (at most once a minute) when the site is set up so that the hub's answers
 * cannot come back: `sso.router` mounted at another path than the one `redirectUri` puts the
 * kit's routes under, or a sign-in started on a host other than `redirectUri`'s. Only said, not
 * refused: a proxy that strips a path prefix, or one that rewrites Host, makes both legitimate.
 */
export function mountCheck(ctx: KitContext): (req: Request) => void {
  const { basePath, redirectUri } = ctx.options;
  const expected = basePath.toLowerCase();
  const log = new RateLimitedLog(ctx.options.logger);
  return (req) => {
    // Every request passes here: the common case (mounted as configured) costs one comparison.
    if (req.baseUrl !== basePath && req.baseUrl.toLowerCase() !== expected) {
      const mountedAt = req.baseUrl || '/';
      log.warn(
        'mount', // one reason, whatever the path's letter case: one line a minute
        `subsite-kit: sso.router is mounted at '${mountedAt}' but redirectUri (${redirectUri}) puts the kit's routes under '${basePath || '/'}', so the hub's answers go to a path the kit does not serve: ` +
          `mount it with app.use('${basePath || '/'}', sso.router), or change redirectUri (if a proxy in front of this server strips '${basePath}', this is expected)`,
      );
    }
  };
}

/**
 * For the start of a sign-in: the browser will be sent back to `redirectUri`'s host; the
 * returned check says so (at most once a minute) when the request came to another.
 */
export function otherHostWarning(ctx: KitContext): (req: Request) => void {
  const expected = new URL(ctx.options.redirectUri).host.toLowerCase();
  const log = new RateLimitedLog(ctx.options.logger);
  return (req) => {
    // The Host header as sent (express 4's req.host has no port; a proxy that rewrites Host is the documented exception).
    const host = (req.get('host') ?? '').toLowerCase();
    if (!host || host === expected) return;
    log.warn(
      'host', // one reason, not one per Host value a visitor sends: one line a minute
      `subsite-kit: a sign-in started at ${host}, but redirectUri sends the browser back to ${expected} (${ctx.options.redirectUri}); ` +
        'browse the site at the address of redirectUri, or register and set the redirectUri of this address (a proxy that rewrites Host makes this expected)',
    );
  };
}
