import type { Request } from 'express';
import type { KitContext } from './context.js';
import { SiteMisconfigured } from './errors.js';

/**
 * With `secureCookies` the session cookie is `Secure`, and express-session silently does not
 * set it on a request Express sees as plain http (`req.secure` false): a site behind a TLS
 * proxy without `trust proxy` would send every sign-in round the hub and back, forever, with
 * nothing in its log. The sign-in routes refuse such a request instead, saying what to change.
 */
export function requireSecureTransport(ctx: KitContext, req: Request): void {
  const refused = insecureTransport(ctx, req);
  if (refused) throw refused;
}

/**
 * The refusal {@link requireSecureTransport} throws, or `undefined` when the request may sign in.
 * The silent check (lazyLogin) logs it and carries on anonymous instead: a page view must not fail.
 */
export function insecureTransport(ctx: KitContext, req: Request): SiteMisconfigured | undefined {
  if (!ctx.options.secureCookies || req.secure) return undefined;
  // secureCookies defaults to on for an https redirectUri; on for an http one, it was set so (an
  // .env copied from production): no proxy setting makes that work, so say so first.
  const redirectUri = ctx.options.redirectUri;
  const why = redirectUri.startsWith('http:')
    ? `set to true, while redirectUri ${redirectUri} is http: the browser comes back to it over plain http; make redirectUri https, or pass secureCookies: false`
    : 'an https redirectUri';
  return new SiteMisconfigured(
    `secureCookies is on (${why}) but Express sees this request as plain http (req.secure is false), so the browser would never get the session cookie: ${whyPlainHttp(req)}; for plain-http development, pass secureCookies: false`,
  );
}

/**
 * Which half of "behind a TLS proxy" is missing, from what this request carries: Express takes
 * https from X-Forwarded-Proto only when `trust proxy` trusts the peer that sent it. A site that
 * had set `trust proxy` behind an nginx that sends no X-Forwarded-Proto (nginx sends none unless
 * told) was told to set `trust proxy`. The header's value is named only when it is http or https.
 */
function whyPlainHttp(req: Request): string {
  const trusts = req.app.get('trust proxy fn') as ((address: string | undefined, hop: number) => boolean) | undefined;
  const peer = req.socket?.remoteAddress;
  const peerTrusted = typeof trusts === 'function' && trusts(peer, 0);
  const forwarded = req.get('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase();
  if (!peerTrusted) {
    const setting = req.app.get('trust proxy') as unknown;
    return setting === false || setting === undefined
      ? "behind a TLS proxy, call app.set('trust proxy', 1) (or the proxy's address)"
      : `behind a TLS proxy, make app.set('trust proxy', …) trust it: it is set, but not to this request's peer (${peer ?? 'unknown'}), so its X-Forwarded-Proto is ignored`;
  }
  if (forwarded === undefined || forwarded === '') {
    return "Express trusts the proxy (trust proxy is set) but the proxy sends no X-Forwarded-Proto, so nothing says the browser used https: have the proxy send it (nginx: proxy_set_header X-Forwarded-Proto $scheme; Apache: RequestHeader set X-Forwarded-Proto https)";
  }
  if (forwarded === 'http') {
    return 'the trusted proxy says the browser came over plain http (X-Forwarded-Proto: http): browse the site over https, as redirectUri does (redirect http to https at the proxy)';
  }
  return 'the trusted proxy sends an X-Forwarded-Proto that is not https: have it send its scheme (nginx: proxy_set_header X-Forwarded-Proto $scheme)';
}
