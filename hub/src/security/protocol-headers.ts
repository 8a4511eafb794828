import type Provider from 'oidc-provider';

/** The CSP of pages oidc-provider renders itself (errors, sign-out confirmation): no inline script, no framing. */
const PAGE_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/**
 * The security headers of the portal (helmet) for responses oidc-provider writes without
 * express in front of it. A handler that needs another CSP (the sync page) sets its own
 * after this runs.
 */
export function installProtocolHeaders(provider: Provider, secure: boolean): void {
  provider.use(async (ctx, next) => {
    ctx.set('Content-Security-Policy', PAGE_CSP);
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
    if (secure) ctx.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    await next();
  });
}
