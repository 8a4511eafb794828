import type { Request } from 'express';
import type { KitContext } from './context.js';
import type { KitLogger, ResolvedOptions } from './options.js';
import { RateLimitedLog } from './rate-limited-log.js';

/**
 * Says in the log (at most once a minute) when the site is set up so that the hub's answers
 * cannot come back: `sso.router` mounted at another path than the one `redirectUri` puts the
 * kit's routes under. Only said, not refused: a proxy that strips a path prefix makes it
 * legitimate, and once a sign-in's answer has come back through this mount (its `state`
 * matched), that is proven: said once, then no more.
 */
export class MountCheck {
  readonly #basePath: string;
  readonly #expected: string;
  readonly #redirectUri: string;
  readonly #logger: KitLogger;
  readonly #log: RateLimitedLog;
  #cameBack = false;
  #seenElsewhere: string | undefined;

  constructor(options: Pick<ResolvedOptions, 'basePath' | 'redirectUri' | 'logger'>) {
    this.#basePath = options.basePath;
    this.#expected = options.basePath.toLowerCase();
    this.#redirectUri = options.redirectUri;
    this.#logger = options.logger;
    this.#log = new RateLimitedLog(options.logger);
  }

  #elsewhere(req: Request): boolean {
    return req.baseUrl !== this.#basePath && req.baseUrl.toLowerCase() !== this.#expected;
  }

  /** Every request passes here: the common case (mounted as configured) costs one comparison. */
  check(req: Request): void {
    if (this.#cameBack || !this.#elsewhere(req)) return;
    const mountedAt = req.baseUrl || '/';
    this.#seenElsewhere = mountedAt;
    const basePath = this.#basePath || '/';
    // The proxy that would make this right: one that strips the site's path (mounted at the
    // root), or one that maps the browser's path to this mount (e.g. '/' to '/auth').
    const proxy = mountedAt === '/' ? `strips '${basePath}'` : `maps the browser's '${basePath}' to '${mountedAt}'`;
    this.#log.warn(
      'mount', // one reason, whatever the path's letter case: one line a minute
      `subsite-kit: sso.router is mounted at '${mountedAt}' but redirectUri (${this.#redirectUri}) puts the kit's routes under '${basePath}', so the hub's answers go to a path the kit does not serve: ` +
        `mount it with app.use('${basePath}', sso.router), or change redirectUri (if a proxy in front of this server ${proxy}, this is expected, and said no more once a sign-in has come back)`,
    );
  }

  /** The other path `sso.router` was last seen mounted at, if any: for the "req.sso is not set" message. */
  seenElsewhere(): string | undefined {
    return this.#seenElsewhere;
  }

  /** A sign-in's answer (its state matched) reached the callback through this mount: the mount works as set up. */
  cameBack(req: Request): void {
    if (this.#cameBack || !this.#elsewhere(req)) return;
    this.#cameBack = true;
    this.#logger.warn(
      `subsite-kit: the hub's answer to redirectUri (${this.#redirectUri}) came back to sso.router mounted at '${req.baseUrl || '/'}': ` +
        `a proxy in front of this server maps '${this.#basePath || '/'}' there, as set up; the mount is not warned about again`,
    );
  }
}

/**
 * For the start of a sign-in: the browser will be sent back to `redirectUri`'s host; the
 * returned check says so (at most once a minute) when the request came to another.
 */
export function otherHostWarning(ctx: KitContext): (req: Request) => void {
  const expected = new URL(ctx.options.redirectUri).host.toLowerCase();
  const log = new RateLimitedLog(ctx.options.logger);
  return (req) => {
    // The host the browser used: X-Forwarded-Host from a proxy the app trusts ('trust proxy', as
    // express reads it; nginx's proxy_pass rewrites Host by default), else the Host header as sent
    // (express 4's req.host has no port, so neither is taken from express).
    const host = browserHost(req).toLowerCase();
    if (!host || host === expected) return;
    log.warn(
      'host', // one reason, not one per Host value a visitor sends: one line a minute
      `subsite-kit: a sign-in started at ${host}, but redirectUri sends the browser back to ${expected} (${ctx.options.redirectUri}); ` +
        'browse the site at the address of redirectUri, or register and set the redirectUri of this address (a proxy that rewrites Host makes this expected)',
    );
  };
}

/** The host (with its port) the browser asked for: see {@link otherHostWarning}. */
function browserHost(req: Request): string {
  const forwarded = req.get('x-forwarded-host');
  const trust = req.app.get('trust proxy fn') as ((address: string | undefined, hop: number) => boolean) | undefined;
  if (forwarded && trust?.(req.socket.remoteAddress, 0)) return forwarded.split(',', 1)[0]!.trim();
  return req.get('host') ?? '';
}
