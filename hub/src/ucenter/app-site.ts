import { getDomain } from 'tldts';

/**
 * The registrable part of a host name (its "site", by the Public Suffix List, through tldts);
 * an IP address, or a name with none, is its own.
 */
export function siteOf(host: string): string {
  const name = host.toLowerCase().replace(/\.$/, '');
  return getDomain(name, { allowPrivateDomains: true }) ?? name; // private entries too (github.io), as browsers use them
}

/**
 * True when a UCenter application's URL is another site than the hub's issuer: another
 * registrable domain, or another scheme (browsers count http and https as two sites). The
 * sync page's notes reach such an application as third-party requests: browsers that block
 * third-party cookies, and every browser for the cookie Discuz! sets without `SameSite`
 * (taken as `Lax`), keep no cookie from them, so sign-ins and sign-outs at the hub do not reach it.
 */
export function isCrossSiteApp(appUrl: string, issuer: string): boolean {
  try {
    const app = new URL(appUrl);
    const hub = new URL(issuer);
    return app.protocol !== hub.protocol || siteOf(app.hostname) !== siteOf(hub.hostname);
  } catch {
    return false;
  }
}
