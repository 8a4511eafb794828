/**
 * An authorization request to run again, as a path on the hub: its string parameters (as
 * oidc-provider stored them when it validated the request) on `path`, the authorization
 * endpoint's path. Never another origin.
 */
export function authorizationRequestPath(params: Record<string, unknown>, path = '/auth'): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (typeof value === 'string') query.set(name, value);
  return `${path}?${query.toString()}`;
}
