import type Provider from 'oidc-provider';
import { ProtocolHooks } from '../oidc/protocol-hooks.js';

/** The CSP of pages oidc-provider renders itself (errors, sign-out confirmation): no inline script, no framing. */
const PAGE_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/**
 * The security headers of the portal (helmet) for responses oidc-provider writes without
 * express in front of it. A handler that needs another CSP (the sync page) sets its own
 * after this runs.
 */
export function installProtocolHeaders(provider: Provider, secure: boolean): void {
  const headers: Record<string, string> = {
    'Content-Security-Policy': PAGE_CSP,
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'X-Content-Type-Options': 'nosniff',
    'Cross-Origin-Opener-Policy': 'same-origin',
    ...(secure ? { 'Strict-Transport-Security': 'max-age=31536000; includeSubDomains' } : {}),
  };
  // Straight onto the response (koa's `ctx.set(object)` goes through a setter call per header).
  const entries = Object.entries(headers);
  const hooks = ProtocolHooks.of(provider);
  hooks.before((ctx) => {
    const { res } = ctx;
    for (const [name, value] of entries) res.setHeader(name, value);
    return true;
  });
  // RFC 6749 §5.1 asks token answers for `Pragma: no-cache` beside `Cache-Control: no-store`;
  // oidc-provider sends only the latter (HTTP/1.0 caches are long gone, but the RFC says MUST).
  hooks.after(['token'], (ctx) => {
    ctx.res.setHeader('Pragma', 'no-cache');
  });
}
