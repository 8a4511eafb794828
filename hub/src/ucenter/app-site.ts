import { isIP } from 'node:net';

/**
 * Second-level labels under which names are registered three labels deep (example.co.uk,
 * example.com.cn): enough to tell a forum on another domain than the hub's, not a public
 * suffix list.
 */
const REGISTRY_LABELS = new Set(['co', 'com', 'net', 'org', 'edu', 'gov', 'ac', 'or', 'ne', 'go']);

/** The registrable part of a host name, as far as this can tell it; an IP address is its own. */
export function siteOf(host: string): string {
  const name = host.toLowerCase().replace(/\.$/, '');
  if (isIP(name) || name.startsWith('[')) return name;
  const labels = name.split('.');
  const keep = labels.length >= 3 && labels.at(-1)!.length === 2 && REGISTRY_LABELS.has(labels.at(-2)!) ? 3 : 2;
  return labels.slice(-keep).join('.');
}

/**
 * True when a UCenter application's URL looks like another site than the hub's issuer. The
 * sync page's notes reach such an application as third-party requests: browsers that block
 * third-party cookies, and every browser for the cookie Discuz! sets without `SameSite`
 * (taken as `Lax`), keep no cookie from them, so sign-ins and sign-outs at the hub do not reach it.
 */
export function isCrossSiteApp(appUrl: string, issuer: string): boolean {
  try {
    return siteOf(new URL(appUrl).hostname) !== siteOf(new URL(issuer).hostname);
  } catch {
    return false;
  }
}
