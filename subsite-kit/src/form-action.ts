/**
 * Whether a site's Content-Security-Policy lets a form posted on one of its pages end at the hub.
 *
 * `POST /sso/logout` answers 303 to the hub's end-session endpoint, and browsers apply the
 * `form-action` directive of the page that posted the form to every redirect of the
 * submission: helmet's default policy (`form-action 'self'`) blocks the redirect, so the local
 * session ends while the hub session (and the other sites) stay signed in, and the page does not
 * change. The kit cannot see the policy of the page that posted the form, but a security
 * middleware mounted before `sso.router` sets the same one on `/sso/logout`'s own answer.
 */

/** Default ports of the schemes a hub can have. */
const DEFAULT_PORT: Record<string, string> = { 'http:': '80', 'https:': '443' };

/** The `form-action` source lists of every enforced policy in `header` (several headers, or a comma-joined one). */
function formActionSources(header: string | number | readonly string[] | undefined): string[][] {
  if (header === undefined || typeof header === 'number') return [];
  const policies = (typeof header === 'string' ? [header] : header).flatMap((value) => value.split(','));
  const lists: string[][] = [];
  for (const policy of policies) {
    for (const directive of policy.split(';')) {
      const [name, ...sources] = directive.trim().split(/\s+/);
      // The first form-action of a policy wins (CSP3 §2.2: later duplicates are ignored).
      if (name?.toLowerCase() === 'form-action') {
        lists.push(sources.map((source) => source.toLowerCase()));
        break;
      }
    }
  }
  return lists;
}

/** CSP3 "does url match expression": a simplified host-source / scheme-source match for an origin. */
function sourceAllows(source: string, target: URL, site: URL): boolean {
  if (source === '*') return target.protocol === 'http:' || target.protocol === 'https:';
  if (source === "'self'") return target.origin === site.origin || (site.protocol === 'http:' && target.protocol === 'https:' && target.host === site.host);
  if (source.startsWith("'")) return false; // 'none', 'unsafe-…', nonces: allow no URL
  const scheme = /^([a-z][a-z0-9+.-]*:)(\/\/)?/.exec(source);
  if (scheme && !scheme[2]) return scheme[1] === target.protocol || (scheme[1] === 'http:' && target.protocol === 'https:');
  const rest = scheme ? source.slice(scheme[0].length) : source;
  const sourceScheme = scheme?.[1] ?? site.protocol;
  if (!(sourceScheme === target.protocol || (sourceScheme === 'http:' && target.protocol === 'https:'))) return false;
  const match = /^(\*|(?:\*\.)?[^/:]+)(?::(\*|\d+))?/.exec(rest);
  if (!match) return false;
  const [, host = '', port] = match;
  const targetHost = target.hostname.toLowerCase();
  if (host === '*') {
    // any host
  } else if (host.startsWith('*.')) {
    if (!targetHost.endsWith(host.slice(1))) return false;
  } else if (host !== targetHost) {
    return false;
  }
  const targetPort = target.port || DEFAULT_PORT[target.protocol] || '';
  if (port === '*') return true;
  if (port !== undefined) return port === targetPort;
  // No port: the default port of the source's scheme (an http: source also allows https on 443).
  return targetPort === DEFAULT_PORT[sourceScheme] || (sourceScheme === 'http:' && targetPort === '443');
}

/**
 * The `form-action` value that blocks a form submission redirected to `target`, or undefined when
 * every enforced policy in `header` (a `Content-Security-Policy` response header) allows it.
 */
export function blockingFormAction(header: string | number | readonly string[] | undefined, target: string, siteOrigin: string): string | undefined {
  const targetUrl = new URL(target);
  const site = new URL(siteOrigin);
  for (const sources of formActionSources(header)) {
    if (!sources.some((source) => sourceAllows(source, targetUrl, site))) return `form-action ${sources.join(' ') || "'none'"}`;
  }
  return undefined;
}
