import type { IncomingMessage } from 'node:http';

/**
 * Makes every request look as if it came to the configured public origin, so nothing
 * (oidc-provider's discovery, form actions and redirects; express's `req.protocol`,
 * `req.hostname`) can build a URL on a host or scheme the client chose.
 *
 * It runs on EVERY request, before any routing: oidc-provider matches routes without regard to
 * case (`/.WELL-KNOWN/openid-configuration`, `/SESSION/END`), and a pin that depends on a path
 * test is a pin an attacker can step around. `Host` becomes the issuer's, `X-Forwarded-Host`
 * is dropped, and behind a trusted proxy `X-Forwarded-Proto` becomes the issuer's scheme (the
 * issuer decides it; `X-Forwarded-For` is kept for the client address).
 */
export function originPin(issuer: string, trustProxy: boolean): (req: IncomingMessage) => void {
  const { host, protocol } = new URL(issuer);
  const scheme = protocol.slice(0, -1);
  return (req) => {
    req.headers.host = host;
    delete req.headers['x-forwarded-host'];
    if (trustProxy) req.headers['x-forwarded-proto'] = scheme;
    else delete req.headers['x-forwarded-proto'];
  };
}
